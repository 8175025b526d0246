"""results/*.csv under concurrency and kills (issue 24, part 3): two separate processes upserting latency
rows into one table lose none, a reader in between never sees a half-written table, and the temp files
of killed writers are swept by the next write. (Kills at random moments: tests/test_faults.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from zoo.results import LATENCY_COLUMNS, read_csv, upsert_rows, write_table

REPO = Path(__file__).resolve().parents[1]
WRITER = """
import sys
from zoo.results import write_table
from pathlib import Path
who, n, root = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
for i in range(n):
    write_table("latency", [{"host": "h", "backend": "onnx", "device": "cpu", "variant": f"{who}-{i}", "precision": "fp32",
                             "threads": 1, "batch": 1, "input_size": 96, "task": "latency", "p50_ms": i + 0.5}], root=root)
"""


def test_two_bench_processes_upserting_one_table_lose_no_row(tmp_path: Path) -> None:
    write_table("latency", [{"host": "h", "backend": "onnx", "device": "cpu", "variant": "old", "precision": "fp32",
                             "threads": 1, "batch": 1, "input_size": 96, "task": "latency", "p50_ms": 1.0}], root=tmp_path)
    n = 40
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, who, str(n), str(tmp_path)], cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)}) for who in ("a", "b")]
    reads = 0
    while any(p.poll() is None for p in procs):  # read while they write: never a partial table
        rows = read_csv(tmp_path / "latency.csv")
        assert rows and all(r["p50_ms"] is not None and r["host"] == "h" for r in rows)
        assert len({r["variant"] for r in rows}) == len(rows)
        reads += 1
    assert all(p.returncode == 0 for p in procs)
    variants = sorted(r["variant"] for r in read_csv(tmp_path / "latency.csv"))
    assert variants == sorted(["old", *(f"{w}-{i}" for w in "ab" for i in range(n))])  # rows lost: 0 of 81
    assert list((tmp_path / "latency.csv").read_text().splitlines()[0].split(",")[:len(LATENCY_COLUMNS)]) == \
        list(LATENCY_COLUMNS)
    assert reads > 0


def test_a_killed_writers_temp_file_is_swept_by_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "latency.csv"
    upsert_rows(path, [{"k": "1"}], ("k",))
    stale = tmp_path / ".latency.csv.abc123.tmp"  # what fileio.atomic_open leaves when SIGKILL cuts a write
    stale.write_text("k\n1\n2,half")
    other = tmp_path / ".accuracy.csv.abc123.tmp"  # another table's writer may be mid-write: not ours to touch
    other.write_text("x")
    upsert_rows(path, [{"k": "2"}], ("k",))
    assert not stale.exists() and other.exists()
    assert [r["k"] for r in read_csv(path)] == [1, 2] or [str(r["k"]) for r in read_csv(path)] == ["1", "2"]
