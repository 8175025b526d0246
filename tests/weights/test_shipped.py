"""zoo.weights: the one answer to where shipped weights are and which is the default."""

from __future__ import annotations

from pathlib import Path

from bench.choose import default_variant
from zoo.weights import default_name, shipped_weights, weights_for


def test_default_first_and_lookup_by_variant(tmp_path: Path) -> None:
    for name in ("a.pt", "b.pt", "c.pt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in shipped_weights(tmp_path)] == ["a.pt", "b.pt", "c.pt"] and default_name(tmp_path) is None
    (tmp_path / "DEFAULT").write_text("b.pt\n")  # what `zoo weights ship --default` writes: a file name
    assert default_name(tmp_path) == "b.pt"
    assert [p.name for p in shipped_weights(tmp_path)] == ["b.pt", "a.pt", "c.pt"]
    assert weights_for("c", tmp_path) == tmp_path / "c.pt" and weights_for("d", tmp_path) is None
    assert default_variant(tmp_path) == "b"  # the README's budget table marks the default by variant name
