"""``zoo weights``: a shipped file is small, clean of local paths, loads bit-exact and carries its card."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import zoo.weights.ship as weights_ship
from zoo.architectures import create_model
from zoo.checkpoints.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, sha256_file
from zoo.cli import app
from zoo.engine.progress import write_log
from zoo.weights.ship import ShipError, clean_meta, dataset_name, run_summary, ship, write_card

VARIANT = "lw-relu6-w0.5-affine-cls"
runner = CliRunner()


def _meta() -> dict:
    """A card shaped like the trainer's, with the absolute paths a real run leaves behind."""
    data = "/root/.cache/zoo/synth-standard-n20000-s0-v1/dataset.yaml"
    return {
        "training_data": {"data": data, "seed": 0, "train_faces": 900, "val_faces": 100},
        "recipe": {"data": data, "optimizer": "nadam", "lr": 0.002, "batch": 64, "loss": "l1", "seed": 0, "flip": True,
                   "val_extra": ["/work/shared/data/real/lfpw-train/faces.yaml:test"], "out": "/work/main/runs/tiny",
                   "init": "/work/main/runs/step1/best.pt"},
        "stage": 2, "epochs": {"landmarks": 2, "face": 1}, "training_time_s": 12.5,
        "hardware": {"cpu": "Test CPU", "cores": 2, "device": "cpu", "threads": 1, "torch": "2.x"},
        "metrics": {"val_nme": 9.5, "nme_yaw_le30": 7.25, "nme_yaw_30_40": 8.5, "nme_yaw_gt40": 13.75,
                    "nme_lfpw-train-test": 15.5, "face_acc": 0.9, "face_acc_faces": 0.95, "face_acc_nonfaces": 0.5},
        "notes": {"cache": "/root/.cache/zoo/x.npy"},
    }


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """runs/tiny with best.pt, last.pt (training state) and a three-epoch log.csv."""
    torch.manual_seed(0)
    model = create_model(VARIANT).train()
    with torch.no_grad():  # non-default BatchNorm statistics, so a reload means something
        model(torch.randn(4, 3, 96, 96))
    run = tmp_path / "runs" / "tiny"
    run.mkdir(parents=True)
    save_checkpoint(run / "best.pt", model.eval(), _meta())
    save_checkpoint(run / "last.pt", model, _meta(), extra={"optimizer": {"step": torch.tensor(3)}})
    rows = [{"stage": 1, "epoch": 1, "val_nme": 12.0, "img_s": 100.0, "epoch_s": 5.0},
            {"stage": 1, "epoch": 2, "val_nme": 9.5, "img_s": 120.0, "epoch_s": 4.5},
            {"stage": 2, "epoch": 1, "face_acc": 0.9, "img_s": 200.0, "epoch_s": 3.0}]
    write_log(rows, run / "log.csv")
    return run


def test_dataset_names_drop_the_machine() -> None:
    assert dataset_name("/root/.cache/zoo/synth-standard-n20000-s0-v1/dataset.yaml") == "synth-standard-n20000-s0-v1"
    assert dataset_name("/work/shared/data/real/lfpw-train/faces.yaml:test") == "lfpw-train:test"
    assert dataset_name("/data/helen") == "helen"


def test_ship_writes_a_clean_small_checkpoint_with_run_summary(run_dir: Path, tmp_path: Path) -> None:
    dest = tmp_path / "weights"
    shipped = ship(run_dir / "best.pt", dest)
    assert shipped.path == dest / f"{VARIANT}.pt" and shipped.size < weights_ship.MAX_BYTES
    assert shipped.sha256 == sha256_file(shipped.path)
    data = torch.load(shipped.path, weights_only=True)
    assert set(data) == {"format", "arch", "config", "state_dict", "meta"}
    meta = data["meta"]
    assert "/root" not in repr(meta) and "/work" not in repr(meta)
    assert meta["training_data"]["data"] == meta["recipe"]["data"] == "synth-standard-n20000-s0-v1"
    assert meta["recipe"]["val_extra"] == ["lfpw-train:test"]
    assert (meta["recipe"]["out"], meta["recipe"]["init"]) == ("tiny", "best.pt")
    card = meta["card"]  # inferred from the checkpoint's folder, which has log.csv
    assert card["source"] == "tiny/best.pt" and card["source_sha256"] == sha256_file(run_dir / "best.pt")
    assert card["epochs"] == {"landmarks": 2, "face": 1} and card["best_epoch"] == 2
    assert card["training_time_s"] == 12.5 and card["mean_img_s"] == pytest.approx(140.0)
    assert not (dest / "DEFAULT").exists()


