"""Video sources and writer; detectors (HOG on a rendered face, bad specs); default model resolution."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from zoo.track import model as track_model
from zoo.track.clips import iter_clip
from zoo.track.detectors import DetectorError, HogDetector, make_detector
from zoo.track.tracker import iou_matrix
from zoo.track.video import SourceError, VideoSource, VideoWriter


def test_folder_source_and_writer_round_trip(tmp_path):
    frames = [img for _, _, img, _ in iter_clip(4, "hand_pass", 0)]
    for i, img in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"{i:04d}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    src = VideoSource(str(tmp_path), fps=10)
    got = list(src)
    assert [f.index for f in got] == [0, 1, 2, 3] and got[2].t == pytest.approx(0.2)
    assert np.array_equal(got[1].rgb, frames[1]) and src.size == (640, 480)
    writer = VideoWriter(tmp_path / "out" / "v.mp4", 10, src.size)
    for f in got:
        writer.write(f.rgb)
    writer.close()
    assert len(list(VideoSource(str(tmp_path / "out" / "v.mp4")))) == 4


def test_source_errors(tmp_path):
    (tmp_path / "x.mp4").write_text("nope")
    with pytest.raises(SourceError, match="cannot read video"):
        VideoSource(str(tmp_path / "x.mp4"))
    with pytest.raises(SourceError, match="not found"):
        VideoSource(str(tmp_path / "missing.mp4"))


def test_hog_finds_a_frontal_rendered_face_and_its_crop_box_overlaps_the_truth():
    _, _, img, gt = next(iter(iter_clip(2, "hand_pass", 0)))
    hog = HogDetector()
    dets = hog.detect(img)
    assert len(dets) == 1
    iou = iou_matrix(hog.crop_box(dets[0].box), np.array(gt["faces"][0]["box"]))
    assert iou[0, 0] > 0.5


def test_detector_specs(tmp_path):
    assert isinstance(make_detector("hog"), HogDetector)
    assert make_detector("hog:1").upsample == 1
    for spec, msg in (("haar", "unknown detector"), ("hog:x", "unknown detector"), (f"yunet:{tmp_path}/none.onnx", "not found"),
                      ("ultraface:", "not found")):
        with pytest.raises(DetectorError, match=msg):
            make_detector(spec)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not onnx")
    for kind in ("yunet", "ultraface"):
        with pytest.raises(DetectorError, match="cannot load"):
            make_detector(f"{kind}:{junk}")


def test_default_model_order(tmp_path, monkeypatch):
    monkeypatch.setattr(track_model, "WEIGHTS_DIR", tmp_path / "weights")
    monkeypatch.setattr(track_model, "FDFAT_LW", tmp_path / "absent.pt")
    with pytest.raises(track_model.ModelError, match="pass --model"):
        track_model.default_model()
    (tmp_path / "weights").mkdir()
    for name in ("b.pt", "a.pt"):
        (tmp_path / "weights" / name).write_bytes(b"")
    assert track_model.default_model().spec.endswith("a.pt")
    (tmp_path / "weights" / "DEFAULT").write_text("b.pt\n")
    assert track_model.default_model().spec.endswith("b.pt")


def test_budget_picks_a_shipped_variant_that_fits(tmp_path, monkeypatch):
    from zoo.architectures import create_model
    from zoo.checkpoints.checkpoint import save_checkpoint
    from zoo.results import SELECTION_DATASET, current_host, write_table

    weights = tmp_path / "weights"
    weights.mkdir()
    save_checkpoint(weights / "lw.pt", create_model("lw-relu6-affine-cls"))
    monkeypatch.setattr(track_model, "WEIGHTS_DIR", weights)
    monkeypatch.setenv("ZOO_RESULTS", str(tmp_path / "results"))
    host = current_host().name
    write_table("latency", [
        {"host": host, "backend": "onnx", "variant": v, "precision": "fp32", "threads": 1, "batch": 1, "input_size": 96,
         "p50_ms": ms,
         "task": "latency", "device": "cpu"} for v, ms in (("lw-relu6-affine-cls", 0.8), ("lwcsp-silu-affine-cls", 1.6))])
    write_table("accuracy", [
        {"variant": v, "checkpoint_sha256": v, "backend": "onnx", "precision": "fp32", "dataset": SELECTION_DATASET,
         "split": "test", "nme": nme} for v, nme in (("lw-relu6-affine-cls", 4.5), ("lwcsp-silu-affine-cls", 4.0))])
    pick, notes = track_model.choose_model(None, 1.0, "onnx")
    assert pick.spec.endswith("lw.pt") and "lw-relu6-affine-cls" in pick.reason
    pick, notes = track_model.choose_model(None, 0.1, "onnx")  # nothing fits: the shipped default, said so
    assert pick.spec.endswith("lw.pt") and any("nothing fits" in n for n in notes)
    pick, notes = track_model.choose_model("lw-relu6", 1.0, "onnx")  # --model wins
    assert pick.spec == "lw-relu6" and not notes


def test_tracker_crop_is_the_training_inference_crop():
    from zoo.data.dataset import crop_box
    from zoo.track.tracker import crop_from_landmarks

    pts = np.random.default_rng(0).uniform(50, 300, (70, 2))
    assert np.allclose(crop_from_landmarks(pts), crop_box(pts, None))
