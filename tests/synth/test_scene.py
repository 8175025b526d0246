"""The scene stage's shortcuts against the plain numpy / OpenCV statements they replace."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from zoo.synth import scene as sc
from zoo.synth.scene_kernels import cast_clip, composite_into, cubic_taps, modulated_gradient, noisy_to_u8, upsample_cubic

#: Two code paths computing the same float64 formula (a hand-rolled draw against numpy's own, numba
#: against numpy) may differ in the last bits with FMA contraction or SIMD width: the claim is "the same
#: draws", so floats are compared to a few ulp, never bit for bit.
SAME_DRAW = {"rtol": 1e-12, "atol": 0}
#: Float32 images in [0, 1]: agreeing to 1e-6 is 1/4000 of one 8-bit grey level.
GREY_ATOL = 1e-6


def _rngs(seed: int, buffered: bool) -> tuple[np.random.Generator, np.random.Generator]:
    """Two equal generators; ``buffered``: after a small-range integer draw, numpy holds half a 64-bit word."""
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    if buffered:
        a.integers(3, 9), b.integers(3, 9)
    return a, b


@pytest.mark.parametrize("buffered", [False, True])
def test_scalar_draw_helpers_take_the_same_numbers_as_numpy(buffered: bool) -> None:
    a, b = _rngs(1, buffered)
    for _ in range(50):
        assert sc._u(a, 0.3, 1.6) == pytest.approx(b.uniform(0.3, 1.6), rel=SAME_DRAW["rtol"], abs=0)
        np.testing.assert_allclose(sc._us(a, -0.2, 1.2, 2), b.uniform(-0.2, 1.2, 2), **SAME_DRAW)
        assert (0.0, 0.4, 1.0, 2.0)[sc._pick(a, sc._BLUR_CDF)] == b.choice([0.0, 0.4, 1.0, 2.0], p=[0.25, 0.3, 0.3, 0.15])
    # _muted: the historical formula with rng.uniform calls
    grey = b.uniform(0.05, 0.95)
    hue = b.uniform(-1, 1, 3)
    want = np.clip(grey + hue * b.uniform(0.0, 0.25) * min(grey, 1 - grey) * 2, 0, 1)
    np.testing.assert_allclose(sc._muted(a), want, **SAME_DRAW)
    assert a.random() == b.random()  # the same stream position: the generators' state, not arithmetic


@pytest.mark.parametrize("buffered", [False, True])
@pytest.mark.parametrize("n", [12, 13])
def test_noise_words_match_numpy_float32_and_leave_the_same_state(buffered: bool, n: int) -> None:
    a, b = _rngs(2, buffered)
    img = np.random.default_rng(3).uniform(-0.1, 1.1, n).astype(np.float32)
    amp = np.float32(0.1)
    words, first = sc._float32_words(a, n)
    got = np.empty(n, np.uint8)
    noisy_to_u8(img, words, first, amp, got)
    noise = b.random(n, dtype=np.float32)
    noise -= np.float32(0.5)
    noise *= amp
    want = cv2.convertScaleAbs(np.clip(img + noise, 0, 1), alpha=255.0).ravel()
    # The same noise words; a float32 sum that lands within an ulp of x.5 may round either way.
    assert np.abs(got.astype(np.int16) - want).max() <= 1
    assert a.integers(0, 1000) == b.integers(0, 1000) and a.random() == b.random()  # 32-bit buffer and stream


@pytest.mark.parametrize(("cells", "size", "ch"), [(3, 128, 1), (7, 128, 3), (40, 256, 1)])
def test_upsample_cubic_is_opencv_inter_cubic(cells: int, size: int, ch: int) -> None:
    small = np.random.default_rng(cells).standard_normal((cells, cells, ch)).astype(np.float32)
    idx, w = cubic_taps(cells, size)
    want = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC).reshape(size, size, ch)
    np.testing.assert_allclose(upsample_cubic(small, idx, w, idx, w), want, atol=2e-6)


def test_modulated_gradient_is_the_numpy_formula() -> None:
    r = np.random.default_rng(4)
    grad, lum, add = (r.random((9, 7)).astype(np.float32) for _ in range(3))
    tint = r.standard_normal((9, 7, 3)).astype(np.float32)
    base, other = r.random(3).astype(np.float32), r.random(3).astype(np.float32)
    a1, a2, a3 = np.float32(0.2), np.float32(0.05), np.float32(0.08)
    want = (base * (1 - grad[..., None]) + other * grad[..., None]) * (1 + a1 * lum[..., None]) * (1 + a2 * tint)
    want += a3 * add[..., None]
    np.testing.assert_allclose(modulated_gradient(grad, base, other, lum, a1, tint, a2, add, a3), want, atol=1e-6)


def test_blend_into_writes_through_a_view() -> None:
    r = np.random.default_rng(5)
    img = r.random((10, 12, 3)).astype(np.float32)
    alpha = r.random((4, 5)).astype(np.float32)
    alpha[0, 0] = 0
    shade = r.random((4, 5)).astype(np.float32)
    colour = r.random(3).astype(np.float32)
    want = img.copy()
    want[2:6, 3:8] = want[2:6, 3:8] * (1 - alpha[..., None]) + alpha[..., None] * shade[..., None] * colour
    composite_into(img[2:6, 3:8], alpha, shade, colour)
    np.testing.assert_allclose(img, want, atol=1e-6)


def test_cast_clip_is_cv2_multiply_then_clip() -> None:
    img = np.random.default_rng(6).uniform(-0.2, 1.2, (6, 5, 3)).astype(np.float32)
    gain = np.array([1.03, 0.97, 1.01])
    want = np.clip(cv2.multiply(img, (*gain.tolist(), 0.0)), 0, 1)
    # OpenCV 5.1 multiplies in float32 where 5.0 rounded from float64, and the kernel's FMA/SIMD
    # choices vary by CPU: the outputs agree to a tiny fraction of a grey level, not bit for bit.
    np.testing.assert_allclose(cast_clip(img, gain), want, rtol=0, atol=GREY_ATOL)


def _shade_blob_full_image(img: np.ndarray, mask: np.ndarray, colour: np.ndarray, rng: np.random.Generator) -> None:
    """The historical whole-image version of ``_shade_blob``."""
    h, w = mask.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    grad = 0.75 + 0.35 * ((np.cos(ang) * xx + np.sin(ang) * yy) / max(h, w))
    rim = cv2.GaussianBlur(cv2.erode(mask, np.ones((5, 5), np.uint8)).astype(np.float32), (0, 0), 2.0)
    noise = rng.standard_normal((40, 40, 1)).astype(np.float32)
    noise = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)[..., None]
    col = colour[None, None] * (grad * (0.6 + 0.4 * rim))[..., None] * (1 + 0.05 * noise)
    a = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.7)[..., None]
    img *= 1 - a
    img += a * col


@pytest.mark.parametrize("where", [(40, 50), (3, 60)])  # inside, and touching the image border
def test_shade_blob_box_equals_the_whole_image_version(where: tuple[int, int]) -> None:
    img = np.random.default_rng(7).random((96, 96, 3)).astype(np.float32)
    mask = np.zeros((96, 96), np.uint8)
    cv2.ellipse(mask, where, (14, 9), 30.0, 0, 360, 1, -1)
    colour = np.array([0.8, 0.5, 0.3])
    want = img.copy()
    _shade_blob_full_image(want, mask, colour, np.random.default_rng(8))
    sc._shade_blob(img, mask, colour, np.random.default_rng(8))
    np.testing.assert_allclose(img, want, atol=2e-5)


def test_centroid_is_the_mean_of_nonzero_coordinates() -> None:
    mask = (np.random.default_rng(9).random((31, 40)) < 0.3).astype(np.uint8)
    ys, xs = np.nonzero(mask)
    np.testing.assert_allclose(sc._centroid(mask), np.array([xs.mean(), ys.mean()]), **SAME_DRAW)


def test_scene_stages_are_deterministic_and_keep_types() -> None:
    def run(seed: int) -> tuple[np.ndarray, np.ndarray, dict, list[str]]:
        bg = sc.background(np.random.default_rng([seed, 1]), 128)
        img = bg.copy()
        hair = np.zeros((128, 128), bool)
        cv2.circle(hair.view(np.uint8), (64, 40), 30, 1, -1)
        sc.flyaway_strands(img, hair, np.random.default_rng([seed, 2]))
        pts = np.random.default_rng([seed, 3]).uniform(30, 98, (70, 2))
        names = sc.occluders(img, np.random.default_rng([seed, 3]), pts, np.array([0.8, 0.6, 0.5]))
        out, info = sc.camera_effects(img, np.random.default_rng([seed, 4]))
        return bg, out, info, names

    for seed in range(6):
        bg, out, info, names = run(seed)
        assert bg.dtype == np.float32 and bg.shape == (128, 128, 3) and bg.min() >= 0 and bg.max() <= 1
        assert out.dtype == np.uint8 and out.shape == (128, 128, 3) and out.flags.c_contiguous
        assert 1 <= len(names) <= 2
        bg2, out2, info2, names2 = run(seed)
        assert np.array_equal(bg, bg2) and np.array_equal(out, out2) and info == info2 and names == names2
