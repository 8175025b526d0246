"""``zoo train`` end to end on a few rendered images: broken files, --skip-bad, one-line errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zoo.checkpoints.checkpoint import load_checkpoint
from zoo.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from zoo.synth.generate import write_dataset

    return write_dataset(tmp_path_factory.mktemp("synth"), images=64, seed=3, workers=1)


def _args(data: Path, out: Path, *more: str) -> list[str]:
    return ["train", "lw-relu6-w0.5", "--data", str(data), "--epochs", "1", "--batch", "8", "--out", str(out),
            "--workers", "1", "--threads", "1", "--cache", "none", "--no-progress", *more]


def test_two_epochs_on_64_rendered_images_lower_the_loss(rendered: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, _args(rendered, tmp_path / "run", "--epochs", "2"))
    assert result.exit_code == 0, result.output
    assert "best val NME" in result.output
    import csv

    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    assert len(rows) == 2 and float(rows[1]["train_loss"]) < float(rows[0]["train_loss"])
    assert float(rows[1]["model_img_s"]) > 0 and float(rows[1]["data_img_s"]) > 0
    card = load_checkpoint(tmp_path / "run" / "best.pt").meta
    assert card["training_data"]["data"] == str(rendered) and card["training_data"]["seed"] == 0
    assert (tmp_path / "run" / "samples.png").stat().st_size > 1000


def test_broken_file_fails_in_one_line_unless_skip_bad(rendered: Path, tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "copy"
    shutil.copytree(rendered.parent, data)
    doc = (data / "dataset.yaml").read_text().replace(str(rendered.parent), str(data))
    (data / "dataset.yaml").write_text(doc)
    victim = data / (data / "train.txt").read_text().split()[0]
    victim.write_bytes(victim.read_bytes()[:200])  # a truncated PNG

    result = runner.invoke(app, _args(data / "dataset.yaml", tmp_path / "bad"))
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and victim.name in lines[0] and "--skip-bad" in lines[0]
    assert "Traceback" not in result.output

    result = runner.invoke(app, _args(data / "dataset.yaml", tmp_path / "skip", "--skip-bad", "--photometric", "strong",
                                       "--yaw-prior", "frontal", "--epochs", "3"))
    assert result.exit_code == 0, result.output
    config = (tmp_path / "skip" / "config.yaml").read_text()
    assert "photometric: strong" in config and "yaw_prior: frontal" in config
    assert "left out 1 problem file" in result.output and f"skipped {victim}" in result.output
    card = load_checkpoint(tmp_path / "skip" / "best.pt").meta
    assert card["training_data"]["train_faces"] == len((data / "train.txt").read_text().split()) - 1
    # the frontal prior's run keeps the checkpoint that is best on validation faces weighted like its draws
    with open(tmp_path / "skip" / "log.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["stage"] == "1"]
    prior = [float(r["val_nme_prior"]) for r in rows]
    assert len(prior) >= 2 and all(float(r["val_nme_prior"]) != float(r["val_nme"]) for r in rows)
    assert card["metrics"]["val_nme_prior"] == pytest.approx(min(prior), rel=1e-4)


@pytest.mark.parametrize("bad, message", [
    (["--part-weights", "ears=2"], "unknown landmark part 'ears'"),
    (["--loss", "l2"], "loss must be one of"),
    (["--photometric", "heavy"], "photometric must be standard or strong"),
    (["--yaw-prior", "profile"], "yaw prior must be uniform or frontal"),
])
def test_bad_options_are_one_line_errors(rendered: Path, tmp_path: Path, bad: list[str], message: str) -> None:
    result = runner.invoke(app, _args(rendered, tmp_path / "x", *bad))
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_resume_needs_an_earlier_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "lw-relu6", "--resume", str(tmp_path)])
    assert result.exit_code == 1 and "needs config.yaml and last.pt" in result.output
