"""zoo's Python API: cheap to import, the registry without torch, shipped weights, predict/track/export/evaluate,
and typed errors whose messages are the CLI's sentences."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo.weights import WEIGHTS_DIR, default_name

HEAVY = ("torch", "cv2", "onnxruntime", "numba", "pandas", "matplotlib")


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout


def test_import_and_registry_load_no_heavy_library() -> None:
    out = _fresh("import sys, zoo; zoo.list_models('lw*'); zoo.model_info('lw-relu6-affine-cls'); "
                 f"print([m for m in {HEAVY!r} if m in sys.modules])")
    assert out.strip() == "[]"


def test_list_models_filters_and_says_when_nothing_matches() -> None:
    assert zoo.list_models("lwcsp-silu-1*") == ["lwcsp-silu-112", "lwcsp-silu-128", "lwcsp-silu-112-affine",
                                                "lwcsp-silu-112-affine-cls"]
    shipped = zoo.list_models(pretrained=True)
    assert sorted(shipped) == sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt"))
    with pytest.raises(zoo.ModelNotFoundError, match="no registered variant matches 'nothing-\\*'"):
        zoo.list_models("nothing-*")


def test_model_info_matches_the_counted_network_and_marks_the_default() -> None:
    default = default_name().removesuffix(".pt")
    info = zoo.model_info(default)
    assert info.shipped and info.default and info.weights == WEIGHTS_DIR / f"{default}.pt"
    assert zoo.default_model() == info.weights
    other = zoo.model_info("lw-relu6-w0.5")
    assert not other.shipped and not other.default and other.params == 170677 and other.input_size == 96
    net = zoo.create_model("lw-relu6-w0.5")
    assert sum(p.numel() for p in net.parameters()) == other.params


def test_create_model_pretrained_loads_the_shipped_weights() -> None:
    import torch

    from zoo.checkpoints.checkpoint import load_checkpoint

    net = zoo.create_model("lw-relu6-affine-cls", pretrained=True)
    saved = load_checkpoint(WEIGHTS_DIR / "lw-relu6-affine-cls.pt").build().state_dict()
    assert not net.training
    assert all(torch.equal(v, saved[k]) for k, v in net.state_dict().items())
    with pytest.raises(zoo.ModelNotFoundError, match="'lw-silu-affine-cls' has no shipped weights"):
        zoo.create_model("lw-silu-affine-cls", pretrained=True)
    with pytest.raises(zoo.ModelNotFoundError, match="unknown variant 'lw-relu7'"):
        zoo.create_model("lw-relu7")


def test_load_refuses_what_would_give_meaningless_landmarks() -> None:
    with pytest.raises(zoo.ModelNotFoundError, match="'lw-relu6' has no shipped weights"):
        zoo.load("lw-relu6")  # random-init weights: exportable, but not a landmark model
    with pytest.raises(zoo.ModelNotFoundError, match="model file runs/x/best.pt not found"):
        zoo.load("runs/x/best.pt")
    with pytest.raises(zoo.BackendUnavailableError, match="unknown backend 'onnxx'"):
        zoo.load(backend="onnxx")


def test_errors_are_the_cli_sentences() -> None:
    """The API and `zoo models PATTERN` print the same line for the same mistake."""
    from typer.testing import CliRunner

    from zoo.cli import app

    with pytest.raises(zoo.ZooError) as err:
        zoo.list_models("nothing-*")
    result = CliRunner().invoke(app, ["models", "nothing-*"])
    assert result.exit_code == 1 and str(err.value) in " ".join(result.output.split())


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    from zoo.track.clips import read_ground_truth, render_clip

    folder = tmp_path_factory.mktemp("clip")
    video = render_clip(folder, 10, "yaw_sweep", 0)  # flat-shaded: about a second
    return video, read_ground_truth(folder / "frames.jsonl")


@pytest.fixture(scope="module")
def face_model() -> zoo.FaceModel:
    return zoo.load()  # the shipped default on ONNX Runtime


def _first_frame(video: Path) -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(str(video))
    ok, bgr = cap.read()
    cap.release()
    assert ok
    return np.ascontiguousarray(bgr[:, :, ::-1])


def test_predict_finds_the_rendered_face(clip, face_model, tmp_path: Path) -> None:  # noqa: ANN001 - fixtures
    import cv2

    video, truth = clip
    rgb = _first_frame(video)
    gt = truth[0]["faces"][0]["landmarks"]
    iod = np.linalg.norm(gt[36] - gt[45])
    faces = face_model.predict(rgb, box=np.r_[gt.min(0), gt.max(0)])
    assert len(faces) == 1
    r = faces[0]
    assert r.landmarks.shape == (70, 2) and 0.5 < r.score <= 1.0 and abs(r.pose.yaw) < 90
    assert np.linalg.norm(r.landmarks[:68] - gt[:68], axis=1).mean() / iod < 0.08  # the default scores ~3 % here
    path = tmp_path / "frame.png"
    cv2.imwrite(str(path), rgb[:, :, ::-1])
    detected = face_model.predict(path)  # a path, and the HOG detector instead of a box
    assert len(detected) == 1 and np.linalg.norm(detected[0].landmarks[:68] - gt[:68], axis=1).mean() / iod < 0.08
    assert set(r.to_dict()) >= {"box", "landmarks", "face_score", "pose"}


def test_predict_errors_are_typed(face_model, tmp_path: Path) -> None:  # noqa: ANN001 - fixture
    with pytest.raises(zoo.NoFaceError, match="found no face; give one with box="):
        face_model.predict(np.zeros((120, 160, 3), np.uint8))
    with pytest.raises(zoo.ImageReadError, match="no such image file"):
        face_model.predict(tmp_path / "missing.png")
    with pytest.raises(zoo.ImageReadError, match="expected RGB uint8"):
        face_model.predict(np.zeros((120, 160), np.float32))


def test_track_yields_frames_with_faces(clip) -> None:  # noqa: ANN001 - fixture
    video, truth = clip
    assert callable(zoo.track) and zoo.track.__name__ == "zoo.track"  # the tracker package, callable
    frames = list(zoo.track(video, detector="hog", max_frames=6))
    assert [f.index for f in frames] == list(range(6))
    assert frames[0].image.shape == (480, 640, 3)
    tracked = [f for f in frames if f.faces]
    assert tracked, "no face tracked in six frames of a frontal rendered face"
    assert all(f.faces[0].landmarks.shape == (70, 2) and f.record["frame"] == f.index for f in tracked)
    with pytest.raises(zoo.SourceError, match="not found"):
        next(iter(zoo.track(video.parent / "missing.mp4")))


def test_export_then_evaluate_the_artifact(tmp_path: Path) -> None:
    from zoo.synth.generate import write_dataset

    art = zoo.export("lw-relu6-affine-cls", "onnx", "fp32", tmp_path / "exports", calib_count=8)
    assert art.path.is_file() and art.manifest["backend"] == "onnx"
    assert art.manifest["parity"]["max_abs_error"]["landmarks"] < 1e-4
    with pytest.raises(zoo.ExportError, match="onnx has no int16"):
        zoo.export("lw-relu6-affine-cls", "onnx", "int16")
    data = write_dataset(tmp_path / "data", images=12, seed=5, workers=1, size=128)
    result = zoo.evaluate(art.path.parent, dataset=str(data), split="train")
    assert result.backend == "onnx" and result.faces > 0 and 0 < result.nme < 60
    with pytest.raises(zoo.DatasetError):
        zoo.evaluate(dataset=str(tmp_path / "nothing.yaml"))


def test_variant_names_with_a_dot_are_not_files() -> None:
    with pytest.raises(zoo.ModelNotFoundError, match="'lw-relu6-w0.5-affine-cls' has no shipped weights"):
        zoo.load("lw-relu6-w0.5-affine-cls")


def test_callable_packages_are_reachable_from_zoo() -> None:
    out = _fresh("import zoo; print(callable(zoo.track), callable(zoo.adapt), zoo.adapt.__name__)")
    assert out.split() == ["True", "True", "zoo.adapt"]