def test_card_names_metrics_by_yaw_bin_and_the_file_hash(run_dir: Path, tmp_path: Path) -> None:
    shipped = ship(run_dir / "best.pt", tmp_path / "weights")
    text = shipped.card.read_text()
    assert shipped.card == shipped.path.with_suffix(".md")
    assert shipped.sha256 in text and f"# {VARIANT}" in text
    for row in ("| all | 9.50 |", "| yaw <= 30 | 7.25 |", "| yaw 30-40 | 8.50 |", "| yaw > 40 | 13.75 |", "| lfpw-train-test"):
        assert row in text
    params = sum(p.numel() for p in create_model(VARIANT).parameters())
    for fragment in (f"params: {params:,}", "MFLOPs", "synth-standard-n20000-s0-v1 (seed 0", "nadam, lr 0.002, batch 64",
                     "loss l1", "landmarks 2 / face 1", "affine", "init: best.pt", "Test CPU", "Face-score accuracy: 90.0%",
                     "synthetic renders", "README accuracy table"):
        assert fragment in text, fragment
    assert "/root" not in text and "/work" not in text
    shipped.card.unlink()  # the card is a pure function of the checkpoint: regenerating it gives the same text
    assert write_card(shipped.path).read_text() == text


def test_shipped_file_reloads_with_identical_outputs(run_dir: Path, tmp_path: Path) -> None:
    shipped = ship(run_dir / "best.pt", tmp_path / "weights", run=run_dir)
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        a, b = load_checkpoint(run_dir / "best.pt").build()(x), load_checkpoint(shipped.path).build()(x)
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


def test_default_marker_and_list(run_dir: Path, tmp_path: Path) -> None:
    dest = tmp_path / "weights"
    result = runner.invoke(app, ["weights", "ship", str(run_dir / "best.pt"), "--dest", str(dest), "--default"])
    assert result.exit_code == 0, result.output
    assert (dest / "DEFAULT").read_text() == f"{VARIANT}.pt\n"
    result = runner.invoke(app, ["weights", "list", "--dest", str(dest)])
    assert result.exit_code == 0 and VARIANT in result.output and "9.50" in result.output and "13.75" in result.output
    assert "*" in result.output


