"""The import layering that README's "Layout" section states, checked on the real import graph.

grimp (the graph library behind import-linter) reads every import, lazy ones inside functions
included. Command modules (``zoo.cli`` and each area's ``commands``) form the CLI layer: they may
import anything, nothing below them may import them.
"""

from __future__ import annotations

import grimp
import pytest

#: Each unit, top to bottom, and the units it may import (besides the ground floor and ``zoo`` itself).
GROUND = {"zoo.contract", "zoo.fileio", "zoo.landmarks", "zoo.console", "zoo.pose", "zoo.errors"}
ALLOWED: dict[str, set[str]] = {
    "cli": {"*"},
    # the package root only re-exports the Python API, lazily (``zoo.track`` is the callable tracker package)
    "zoo": {"zoo.api", "zoo.track"},
    # the Python API sits beside the CLI: runtime packages, and ``eval`` imported inside ``evaluate`` only
    "zoo.api": {"eval", "zoo.track", "zoo.predict", "zoo.backends", "zoo.checkpoints", "zoo.weights", "zoo.architectures"},
    "eval": {"bench", "zoo.backends", "zoo.checkpoints", "zoo.data", "zoo.results", "zoo.synth", "zoo.weights",
             "zoo.architectures", "zoo.predict"},
    "bench": {"zoo.backends", "zoo.checkpoints", "zoo.data", "zoo.results", "zoo.synth", "zoo.track", "zoo.weights",
              "zoo.architectures", "zoo.predict"},
    "zoo.track": {"zoo.predict", "zoo.backends", "zoo.checkpoints", "zoo.data", "zoo.results", "zoo.synth",
                  "zoo.weights", "zoo.architectures"},
    "zoo.engine": {"zoo.checkpoints", "zoo.data", "zoo.architectures", "zoo.synth"},
    # the transfer protocol trains (engine) and scores (eval, adapt's maps): it sits above both
    "zoo.transfer": {"zoo.engine", "eval", "bench", "zoo.adapt", "zoo.synth", "zoo.data", "zoo.results", "zoo.checkpoints",
                     "zoo.weights", "zoo.architectures", "zoo.backends", "zoo.predict"},
    "zoo.adapt": {"zoo.checkpoints", "zoo.architectures", "zoo.data", "zoo.predict", "zoo.backends", "zoo.weights",
                  "zoo.results"},
    "zoo.predict": {"zoo.backends", "zoo.data", "zoo.architectures"},
    "zoo.backends": {"zoo.checkpoints", "zoo.data", "zoo.synth", "zoo.weights", "zoo.architectures"},
    "zoo.results": {"zoo.synth"},
    "zoo.weights": {"zoo.checkpoints", "zoo.architectures"},
    "zoo.synth": {"zoo.data"},
    "zoo.checkpoints": {"zoo.architectures"},
    "zoo.data": set(),
    "zoo.architectures": set(),
    **{g: set() for g in GROUND},
}


def unit(module: str) -> str:
    if module == "zoo.cli" or module == "zoo.__main__" or module.endswith(".commands"):
        return "cli"
    if module == "zoo":
        return "zoo"
    if module.startswith("zoo."):
        return ".".join(module.split(".")[:2])
    return module.split(".")[0]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("zoo", "bench", "eval", include_external_packages=False)


def _edges(graph: grimp.ImportGraph) -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = unit(module), unit(imported)
            if a != b and b != "zoo":  # ``zoo`` itself holds only __version__ and the lazy public API
                edges.setdefault((a, b), []).append(f"{module} -> {imported}")
    return edges


def test_every_unit_is_known(graph: grimp.ImportGraph) -> None:
    units = {unit(m) for m in graph.modules} - {"zoo"}
    assert units <= set(ALLOWED), f"new top-level unit(s) {sorted(units - set(ALLOWED))}: add them to ALLOWED and README"


def test_imports_follow_the_layers(graph: grimp.ImportGraph) -> None:
    bad = [f"{a} may not import {b}: {', '.join(why[:3])}" for (a, b), why in sorted(_edges(graph).items())
           if "*" not in ALLOWED[a] and b not in ALLOWED[a] | GROUND]
    assert not bad, "\n".join(bad)


def test_ground_floor_imports_no_other_unit(graph: grimp.ImportGraph) -> None:
    bad = [f"{a} -> {b}" for (a, b) in _edges(graph) if a in GROUND and b not in {"zoo.contract", "zoo.landmarks"}]
    assert not bad, bad


def test_no_circle_between_units(graph: grimp.ImportGraph) -> None:
    edges = _edges(graph)
    succ: dict[str, set[str]] = {}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(succ.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(succ):
        if node not in state and (cycle := visit(node)):
            detail = [edges[(x, y)][0] for x, y in zip(cycle, cycle[1:], strict=False)]
            pytest.fail("import circle " + " -> ".join(cycle) + ": " + "; ".join(detail))


@pytest.mark.parametrize(("low", "high"), [("zoo.backends", "zoo.engine"), ("zoo.track", "zoo.engine"),
                                           ("bench", "zoo.engine"), ("eval", "zoo.engine"),
                                           ("zoo.predict", "zoo.engine"), ("zoo.data", "zoo.architectures")])
def test_named_forbidden_imports(graph: grimp.ImportGraph, low: str, high: str) -> None:
    """The issue's own examples, spelled out: runtime never trains, data never knows the model."""
    chain = graph.find_shortest_chain(importer=low, imported=high, as_packages=True)
    assert chain is None, f"{low} reaches {high}: {' -> '.join(chain)}"


def test_no_module_imports_a_command_module(graph: grimp.ImportGraph) -> None:
    bad = [f"{m} -> {i}" for m in graph.modules if unit(m) != "cli"
           for i in graph.find_modules_directly_imported_by(m) if unit(i) == "cli"]
    assert not bad, bad


def test_module_level_circles_are_gone(graph: grimp.ImportGraph) -> None:
    """Two module pairs that used to import each other (lazily, inside functions)."""
    for a, b in [("bench.choose", "bench.tables"), ("zoo.data.check", "zoo.data.formats")]:
        both = graph.direct_import_exists(importer=a, imported=b) and graph.direct_import_exists(importer=b, imported=a)
        assert not both, f"{a} and {b} import each other"
