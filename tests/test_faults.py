"""kill -9 during every writer leaves the old complete file or the new one, and a render resumes
(issue 24, part 3). A few kills per writer here; ``nox -s soak`` runs 50 (see tests/faults.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
KILLS = {"checkpoint": 3, "export": 2, "results": 5, "render": 2}


@pytest.fixture(scope="module")
def figures() -> dict[str, dict]:
    """One process runs every writer's kill loop (one start-up for all); its JSON lines are the figures."""
    plan = [f"{w}:{k}" for w, k in KILLS.items()]
    proc = subprocess.run([sys.executable, str(HERE / "faults.py"), *plan, "--seed", "1"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return {r["writer"]: r for r in rows}


@pytest.mark.parametrize("writer", list(KILLS))
def test_every_kill_leaves_a_complete_file(writer: str, figures: dict[str, dict]) -> None:
    f = figures[writer]
    assert f["kills"] == KILLS[writer] and f["survived"] == KILLS[writer], f
    assert f.get("rows_lost", 0) == 0, f


def test_the_kills_landed_in_writes(figures: dict[str, dict]) -> None:
    """The figures mean something only if kills cut writes, not just the gaps between them (each writer's
    count is left to chance; together they are not)."""
    landed = (figures["checkpoint"]["mid_write"] + figures["export"]["resumed"] + figures["results"]["mid_write"]
              + figures["render"]["resumed_with_faces_kept"])
    assert landed >= 1 and figures["results"]["completed_writes"] > 10, figures


def test_the_soak_session_names_existing_tests() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("noxfile_soak", HERE.parent / "noxfile.py")
    noxfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noxfile)
    assert noxfile.SOAK_KILLS >= 50 and all((HERE.parent / t).is_file() for t in noxfile.SOAK_TESTS)
