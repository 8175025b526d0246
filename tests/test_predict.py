"""zoo.predict: the crop is training's, the way back to image pixels is exact, and bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from tests.backends.conftest import one_line_error
from zoo.data.dataset import crop_box
from zoo.predict import Predictor, box_to_crop, crop_to_image

VARIANT = "lw-relu6-affine-cls"  # shipped weights: zoo predict refuses an architecture without trained weights


class FakeRuntime:
    """Returns fixed crop coordinates, or the brightest blob's centroid in the crop."""

    input_size = 96
    output_names = ("landmarks", "face_score")
    manifest = {"backend": "fake", "precision": "fp32"}

    def __init__(self, units: np.ndarray | None = None) -> None:
        self.units = units
        self.batches: list[np.ndarray] = []

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        self.batches.append(batch)
        if self.units is not None:
            pts = self.units
        else:  # centroid of the bright blob, in crop pixel coordinates -> units
            w = np.clip(batch[0, 0] * 127.5 + 127.5 - 20, 0, None)
            ys, xs = np.mgrid[0:w.shape[0], 0:w.shape[1]]
            c = np.array([(w * xs).sum(), (w * ys).sum()]) / w.sum()
            pts = np.repeat((c / self.input_size - 0.5)[None], 70, axis=0)
        return {"landmarks": np.asarray(pts, np.float32)[None], "face_score": np.array([[0.75]], np.float32)}


UNITS = np.random.default_rng(1).uniform(-0.5, 0.5, (70, 2))
BOXES = [(100, 80, 200, 180), (130, 95, 230, 195), (40, 30, 340, 330), (300, 200, 340, 240), (-50, -20, 90, 120)]


@pytest.mark.parametrize("box", BOXES)
def test_mapping_is_exact_for_any_box(box) -> None:
    image = np.zeros((300, 400, 3), np.uint8)
    fake = FakeRuntime(UNITS)
    pred = Predictor(fake).predict(image, np.array(box, float), with_pose=False)
    crop = box_to_crop(np.array(box, float))
    side = crop[2] - crop[0]
    assert side == pytest.approx(1.5 * max(box[2] - box[0], box[3] - box[1]))
    expected = crop[:2] + (UNITS + 0.5) * side
    np.testing.assert_allclose(pred.landmarks, expected, atol=1e-3)  # float32 output
    np.testing.assert_allclose(crop_to_image(UNITS, _matrix(crop), 96), expected, atol=1e-9)
    assert pred.face_score == pytest.approx(0.75) and np.array_equal(pred.box, crop)
    assert fake.batches[0].shape == (1, 3, 96, 96) and fake.batches[0].dtype == np.float32


def _matrix(crop: np.ndarray) -> np.ndarray:
    from zoo.data.dataset import box_matrix

    return box_matrix(crop, 96)[:2]


def test_previous_landmarks_use_training_crop() -> None:
    prev = np.random.default_rng(2).uniform(120, 220, (70, 2))
    pred = Predictor(FakeRuntime(UNITS)).predict(np.zeros((300, 400, 3), np.uint8), landmarks_prev=prev, with_pose=False)
    crop = crop_box(prev, None)
    np.testing.assert_allclose(pred.box, crop)
    np.testing.assert_allclose(pred.landmarks, crop[:2] + (UNITS + 0.5) * (crop[2] - crop[0]), atol=1e-3)


@pytest.mark.parametrize("centre,box", [((150.0, 120.0), (110, 80, 190, 160)), ((231.5, 140.25), (150, 60, 330, 240)),
                                        ((60.0, 200.0), (10, 150, 110, 250)), ((200.0, 150.0), (20, 10, 380, 290))])
def test_real_crop_round_trip(centre, box) -> None:
    """A blob drawn at a known image point comes back at that point through crop, resize and uncrop."""
    h, w = 300, 400
    ys, xs = np.mgrid[0:h, 0:w]
    blob = 255 * np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * 6.0 ** 2))
    image = np.repeat(blob[:, :, None], 3, axis=2).astype(np.uint8)
    pred = Predictor(FakeRuntime()).predict(image, np.array(box, float), with_pose=False)
    np.testing.assert_allclose(pred.landmarks[0], centre, atol=0.6)


def test_refine_recrops_from_landmarks() -> None:
    fake = FakeRuntime(UNITS * 0.2)
    pred = Predictor(fake).predict(np.zeros((300, 400, 3), np.uint8), np.array([100, 80, 200, 180.0]), refine=2, with_pose=False)
    assert len(fake.batches) == 3
    first = box_to_crop(np.array([100, 80, 200, 180.0]))
    assert not np.allclose(pred.box, first)


