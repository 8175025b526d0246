"""docs/transfer.md's ablation table from results/transfer.csv rows."""

from __future__ import annotations

import json
from pathlib import Path

from bench.transfer_table import transfer_table
from zoo.results import write_table
from zoo.synth import RENDER_VERSION


def _row(name: str, seed: int, dataset: str, nme: float, **extra: object) -> dict:
    return {"name": name, "render_version": RENDER_VERSION, "recipe": "net<-init e6x4000 lr0.001 frontal init 3ced011e",
            "seed": seed, "dataset": dataset, "faces": 805, "nme": nme, "fr10": 0.1, "nme_offset_removed": nme - 1,
            "nme_mapped": nme - 2, "max_point_offset": 5.0 + seed, "max_offset_point": 16 - seed, **extra}


def test_settings_average_their_seeds_and_show_the_noise(tmp_path: Path) -> None:
    opts = json.dumps({"head": "ict", "camera": "far", "pitch_mean": -7.6, "labels": "annotators"})
    gap = {"gap_jaw": 4.6, "gap_brows": 2.0, "gap_nose": 2.7, "gap_eyes": 1.4, "gap_mouth": 4.6}
    write_table("transfer", [
        _row("shipped", 0, "lfpw-train", 8.26),
        _row("ict", 0, "lfpw-train", 7.33, render_options=opts, render_ips=120, **gap),
        _row("ict", 1, "lfpw-train", 7.15, render_options=opts, render_ips=120, **gap),
        _row("ict", 0, "dlib-examples", 7.0, render_options=opts),
        _row("old", 0, "lfpw-train", 1.0) | {"render_version": RENDER_VERSION - 1},  # another renderer: shown as such
    ], tmp_path)
    text = transfer_table(tmp_path)
    lines = [line for line in text.splitlines() if line.startswith("| `")]
    assert [line.split("|")[1].strip() for line in lines] == ["`shipped`", "`ict`", "`old`"]
    assert [line.split("|")[2].strip() for line in lines] == [f"v{RENDER_VERSION}"] * 2 + [f"v{RENDER_VERSION - 1}"]
    ict = lines[1]
    assert "ict (annotators labels), far camera, pitch -7.6; e6x4000 lr0.001 frontal init 3ced011e" in ict
    assert "7.24 ±0.09" in ict  # mean of 7.33 and 7.15, half their range
    assert "5.5 (15)" in ict  # mean worst offset; the point of the worst seed
    assert "4.6 / 2.0 / 2.7 / 1.4 / 4.6" in ict and "| 7.00 |" in ict
    assert "the shipped default (3ced011e), not fine-tuned" in lines[0]


def test_no_rows_says_so(tmp_path: Path) -> None:
    assert "No `zoo transfer` rows" in transfer_table(tmp_path)