def _one_line_error(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    return lines[0]


def test_refusals_are_one_line_and_write_nothing(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "weights"
    not_ckpt = tmp_path / "notes.pt"
    not_ckpt.write_text("hello")
    assert "not a zoo checkpoint" in _one_line_error(["weights", "ship", str(not_ckpt), "--dest", str(dest)])
    assert "training state" in _one_line_error(["weights", "ship", str(run_dir / "last.pt"), "--dest", str(dest)])
    monkeypatch.setattr(weights_ship, "MAX_BYTES", 100_000)  # the tiny model is ~700 KB, so it is "oversized" here
    assert "over the 0.1 MB limit" in _one_line_error(["weights", "ship", str(run_dir / "best.pt"), "--dest", str(dest)])
    assert not dest.exists() or not any(dest.iterdir())


def test_ship_refuses_weights_that_do_not_fit_and_path_names(run_dir: Path, tmp_path: Path) -> None:
    data = torch.load(run_dir / "best.pt", weights_only=True)
    data["state_dict"]["padding"] = torch.zeros(800_000)  # a bloated file: refused before anything is written
    torch.save(data, tmp_path / "bloated.pt")
    with pytest.raises(ShipError, match="do not fit"):
        ship(tmp_path / "bloated.pt", tmp_path / "weights")
    with pytest.raises(ShipError, match="plain file stem"):
        ship(run_dir / "best.pt", tmp_path / "weights", name="../elsewhere")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        ship(tmp_path / "missing.pt", tmp_path / "weights")


def test_clean_meta_leaves_the_original_alone() -> None:
    meta = _meta()
    cleaned = clean_meta(meta)
    assert cleaned["notes"]["cache"] == "x.npy" and meta["notes"]["cache"].startswith("/root")


def test_card_traces_init_lineage(tmp_path: Path) -> None:
    """A face-score step alone (``--init``) names the run that trained its landmarks, and sums the time."""
    meta = _meta()
    step1 = {"epochs": {"landmarks": 24, "face": 0}, "recipe": {"lr": 0.002, "yaw_prior": "frontal", "photometric": "standard"},
             "training_time_s": 3600.0, "metrics": {"val_nme": 9.5},
             "hardware": {"cpu": "Intel Xeon", "cores": 16, "device": "cuda", "gpu": "NVIDIA H200"}}
    meta["init"] = {"checkpoint": "best.pt", "arch": "lw-relu6-affine", "sha256": "ab" * 32, "meta": step1}
    meta["metrics"]["val_nme_prior"] = 7.5  # carried over from the landmark step, which chose its checkpoint by it
    model = create_model(VARIANT).eval()
    save_checkpoint(tmp_path / "s2.pt", model, meta)
    text = ship(tmp_path / "s2.pt", tmp_path / "weights").card.read_text()
    assert ("initialised from `best.pt` (lw-relu6-affine, sha256 abababababab), saved after landmark epoch 24 / "
            "face epoch 0 of its run, lr 0.002, frontal yaw prior, 3600 s of training to then on NVIDIA H200 (cuda) with "
            "Intel Xeon, 16 cores") in text  # the landmarks' prior and hardware, not step 2's
    hw = _meta()["hardware"]
    assert f"on {hw['cpu']}, {hw['cores']} cores, device {hw['device']}" in text  # step 2's own time names its machine
    assert "total training time including the runs above: 3612 s (1.00 h), summed over different hardware" in text
    assert "| all, weighted like the frontal yaw prior's draws (chose this checkpoint) | 7.50 |" in text  # the ancestor's prior


def test_card_says_when_an_init_was_slimmed_from_a_wider_model(tmp_path: Path) -> None:
    meta = _meta()
    wide = {"epochs": {"landmarks": 80, "face": 0}, "recipe": {"lr": 0.002, "int8_aware": True}, "training_time_s": 360.0,
            "hardware": {}}
    meta["init"] = {"checkpoint": "lw-relu6-affine-cls.pt", "arch": "lw-relu6-affine-cls", "sha256": "cd" * 32,
                    "meta": wide, "slimmed": True}
    save_checkpoint(tmp_path / "narrow.pt", create_model(VARIANT).eval(), meta)
    text = ship(tmp_path / "narrow.pt", tmp_path / "weights").card.read_text()
    assert ("initialised from `lw-relu6-affine-cls.pt` (lw-relu6-affine-cls, sha256 cdcdcdcdcdcd), slimmed to its "
            "largest-|gamma| channels, saved after landmark epoch 80") in text
    assert "of its run, lr 0.002, int8-aware, 360 s of training" in text


def test_run_summary_picks_the_epoch_the_trainer_kept(tmp_path: Path) -> None:
    """A --yaw-prior run keeps the epoch with the lowest prior-weighted NME; the card's best epoch agrees."""
    rows = [{"stage": 1, "epoch": e, "lr": 0.001, "train_loss": 0.1, "val_nme": v, "val_nme_prior": w, "epoch_s": 1.0}
            for e, v, w in ((1, 12.0, 9.0), (2, 11.0, 8.8), (3, 11.1, 7.6))]
    write_log(rows, tmp_path / "log.csv")
    assert run_summary(tmp_path / "log.csv")["best_epoch"] == 3
    write_log([{k: v for k, v in r.items() if k != "val_nme_prior"} for r in rows], tmp_path / "log.csv")
    assert run_summary(tmp_path / "log.csv")["best_epoch"] == 2

