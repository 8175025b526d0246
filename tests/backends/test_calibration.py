"""Calibration crops: the inference crop of training, deterministic, with a marked fallback."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.backends.calibration import Calibration, as_calibration, calibration_set, crop_points, random_fallback


def test_fallback_is_deterministic_and_marked() -> None:
    a, b = random_fallback(96, 4, seed=3), random_fallback(96, 4, seed=3)
    assert a.images.shape == (4, 3, 96, 96) and a.images.dtype == np.float32
    assert np.array_equal(a.images, b.images) and a.landmarks is None
    assert a.source.startswith("random-fallback") and a.images.min() >= -1 and a.images.max() <= 1
    assert a.describe() == {"source": a.source, "images": 4, "seed": 3, "labelled": False}


def test_renderer_failure_falls_back(monkeypatch) -> None:
    import zoo.backends.calibration as cal

    def broken(*_a, **_k):
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(cal, "_rendered", broken)
    c = calibration_set(96, 3)
    assert c.source.startswith("random-fallback") and "renderer broke" in c.source


def test_default_set_is_labelled_crops() -> None:
    c = calibration_set(96, 3)
    assert c.images.shape == (3, 3, 96, 96)
    if c.source == "renderer":
        assert c.landmarks.shape == (3, 70, 2)
        assert np.abs(c.landmarks).max() < 0.5  # the 1.5x crop keeps every point inside
        assert np.array_equal(calibration_set(96, 3).images, c.images)


def test_crop_points_puts_landmarks_in_unit_square() -> None:
    image = np.zeros((200, 300, 3), np.uint8)
    pts = np.array([[100.0, 50.0], [160.0, 50.0], [130.0, 140.0]])
    crop, units = crop_points(image, pts, 96)
    assert crop.shape == (3, 96, 96)
    side = 1.5 * 90  # bbox 60 x 90 made square and scaled 1.5x
    np.testing.assert_allclose(units[2, 1], (140 - (95 - side / 2)) / side - 0.5, atol=1e-6)


def test_as_calibration_checks_shape() -> None:
    arr = np.zeros((2, 3, 96, 96), np.float32)
    assert isinstance(as_calibration(arr, 96), Calibration) and as_calibration(arr, 96).source == "given"
    with pytest.raises(ValueError, match=r"\[N,3,112,112\]"):
        as_calibration(arr, 112)


def test_rendered_batch_is_kept_on_disk_per_render_version(monkeypatch, tmp_path) -> None:
    """The second process (here: a cleared in-memory cache) reads the crops back instead of rendering."""
    import zoo.backends.calibration as cal
    from zoo.synth import RENDER_VERSION

    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    cal._rendered.cache_clear()
    first = cal._rendered(64, 2, 5)
    saved = list((tmp_path / "calibration").glob("*.npz"))
    assert [p.name for p in saved] == [f"v{RENDER_VERSION}-64px-2-seed5.npz"]

    def no_render(*_a):
        raise AssertionError("rendered again although the batch is on disk")

    monkeypatch.setattr(cal, "_render", no_render)
    cal._rendered.cache_clear()
    again = cal._rendered(64, 2, 5)
    assert np.array_equal(again[0], first[0]) and np.array_equal(again[1], first[1])
    saved[0].write_bytes(b"not an npz")  # a damaged file is rendered again, not an error
    monkeypatch.undo()
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    cal._rendered.cache_clear()
    assert np.array_equal(cal._rendered(64, 2, 5)[0], first[0])
    cal._rendered.cache_clear()
