"""Parameters and FLOPs of every registered variant, as a table: ``zoo models`` prints them without torch.

Counting FLOPs means building the network and running ``torch.utils.flop_counter`` (``summary.py``),
which costs torch's import (about a second, ten on a busy machine) before the first line of output.
The numbers only change when an architecture does, so they are kept here; ``cost`` falls back to
counting for a variant the table does not have yet, and ``tests/architectures/test_costs.py`` fails
when an entry no longer matches what torch counts (it prints the line to paste).
"""

from __future__ import annotations

#: variant -> (parameters, FLOPs at batch 1, one multiply-add = 2 FLOPs)
COSTS: dict[str, tuple[int, int]] = {
    "lw-relu6": (428085, 66289216),
    "lw-silu": (428085, 66289216),
    "lwcsp-relu6": (481044, 122284800),
    "lwcsp-silu": (481044, 122284800),
    "lw-relu6-affine": (428085, 66289216),
    "lwcsp-silu-affine": (481044, 122284800),
    "lw-relu6-affine-cls": (429206, 66413760),
    "lw-silu-affine-cls": (429206, 66413760),
    "lwcsp-relu6-affine-cls": (482165, 122782592),
    "lwcsp-silu-affine-cls": (482165, 122782592),
    "lw-relu6-w0.5": (170677, 21442624),
    "lw-relu6-w0.75": (283413, 40345408),
    "lwcsp-silu-w0.5": (131248, 30840192),
    "lwcsp-silu-w0.75": (278810, 68986944),
    "lw-relu6-w0.5-affine": (170677, 21442624),
    "lw-relu6-w0.5-affine-cls": (171238, 21504896),
    "lwcsp-silu-w0.75-affine-cls": (279651, 69360288),
    "lw-relu6-112": (428085, 90121024),
    "lw-relu6-128": (428085, 117619264),
    "lwcsp-silu-112": (481044, 167520000),
    "lwcsp-silu-128": (481044, 217332480),
    "lw-relu6-w0.5-112": (170677, 29118656),
    "lw-relu6-112-affine": (428085, 90121024),
    "lw-relu6-112-affine-cls": (429206, 90290496),
    "lwcsp-silu-112-affine": (481044, 167520000),
    "lwcsp-silu-112-affine-cls": (482165, 168197504),
    "lw-relu6-affine-cls-pose": (564893, 81014262),
    "lwcsp-silu-affine-cls-pose": (622460, 186485942),
}


def cost(name: str) -> tuple[int, int]:
    """(parameters, FLOPs) of a registered variant: from the table, else counted with torch."""
    if name in COSTS:
        return COSTS[name]
    from .summary import summarize

    row = summarize(name)
    return int(row["params"]), int(row["flops"])
