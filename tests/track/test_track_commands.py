"""`zoo track` / `zoo demo` from the command line: bad inputs give one-line errors, good ones write valid output."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from zoo.cli import app
from zoo.track.clips import render_clip
from zoo.track.schema import validate_file

runner = CliRunner()


def _one_line_error(result, *needles: str) -> None:
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert "error:" in text and "Traceback" not in result.output, result.output
    for needle in needles:
        assert needle in text, text


def test_unreadable_video(tmp_path: Path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video")
    _one_line_error(runner.invoke(app, ["track", str(bad)]), "cannot read video", "broken.mp4")


def test_missing_video(tmp_path: Path):
    _one_line_error(runner.invoke(app, ["track", str(tmp_path / "nope.mp4")]), "not found")


def test_missing_detector_file(tmp_path: Path):
    _one_line_error(runner.invoke(app, ["track", "camera:0", "--detector", f"yunet:{tmp_path}/missing.onnx"]),
                    "yunet detector file", "not found")
    _one_line_error(runner.invoke(app, ["track", "camera:0", "--detector", "ultraface:"]), "ultraface detector file")


def test_unknown_detector_and_filter():
    _one_line_error(runner.invoke(app, ["track", "x.mp4", "--detector", "haar"]), "unknown detector")
    _one_line_error(runner.invoke(app, ["track", "x.mp4", "--filter", "median"]), "unknown filter")


def test_camera_that_cannot_open():
    _one_line_error(runner.invoke(app, ["track", "camera:97"]), "cannot open camera 97")
    _one_line_error(runner.invoke(app, ["track", "camera:front"]), "camera:N")


def test_empty_frame_folder(tmp_path: Path):
    _one_line_error(runner.invoke(app, ["track", str(tmp_path)]), "has no image frames")


def test_missing_model_file(tmp_path: Path):
    clip = render_clip(tmp_path / "clip", 3, "yaw_sweep", 0)
    _one_line_error(runner.invoke(app, ["track", str(clip), "--model", str(tmp_path / "missing.pt")]), "missing.pt not found")


@pytest.mark.slow
def test_track_writes_valid_json_and_video(tmp_path: Path, fdfat_dir: Path):
    # fdfat_dir: the default model falls back to fdfat's LW checkpoint until zoo weights ship.
    clip = render_clip(tmp_path / "clip", 20, "yaw_sweep", 0)
    out, js = tmp_path / "out.mp4", tmp_path / "frames.jsonl"
    result = runner.invoke(app, ["track", str(clip), "--out", str(out), "--json", str(js)])
    assert result.exit_code == 0, result.output
    assert validate_file(js) == 20
    assert out.stat().st_size > 10_000


def test_demo_bad_scenario(tmp_path: Path):
    _one_line_error(runner.invoke(app, ["demo", "--out-dir", str(tmp_path), "--scenario", "moonwalk"]), "unknown scenario")


@pytest.mark.slow
def test_demo_writes_video_json_and_summary(tmp_path: Path, fdfat_dir: Path):
    result = runner.invoke(app, ["demo", "--out-dir", str(tmp_path), "--frames", "30"])
    assert result.exit_code == 0, result.output
    assert validate_file(tmp_path / "tracks.jsonl") == 30
    assert (tmp_path / "annotated.mp4").stat().st_size > 10_000 and (tmp_path / "frame.png").is_file()
    assert "NME vs ground truth" in result.output


def test_track_bench_rows_name_the_weights_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A row says which file ran, so shipped weights and an import of the same variant stay apart."""
    import torch

    from zoo.architectures import create_model
    from zoo.checkpoints.checkpoint import save_checkpoint
    from zoo.results import read_table

    torch.manual_seed(0)
    ckpt = tmp_path / "mine-lw.pt"
    save_checkpoint(ckpt, create_model("lw-relu6-w0.5-affine-cls").eval(), {})
    monkeypatch.setenv("ZOO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    result = runner.invoke(app, ["track-bench", "--model", str(ckpt), "--backend", "torch", "--scenario", "fast_motion",
                                 "--frames", "10", "--photos", "0", "--renderer", "flat"])
    assert result.exit_code == 0, result.output
    rows = read_table("tracking", tmp_path / "results")
    assert [r["model"] for r in rows] == ["mine-lw.pt"] and rows[0]["variant"] == "lw-relu6-w0.5-affine-cls"
