"""The cached parameter/FLOP table matches what torch counts, for every registered variant."""

from __future__ import annotations

from zoo.architectures import list_variants
from zoo.architectures.costs import COSTS, cost
from zoo.architectures.summary import summarize


def test_every_variant_has_a_cached_cost_equal_to_the_counted_one() -> None:
    stale = []
    for name in list_variants():
        row = summarize(name)
        counted = (int(row["params"]), int(row["flops"]))
        if COSTS.get(name) != counted:
            stale.append(f'    "{name}": {counted},')
    assert not stale, "zoo/architectures/costs.py is stale; set these entries:\n" + "\n".join(stale)


def test_cost_counts_a_variant_missing_from_the_table(monkeypatch) -> None:  # noqa: ANN001 - pytest fixture
    monkeypatch.delitem(COSTS, "lw-relu6")
    assert cost("lw-relu6") == (428085, 66289216)
