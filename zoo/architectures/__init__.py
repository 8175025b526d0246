"""Model families, heads and the variant registry."""

from zoo.contract import PIXEL_MEAN, PIXEL_STD, POSE_SCALE_DEG

from .heads import FaceAlignmentNet, TupleOutputs
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
