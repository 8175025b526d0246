"""``zoo adapt`` end to end on rendered faces labelled in 5- and 98-point conventions, and its bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from zoo.adapt import AdaptError
from zoo.adapt.api import adapt

sys.path.insert(0, str(Path(__file__).parent))
from test_adapt_fit import convention  # noqa: E402

MODEL = "lw-relu6-affine-cls"  # shipped weights, 96 px: the cheapest trained network


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def renders() -> list[tuple[np.ndarray, np.ndarray]]:
    from zoo.synth.generate import render_face

    rng = np.random.default_rng(3)
    return [render_face(rng, 128)[:2] for _ in range(12)]


def write_dataset(folder: Path, renders: list, k: int, edit=None) -> Path:
    """PNG + 300-W .pts (1-based) per face in ``k``-point labels; ``edit(i, points)`` may spoil one."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, (image, landmarks) in enumerate(renders):
        points = convention(k) @ np.asarray(landmarks, np.float64)
        if edit is not None:
            points = edit(i, points)
        name = f"face{i:02d}.png"
        cv2.imwrite(str(folder / name), image[:, :, ::-1])
        body = "\n".join(f"{x + 1:.3f} {y + 1:.3f}" for x, y in points)
        (folder / f"face{i:02d}.pts").write_text(f"version: 1\nn_points: {len(points)}\n{{\n{body}\n}}\n")
        names.append(name)
    (folder / "faces.yaml").write_text("base_path: .\ntest: [" + ", ".join(names) + "]\n")
    return folder / "faces.yaml"


@pytest.mark.parametrize("k", [5, 98])
def test_adapts_to_any_point_count(tmp_path: Path, renders: list, k: int) -> None:
    import torch

    from zoo.checkpoints.checkpoint import load_checkpoint

    data = write_dataset(tmp_path / "data", renders, k)
    out = tmp_path / "adapted.pt"
    result = adapt(MODEL, data, out, k=3, crop="jitter", backend="torch")
    info = result.info
    assert info["points"] == k and info["faces"] == 12 and info["crops"] == {"jitter": 12}
    assert np.isfinite(info["cv_nme"]) and info["cv_nme_before"] is None  # not the model's own points: no "before"
    assert [f.fit + f.scored for f in result.folds] == [12, 12, 12]
    ckpt = load_checkpoint(out)
    card = ckpt.meta["adaptation"]
    assert card["convention"].startswith(f"{k} points") and card["faces"] == 12 and card["cv_nme"] == info["cv_nme"]
    net = ckpt.build()
    assert net.spec.num_points == k and ckpt.spec.num_points == 70  # the network rebuilds from the base spec
    with torch.no_grad():
        landmarks = net(torch.zeros(1, 3, 96, 96))["landmarks"]
    assert landmarks.shape == (1, k, 2)


def test_mixed_point_counts_are_one_line(tmp_path: Path, renders: list) -> None:
    data = write_dataset(tmp_path / "d", renders, 98)
    (tmp_path / "d" / "face04.pts").write_text("version: 1\nn_points: 2\n{\n1 1\n2 2\n}\n")
    with pytest.raises(AdaptError, match=r"face04\.png: 2 points where 11 other faces") as e:
        adapt(MODEL, data, tmp_path / "out.pt", k=3, crop="jitter", backend="torch")
    assert "\n" not in str(e.value) and not (tmp_path / "out.pt").exists()


@pytest.mark.parametrize(("spoil", "message"), [
    (lambda i, p: np.where(i == 2, np.nan, p), r"face02\.pts: 5 point\(s\) are NaN or infinite"),
    (lambda i, p: p + (500.0 if i == 3 else 0.0), r"face03\.png: landmarks outside the 128x128 image"),
])
def test_bad_points_are_one_line(tmp_path: Path, renders: list, spoil, message: str) -> None:
    data = write_dataset(tmp_path / "d", renders, 5, spoil)
    with pytest.raises(AdaptError, match=message) as e:
        adapt(MODEL, data, tmp_path / "out.pt", k=3, crop="jitter", backend="torch")
    assert "\n" not in str(e.value)


def test_too_few_faces_is_said_before_any_model_runs(tmp_path: Path, renders: list) -> None:
    data = write_dataset(tmp_path / "d", renders[:6], 5)
    with pytest.raises(AdaptError, match="6 labelled face.s. are too few for 5-fold"):
        adapt("no-such-model", data, tmp_path / "out.pt", k=5)


def test_a_file_that_is_no_model_is_one_line(tmp_path: Path, renders: list) -> None:
    data = write_dataset(tmp_path / "d", renders, 5)
    junk = tmp_path / "model.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(AdaptError, match="model.pt is not a zoo checkpoint") as e:
        adapt(str(junk), data, tmp_path / "out.pt", k=3, crop="jitter", backend="torch")
    assert "\n" not in str(e.value)


def test_an_adapted_checkpoint_is_not_adapted_again(tmp_path: Path, renders: list) -> None:
    data = write_dataset(tmp_path / "d", renders, 5)
    first = tmp_path / "first.pt"
    adapt(MODEL, data, first, k=3, crop="jitter", backend="torch")
    with pytest.raises(AdaptError, match="already adapted"):
        adapt(str(first), data, tmp_path / "second.pt", k=3, crop="jitter", backend="torch")


def test_a_crash_while_writing_leaves_nothing(tmp_path: Path, renders: list, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    data = write_dataset(tmp_path / "d", renders, 5)
    out = tmp_path / "out" / "adapted.pt"

    def half_then_fail(obj, f, *a, **kw):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        adapt(MODEL, data, out, k=3, crop="jitter", backend="torch")
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_predict_crops_and_poses_from_the_models_own_points(tmp_path: Path, renders: list) -> None:
    """A 5-point convention neither outlines a face nor fits the 3D mean face: predict re-crops and
    solves head pose from the network's own points, which the adapted network still outputs."""
    from zoo.predict import Predictor

    out = tmp_path / "adapted.pt"
    adapt(MODEL, write_dataset(tmp_path / "d", renders, 5), out, k=3, crop="jitter", backend="torch")
    image, landmarks = renders[0]
    box = np.concatenate([landmarks.min(0), landmarks.max(0)])
    adapted = Predictor.from_spec(out, backend="torch").predict(image, box, refine=1)
    plain = Predictor.from_spec(MODEL, backend="torch").predict(image, box, refine=1)
    assert adapted.landmarks.shape == (5, 2)
    np.testing.assert_allclose(adapted.box, plain.box, atol=1e-3)  # the same re-crop as the unadapted network
    assert adapted.pose is not None and plain.pose is not None
    assert abs(adapted.pose.yaw - plain.pose.yaw) < 1e-3


def test_the_package_is_the_python_api(tmp_path: Path, renders: list) -> None:
    """``zoo.adapt(...)`` runs the command's whole path; without ``out`` it only cross-validates."""
    import zoo.adapt
    from zoo.errors import ZooError

    result = zoo.adapt(MODEL, write_dataset(tmp_path / "d", renders, 68), None, k=3, crop="jitter", backend="torch")
    assert result.out is None and result.info["cv_nme_before"] is not None and len(result.folds) == 3
    assert [name for name, _, _ in result.parts][-1] == "all" and issubclass(AdaptError, ZooError)
