"""bench.choose: the "which model for which budget" table picks, orders and stars from results/*.csv."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bench.choose import PLACEHOLDER, budget_lines, choices, choose_table
from zoo.results import SELECTION_DATASET, write_table

SHIPPED = {"lw-relu6-affine-cls": b"trained lw", "lw-relu6-w0.5-affine-cls": b"trained lw half"}
PEERS = {"fdfat-lw": "p1" * 32, "fdfat-lwcsp": "p2" * 32}


def _weights(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "weights"
    folder.mkdir()
    shas = {}
    for name, data in SHIPPED.items():
        (folder / f"{name}.pt").write_bytes(data)
        shas[name] = hashlib.sha256(data).hexdigest()
    (folder / "DEFAULT").write_text("lw-relu6-affine-cls\n")
    return folder, {**shas, **PEERS}


def _results(root: Path, sha: dict[str, str]) -> None:
    def acc(variant: str, nme: float, dataset: str = SELECTION_DATASET, backend: str = "onnx", **extra) -> dict:
        return {"variant": variant, "checkpoint_sha256": extra.pop("sha", sha.get(variant)), "backend": backend,
                "precision": "fp32", "dataset": dataset, "split": "test", "images": 500, "nme": nme,
                "nme_yaw_le30": nme - 0.5, "nme_yaw_30_40": nme + 0.5, "nme_yaw_gt40": nme + 1.5,
                "peer": variant.startswith("fdfat"), **extra}

    write_table("accuracy", [
        acc("lw-relu6-affine-cls", 3.0), acc("lw-relu6-affine-cls", 6.0, dataset="lfpw-train"),
        acc("lw-relu6-affine-cls", 2.0, backend="torch"),  # another runtime: not the ORT fp32 column
        acc("lw-relu6-w0.5-affine-cls", 4.0),
        acc("fdfat-lw", 3.5), acc("fdfat-lw", 6.5, dataset="lfpw-train"),
        acc("fdfat-lwcsp", 2.8), acc("fdfat-lwcsp", 6.3, dataset="lfpw-train"),
        acc("lw-silu-affine-cls", 1.0, sha="ad" * 32),  # zoo eval --checkpoint runs/...: not shipped, never listed
        acc("lw-relu6-affine-cls", 2.5, sha="01d" * 21 + "0"),  # older weights of a shipped variant: not listed
    ], root)
    base = {"host": "h1", "cpu": "Test CPU", "cores": 2, "os": "Linux", "device": "cpu", "batch": 1, "input_size": 96,
            "task": "latency", "precision": "fp32", "threads": 1, "backend": "onnx", "status": "ok"}
    write_table("latency", [
        {**base, "variant": "lw-relu6-affine-cls", "checkpoint_sha256": sha["lw-relu6-affine-cls"], "p50_ms": 1.2,
         "size_bytes": 1_800_000},
        {**base, "variant": "lw-relu6-w0.5-affine-cls", "checkpoint_sha256": "b0" * 32, "p50_ms": 0.6,  # random init
         "size_bytes": 700_000},
        {**base, "variant": "fdfat-lw", "checkpoint_sha256": PEERS["fdfat-lw"], "p50_ms": 1.25, "peer": True},
        {**base, "variant": "fdfat-lw", "checkpoint_sha256": PEERS["fdfat-lw"], "p50_ms": 0.64, "peer": True,
         "backend": "tflite", "threads": 2},
        {**base, "variant": "fdfat-lwcsp", "checkpoint_sha256": PEERS["fdfat-lwcsp"], "p50_ms": 2.2, "peer": True},
        {**base, "variant": "lw-silu-affine-cls", "checkpoint_sha256": "c0" * 32, "p50_ms": 0.1},
    ], root)


def _rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| variant")]


def test_rows_are_shipped_and_peers_sorted_by_latency_with_pareto_stars(tmp_path: Path) -> None:
    weights, sha = _weights(tmp_path)
    _results(tmp_path, sha)
    text = choose_table(tmp_path, weights=weights)
    rows = _rows(text)
    assert [r.split(" | ")[0] for r in rows] == [
        "| `lw-relu6-w0.5-affine-cls` ★", "| `lw-relu6-affine-cls` (default) ★", "| fdfat-lw *(fdfat)*",
        "| fdfat-lwcsp *(fdfat)*"]  # both fdfat models are slower than lw-relu6 and worse on the photos: no star
    assert "lw-silu" not in text and all("| 2.50 | 2.00 |" not in r for r in rows)  # older weights' row absent
    assert rows[1] == ("| `lw-relu6-affine-cls` (default) ★ | 1.20 | 1.20 onnx fp32 1t (0.96x) | 3.00 | 2.50 | 3.50 | 4.50 "
                       "| 6.00 | 1.80 MB |")
    assert rows[0].split(" | ")[1] == "0.600 †" and rows[0].endswith("| - | 700 kB |")  # architecture's row, footnoted
    assert "0.640 tflite fp32 2t (0.51x)" in rows[2]
    assert "† not measured on this checkpoint" in text and "**h1** (Test CPU, 2 logical cores)" in text


def test_budget_sentences_pick_the_most_accurate_model_that_fits(tmp_path: Path) -> None:
    weights, sha = _weights(tmp_path)
    _results(tmp_path, sha)
    text = choose_table(tmp_path, weights=weights)
    assert "- **under 0.25 ms** on one core: nothing measured fits" in text
    assert "- **under 1 ms** on one core: `lw-relu6-w0.5-affine-cls` (4.00 % synth NME, 0.600 ms)" in text
    assert "- **best on renders**: fdfat-lwcsp *(fdfat)* (2.80 % synth NME)" in text
    assert "- **real photos** (lfpw-train): `lw-relu6-affine-cls` (6.00 % NME)" in text


def test_real_photos_outrank_renders_where_measured(tmp_path: Path) -> None:
    weights, sha = _weights(tmp_path)
    _results(tmp_path, sha)
    from bench.choose import attach_latency, shipped
    from zoo.results import read_table

    rows = choices(read_table("accuracy", tmp_path), shipped(weights))
    attach_latency(rows, read_table("latency", tmp_path))
    lines = budget_lines(rows, budgets=(1.5, 3.0))
    assert lines[0] == "- **under 1.5 ms** on one core: `lw-relu6-affine-cls` (6.00 % NME on lfpw-train, 1.20 ms)"
    # fdfat-lwcsp is better on renders (2.80 against 3.00) but worse on the photos (6.30 against 6.00)
    assert lines[1] == "- **under 3 ms** on one core: `lw-relu6-affine-cls` (6.00 % NME on lfpw-train, 1.20 ms)"


def test_a_budget_nothing_fits_names_the_fastest(tmp_path: Path) -> None:
    weights, sha = _weights(tmp_path)
    _results(tmp_path, sha)
    from bench.choose import attach_latency, shipped
    from zoo.results import read_table

    rows = choices(read_table("accuracy", tmp_path), shipped(weights))
    attach_latency(rows, read_table("latency", tmp_path))
    assert budget_lines(rows, budgets=(0.5,))[0] == ("- **under 0.5 ms** on one core: nothing measured fits (the fastest, "
                                                     "`lw-relu6-w0.5-affine-cls`, takes 0.600 ms)")


def test_without_latency_rows_the_table_still_ranks_accuracy(tmp_path: Path) -> None:
    weights, sha = _weights(tmp_path)
    _results(tmp_path, sha)
    (tmp_path / "latency.csv").unlink()
    text = choose_table(tmp_path, weights=weights)
    assert "no host measured yet" in text and "run `nox -s bench`" in text
    assert [r.split(" | ")[1] for r in _rows(text)] == ["-"] * 4 and not any("★" in r for r in _rows(text))


def test_no_rows_is_a_placeholder(tmp_path: Path) -> None:
    weights, _ = _weights(tmp_path)
    assert choose_table(tmp_path / "empty", weights=weights) == PLACEHOLDER
    assert "nox -s eval" in PLACEHOLDER and "nox -s bench" in PLACEHOLDER
