"""Size and cost of a variant, for `zoo models`, bench rows and model cards."""

from __future__ import annotations

from functools import cache

import torch
from torch.utils.flop_counter import FlopCounterMode

from .registry import build_model, get_spec


def count_flops(model: torch.nn.Module, input_size: int) -> int:
    """FLOPs of one forward pass at batch 1 (a multiply-add counts as 2)."""
    model = model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, input_size, input_size))
    return int(counter.get_total_flops())


@cache
def summarize(name: str) -> dict:
    """name, family, activation, width, input_size, heads, params and FLOPs of a registered variant."""
    spec = get_spec(name)
    model = build_model(spec)
    return {
        "name": name, "family": spec.family, "activation": spec.activation, "width": spec.width,
        "input_size": spec.input_size, "heads": spec.heads,
        "params": sum(p.numel() for p in model.parameters()), "flops": count_flops(model, spec.input_size),
    }
