"""results/*.csv under concurrency and kills (issue 24, part 3): two separate processes upserting latency
rows into one table lose none, a reader in between never sees a half-written table, and the temp files
of killed writers are swept by the next write. (Kills at random moments: tests/test_faults.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fuzzing import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from zoo.results import LATENCY_COLUMNS, ResultsError, read_csv, upsert_rows, write_table

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


@FUZZ
@given(data=st.binary(max_size=600) | st.text(max_size=600) | st.lists(
    st.lists(st.text(alphabet="ab,\"\n\r\0x1", max_size=6), max_size=5).map(",".join), max_size=8).map("\n".join))
def test_a_damaged_table_reads_or_is_refused_and_a_write_never_makes_it_worse(data: bytes | str, tmp_path: Path) -> None:
    """Random bytes, text and near-CSV (quotes, NULs, ragged rows) as latency.csv: read_csv gives rows of named
    cells or one ResultsError line; an upsert either adds its row to what was readable or leaves the file as it was."""
    path = tmp_path / "latency.csv"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    before = path.read_bytes()
    try:
        rows = read_csv(path)
        assert all(isinstance(k, str) for r in rows for k in r)
    except ResultsError as e:
        assert "\n" not in str(e) and str(path) in str(e)
    try:
        upsert_rows(path, [{"k": "new", "v": "1"}], ("k",))
    except ResultsError:
        assert path.read_bytes() == before
        return
    assert any(r.get("k") == "new" for r in read_csv(path))


def test_bench_and_eval_refuse_an_unreadable_table_before_measuring(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from zoo.cli import app

    (tmp_path / "latency.csv").write_bytes(b"host,backend\n\xff\xfe\x00 binary")
    (tmp_path / "accuracy.csv").write_bytes(b"variant\n\xff\xfe half a row")
    for args in (["bench", "-v", "lw-relu6", "--no-peers", "--runs", "1", "--out", str(tmp_path)],
                 ["eval", "-c", str(tmp_path / "latency.csv"), "--out", str(tmp_path)]):
        result = CliRunner().invoke(app, args)
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert result.exit_code == 1 and len(lines) == 1 and "not a readable results table" in lines[0], result.output


def test_track_budget_refuses_an_unreadable_latency_table(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import cv2
    import numpy as np
    from typer.testing import CliRunner

    from zoo.cli import app

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "latency.csv").write_bytes(b"host,p50_ms\n\xff\xfe")
    (tmp_path / "frames").mkdir()
    cv2.imwrite(str(tmp_path / "frames" / "0000.png"), np.zeros((48, 64, 3), np.uint8))
    monkeypatch.setenv("ZOO_RESULTS", str(tmp_path / "results"))
    result = CliRunner().invoke(app, ["track", str(tmp_path / "frames"), "--budget-ms", "5"])
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and "not a readable results table" in lines[0], result.output
