"""Atomic writes: a failure mid-write leaves the old file and no temp litter."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.fileio import atomic_write


def test_success_replaces_and_failure_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    atomic_write(path, lambda f: f.write("a\n"), mode="w")
    assert path.read_text() == "a\n"

    def crash(f) -> None:
        f.write("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(path, crash, mode="w")
    assert path.read_text() == "a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]
