"""Model families, heads and the variant registry.

The registry (names, specs, parsing) imports no torch, so ``zoo models`` and ``zoo --help`` answer
quickly; the network classes load on first use through the module ``__getattr__`` below.
"""

from typing import Any

from zoo.contract import PIXEL_MEAN, PIXEL_STD, POSE_SCALE_DEG

from .registry import (
    UnknownVariantError,
    VariantSpec,
    build_model,
    create_model,
    get_spec,
    list_variants,
    parse_variant,
)

__all__ = [
    "PIXEL_MEAN", "PIXEL_STD", "POSE_SCALE_DEG", "FaceAlignmentNet", "TupleOutputs", "UnknownVariantError",
    "VariantSpec", "build_model", "create_model", "get_spec", "list_variants", "parse_variant",
]

_LAZY = {"FaceAlignmentNet": "heads", "TupleOutputs": "heads"}


def __getattr__(name: str) -> Any:
    """``FaceAlignmentNet`` and ``TupleOutputs`` import torch: only when someone asks for them."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