def test_pose_from_landmarks_is_attached() -> None:
    from zoo.pose import MEAN_FACE_68

    # the mean face's frontal projection as crop units: pose comes back near frontal
    pts = MEAN_FACE_68[:, :2] - MEAN_FACE_68[:, :2].mean(0)
    units = np.vstack([pts / (np.ptp(pts, 0).max() * 1.5), np.zeros((2, 2))])
    pred = Predictor(FakeRuntime(units)).predict(np.zeros((480, 640, 3), np.uint8), np.array([220, 140, 420, 340.0]))
    assert pred.pose is not None and abs(pred.pose.yaw) < 15 and abs(pred.pose.roll) < 15
    doc = pred.to_dict()
    assert set(doc["pose"]) >= {"yaw", "pitch", "roll", "rvec", "tvec"} and len(doc["landmarks"]) == 70


# --------------------------------------------------------------------------- the command
def _cli(*args: str):
    from zoo.cli import app

    return CliRunner().invoke(app, ["predict", *args])


def _face_image(path: Path) -> Path:
    image = np.full((240, 320, 3), 90, np.uint8)
    cv2.circle(image, (160, 120), 60, (200, 170, 150), -1)
    cv2.imwrite(str(path), image)
    return path


def test_cli_writes_png_and_json(tmp_path: Path) -> None:
    img = _face_image(tmp_path / "face.png")
    res = _cli(str(img), "--model", VARIANT, "--backend", "torch", "--box", "100,60,220,180",
               "--out", str(tmp_path / "o.png"), "--json", str(tmp_path / "o.json"))
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "o.json").read_text())
    assert doc["image_size"] == [320, 240] and len(doc["faces"]) == 1
    face = doc["faces"][0]
    assert len(face["landmarks"]) == 70 and 0 <= face["face_score"] <= 1 and len(face["box"]) == 4
    assert cv2.imread(str(tmp_path / "o.png")).shape == (240, 320, 3)


def test_cli_unreadable_image(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"this is not a PNG")
    one_line_error(_cli(str(bad), "--model", VARIANT, "--backend", "torch"), "cannot decode")
    one_line_error(_cli(str(tmp_path / "absent.jpg"), "--model", VARIANT), "no such image")


def test_cli_no_face_found(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 128, np.uint8))
    one_line_error(_cli(str(blank), "--model", VARIANT, "--backend", "torch"), "found no face")


def test_cli_bad_box_and_model(tmp_path: Path) -> None:
    img = _face_image(tmp_path / "face.png")
    one_line_error(_cli(str(img), "--model", VARIANT, "--box", "10,10,5"), "--box")
    one_line_error(_cli(str(img), "--model", "lw-relu7", "--backend", "torch", "--box", "1,1,50,50"), "unknown variant")


def test_cli_missing_extra(tmp_path: Path, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "openvino", None)
    img = _face_image(tmp_path / "face.png")
    res = _cli(str(img), "--model", VARIANT, "--backend", "openvino", "--box", "100,60,220,180")
    one_line_error(res, "pip install 'zoo[openvino]'")


def test_cli_corrupted_artifact(tmp_path: Path) -> None:
    from zoo.backends import get_backend
    from zoo.backends.sources import resolve_model

    art = get_backend("onnx").export(resolve_model(VARIANT), tmp_path / "art", "fp32", None)
    art.path.write_bytes(art.path.read_bytes()[:500])
    img = _face_image(tmp_path / "face.png")
    one_line_error(_cli(str(img), "--model", str(tmp_path / "art"), "--box", "100,60,220,180"), "corrupted")


def test_fdfat_onnx_on_a_real_photo(fdfat_dir: Path, real_dir: Path, tmp_path: Path) -> None:
    """fdfat's published ONNX, wrapped, predicts within a few percent of the photo's annotation."""
    from zoo.backends.foreign import wrap_onnx
    from zoo.data.formats import read_pts
    from zoo.landmarks import interocular
    from zoo.predict import read_image

    onnx_file = fdfat_dir / "LWModel_ReLU6_affine_cls" / "model.onnx"
    photo = real_dir / "lfpw-train" / "image_0001.jpg"
    if not onnx_file.is_file() or not photo.is_file():
        pytest.skip("fdfat model.onnx or the lfpw photo is absent")
    wrap_onnx(onnx_file, "fdfat70", tmp_path / "fdfat")
    truth = read_pts(photo.with_suffix(".pts"))
    lo, hi = truth.min(0), truth.max(0)
    pred = Predictor.from_spec(tmp_path / "fdfat").predict(read_image(photo), np.r_[lo, hi], refine=1)
    nme = np.linalg.norm(pred.landmarks[:68] - truth, axis=1).mean() / interocular(truth)
    assert nme < 0.08, nme
