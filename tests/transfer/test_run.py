"""The whole protocol on a tiny scale: render, fine-tune, export, score, write rows and a report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zoo.results import read_table
from zoo.transfer.protocol import Recipe
from zoo.transfer.run import run_transfer


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in "photo" set: 24 rendered faces at 68 points (the protocol scores any annotated YAML)."""
    from zoo.synth.generate import write_dataset

    folder = tmp_path_factory.mktemp("photos")
    write_dataset(folder, 24, seed=5, workers=1, negatives_fraction=0.0)
    names = sorted(p.name for p in folder.glob("*.png"))
    (folder / "faces.yaml").write_text("base_path: .\ntest: [" + ", ".join(names) + "]\n")  # every face in the scored split
    return folder / "faces.yaml"


def test_tiny_protocol_writes_rows_and_report(photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    recipe = Recipe(epochs=1, images_per_epoch=64, batch=32)
    rows = run_transfer("tiny", None, 60, 3, recipe, [0], [photos], root=tmp_path / "runs", results=tmp_path / "results",
                        log=lambda _m: None, progress=False)
    assert len(rows) == 1
    row = rows[0]
    assert row["faces"] == 24 and row["dataset"].startswith("photos")
    for key in ("nme", "nme_offset_removed", "nme_mapped", "gap_jaw", "render_ips"):
        assert np.isfinite(row[key]), key
    assert 0.0 < row["nme"] < 60.0  # a working model, one short epoch from the shipped weights
    table = read_table("transfer", tmp_path / "results")
    assert [r["name"] for r in table] == ["tiny"] and table[0]["seed"] == 0
    report = (tmp_path / "runs" / "tiny" / "report.json").read_text()
    assert '"offsets"' in report and '"shape_gap"' in report
    # a re-run reuses the renders and the fine-tune (nothing redone), and upserts the same key
    again = run_transfer("tiny", None, 60, 3, recipe, [0], [photos], root=tmp_path / "runs", results=tmp_path / "results",
                         log=lambda _m: None, progress=False)
    assert again[0]["checkpoint_sha256"] == row["checkpoint_sha256"]
    assert len(read_table("transfer", tmp_path / "results")) == 1


def test_epochs_zero_scores_the_shipped_checkpoint(photos: Path, tmp_path: Path) -> None:
    from zoo.checkpoints.checkpoint import sha256_file
    from zoo.weights import weights_for

    rows = run_transfer("control", None, 60, 0, Recipe(epochs=0), [0], [photos], root=tmp_path / "runs",
                        results=tmp_path / "results", log=lambda _m: None)
    sha = sha256_file(weights_for("lw-relu6-112-affine-cls"))
    assert rows[0]["checkpoint_sha256"] == sha and rows[0]["recipe"].endswith(f" init {sha[:8]}")
    assert "render_options" not in rows[0]  # nothing was rendered


def test_the_renderer_fingerprint_follows_its_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cached renders are keyed by the renderer's code: a label fix inside one render version re-renders."""
    import shutil

    import zoo.transfer.protocol as protocol

    fake = tmp_path / "zoo" / "transfer" / "protocol.py"
    fake.parent.mkdir(parents=True)
    shutil.copytree(Path(protocol.__file__).resolve().parents[1] / "synth", tmp_path / "zoo" / "synth",
                    ignore=shutil.ignore_patterns("__pycache__", "*.npz"))
    monkeypatch.setattr(protocol, "__file__", str(fake))
    before = protocol.renderer_fingerprint()
    assert before == protocol.renderer_fingerprint()
    (tmp_path / "zoo" / "synth" / "ict_landmarks.py").write_text("# changed\n", encoding="utf-8")
    changed = protocol.renderer_fingerprint()
    assert changed != before
    (tmp_path / "zoo" / "synth" / "ict" / "populations.json").write_text("{}\n", encoding="utf-8")  # a re-fitted population
    assert protocol.renderer_fingerprint() != changed
