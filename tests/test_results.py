"""zoo.results: the writer never loses or duplicates rows; selection explains itself."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from zoo import results
from zoo.results import REAL_SELECTION_DATASET, SELECTION_DATASET, read_csv, select_model, upsert_rows, write_table

KEY = ("name", "threads")


def test_upsert_replaces_same_key_and_keeps_others(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    upsert_rows(path, [{"name": "a", "threads": 1, "v": 1.0}, {"name": "a", "threads": 2, "v": 2.0}], KEY)
    upsert_rows(path, [{"name": "a", "threads": 1, "v": 9.5}], KEY)
    rows = read_csv(path)
    assert len(rows) == 2
    assert {str(r["threads"]): float(r["v"]) for r in rows} == {"1": 9.5, "2": 2.0}


def test_one_write_with_a_repeated_key_keeps_its_last_row(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    upsert_rows(path, [{"name": "a", "threads": 1, "v": 1.0}, {"name": "a", "threads": 1, "v": 3.0}], KEY)
    assert [float(r["v"]) for r in read_csv(path)] == [3.0]


def test_upsert_is_atomic_when_the_write_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.csv"
    upsert_rows(path, [{"name": "a", "threads": 1}], KEY)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(results.os, "replace", boom)
    with pytest.raises(OSError):
        upsert_rows(path, [{"name": "b", "threads": 1}], KEY)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".t.csv.*.tmp")), "the temp file must be removed"


def test_known_table_has_schema_columns_and_types(tmp_path: Path) -> None:
    write_table("latency", [{"host": "h", "backend": "onnx", "device": "cpu", "variant": "v", "precision": "fp32",
                             "threads": 1, "batch": 1, "input_size": 96, "task": "latency", "p50_ms": 0.5, "peer": False}],
                root=tmp_path)
    header = (tmp_path / "latency.csv").read_text().splitlines()[0].split(",")
    assert tuple(header[:len(results.LATENCY_COLUMNS)]) == results.LATENCY_COLUMNS
    row = results.read_table("latency", tmp_path)[0]
    assert row["p50_ms"] == 0.5 and row["threads"] == 1 and row["peer"] is False and row["p90_ms"] is None


def _append(args: tuple[str, int]) -> None:
    path, worker = args
    for i in range(15):
        upsert_rows(path, [{"name": f"w{worker}-{i}", "threads": 1}], KEY)


def test_two_processes_appending_at_once_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "t.csv")
    ctx = mp.get_context("fork")
    with ctx.Pool(2) as pool:
        pool.map(_append, [(path, 0), (path, 1)])
    names = sorted(r["name"] for r in read_csv(path))
    assert names == sorted(f"w{w}-{i}" for w in range(2) for i in range(15))


def _lat(variant: str, p50: float, host: str = "h", backend: str = "onnx", peer: bool = False) -> dict:
    return {"host": host, "backend": backend, "device": "cpu", "variant": variant, "precision": "fp32", "threads": 1,
            "batch": 1, "input_size": 96, "task": "latency", "p50_ms": p50, "peer": peer}


def test_select_model_most_accurate_that_fits(tmp_path: Path) -> None:
    write_table("latency", [_lat("fast", 0.5), _lat("slow", 2.0), _lat("mid", 1.0), _lat("fdfat-lw", 0.1, peer=True)],
                root=tmp_path)
    acc = [{"variant": v, "checkpoint_sha256": "x", "backend": "torch", "precision": "fp32", "dataset": SELECTION_DATASET,
            "split": "test", "nme": n} for v, n in (("fast", 5.0), ("mid", 4.0), ("slow", 3.0))]
    write_table("accuracy", acc, root=tmp_path)
    choice = select_model(1.2, "onnx", host="h", root=tmp_path)
    assert choice.variant == "mid" and "4.00%" in choice.reason
    assert select_model(0.2, "onnx", host="h", root=tmp_path).variant is None
    assert select_model(5, "onnx", host="h", root=tmp_path, only={"fast", "mid"}).variant == "mid"
    none_here = select_model(5, "onnx", host="other", root=tmp_path)
    assert none_here.variant is None and "no latency rows for host 'other'" in none_here.reason
    assert select_model(5, "tflite", host="h", root=tmp_path).variant is None


def test_select_model_ranks_real_photos_first_and_only_the_shipped_checkpoints(tmp_path: Path) -> None:
    write_table("latency", [_lat("fast", 0.5), _lat("slow", 2.0), _lat("mid", 1.0)], root=tmp_path)
    acc = [{"variant": v, "checkpoint_sha256": sha, "backend": "onnx", "precision": "fp32", "dataset": d, "split": "test",
            "nme": n} for v, sha, d, n in (("fast", "a", SELECTION_DATASET, 5.0), ("mid", "b", SELECTION_DATASET, 4.0),
                                           ("slow", "c", SELECTION_DATASET, 3.0), ("mid", "b", REAL_SELECTION_DATASET, 6.0),
                                           ("slow", "c", REAL_SELECTION_DATASET, 7.0),
                                           ("slow", "old", REAL_SELECTION_DATASET, 5.5))]
    write_table("accuracy", acc, root=tmp_path)
    # slow's older checkpoint (5.5 on the photos) beats mid, but its shipped one (7.0) does not
    choice = select_model(5, "onnx", host="h", root=tmp_path, only={"fast": "a", "mid": "b", "slow": "c"})
    assert choice.variant == "mid" and f"6.00% on {REAL_SELECTION_DATASET}" in choice.reason
    assert select_model(5, "onnx", host="h", root=tmp_path).variant == "slow"  # no shas: any checkpoint's row counts
    # fast has no photo row: it ranks after both measured ones, on its synth NME
    assert "5.00% on synth" in select_model(0.7, "onnx", host="h", root=tmp_path).reason


def test_current_host_label_is_stable() -> None:
    host = results.current_host()
    assert host.cores >= 1 and host.name and " " not in host.name
