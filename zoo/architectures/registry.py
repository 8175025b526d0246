"""The one registry of model variants.

A variant name reads ``family-activation[-wWIDTH][-SIZE][-affine][-cls][-pose]``; the
name *is* the configuration, so a checkpoint, a results row and a CLI argument all say the
same thing. Families register a builder with ``@register_family``; variants are registered
by name in ``VARIANTS`` below (one line each).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .heads import FaceAlignmentNet

SIZES = (96, 112, 128)


@dataclass(frozen=True)
class VariantSpec:
    """Everything that decides a variant's architecture and its training recipe."""

    family: str
    activation: str
    width: float = 1.0
    input_size: int = 96
    affine: bool = False
    cls: bool = False
    pose: bool = False
    num_points: int = 70

    @property
    def name(self) -> str:
        parts = [self.family, self.activation]
        if self.width != 1.0:
            parts.append(f"w{self.width:g}")
        if self.input_size != 96:
            parts.append(str(self.input_size))
        parts += [flag for flag in ("affine", "cls", "pose") if getattr(self, flag)]
        return "-".join(parts)

    @property
    def heads(self) -> tuple[str, ...]:
        return ("landmarks",) + (("face_score",) if self.cls else ()) + (("pose",) if self.pose else ())

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> VariantSpec:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


_NAME = re.compile(
    r"^(?P<family>[a-z]+)-(?P<activation>[a-z0-9]+)(?:-w(?P<width>[0-9.]+))?(?:-(?P<size>\d+))?"
    r"(?P<affine>-affine)?(?P<cls>-cls)?(?P<pose>-pose)?$"
)

FamilyBuilder = Callable[[VariantSpec], "FaceAlignmentNet"]
_FAMILIES: dict[str, FamilyBuilder] = {}


def register_family(name: str) -> Callable[[FamilyBuilder], FamilyBuilder]:
    """Decorator: register a function that builds a family's network from a spec."""

    def deco(fn: FamilyBuilder) -> FamilyBuilder:
        _FAMILIES[name] = fn
        return fn

    return deco


def parse_variant(name: str) -> VariantSpec:
    """Spec of a well-formed variant name (registered or not)."""
    m = _NAME.match(name)
    if not m:
        raise ValueError(f"{name!r} is not a variant name (family-activation[-wWIDTH][-SIZE][-affine][-cls][-pose])")
    size = int(m["size"]) if m["size"] else 96
    if size not in SIZES:
        raise ValueError(f"input size {size} in {name!r} is not one of {SIZES}")
    return VariantSpec(
        family=m["family"], activation=m["activation"], width=float(m["width"] or 1.0), input_size=size,
        affine=bool(m["affine"]), cls=bool(m["cls"]), pose=bool(m["pose"]),
    )


#: Every registered variant: one line each.
VARIANTS: tuple[str, ...] = (
    # family x activation bases
    "lw-relu6", "lw-silu", "lwcsp-relu6", "lwcsp-silu",
    # the affine recipe, and its face-score forms (fdfat's published pair are lw-relu6- and lwcsp-silu-affine-cls)
    "lw-relu6-affine", "lwcsp-silu-affine",
    "lw-relu6-affine-cls", "lw-silu-affine-cls", "lwcsp-relu6-affine-cls", "lwcsp-silu-affine-cls",
    # narrower
    "lw-relu6-w0.5", "lw-relu6-w0.75", "lwcsp-silu-w0.5", "lwcsp-silu-w0.75",
    "lw-relu6-w0.5-affine", "lw-relu6-w0.5-affine-cls", "lwcsp-silu-w0.75-affine-cls",
    # larger input
    "lw-relu6-112", "lw-relu6-128", "lwcsp-silu-112", "lwcsp-silu-128",
    "lw-relu6-w0.5-112", "lw-relu6-112-affine", "lw-relu6-112-affine-cls", "lwcsp-silu-112-affine", "lwcsp-silu-112-affine-cls",
    # auxiliary pose head
    "lw-relu6-affine-cls-pose", "lwcsp-silu-affine-cls-pose",
)


def list_variants(pattern: str | None = None) -> list[str]:
    """Registered variant names, optionally filtered by a shell-style pattern."""
    import fnmatch

    names = list(VARIANTS)
    return [n for n in names if fnmatch.fnmatch(n, pattern)] if pattern else names


class UnknownVariantError(ValueError):
    """A name that is not registered; the message suggests the closest registered names."""


def get_spec(name: str, num_points: int | None = None) -> VariantSpec:
    """Spec of a registered variant; unknown names raise with the closest suggestions.

    Names and specs need no network code, so this imports no torch (``zoo models`` stays quick)."""
    if name not in VARIANTS:
        close = difflib.get_close_matches(name, VARIANTS, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "run `zoo models` for the list"
        raise UnknownVariantError(f"unknown variant {name!r}: {hint}")
    spec = parse_variant(name)
    return replace(spec, num_points=num_points) if num_points else spec


def build_model(spec: VariantSpec) -> FaceAlignmentNet:
    """Network for a spec (registered or not, e.g. from a checkpoint's config)."""
    _ensure_families()
    if spec.family not in _FAMILIES:
        raise ValueError(f"unknown family {spec.family!r}; known: {sorted(_FAMILIES)}")
    if spec.num_points not in (68, 70):
        raise ValueError(f"num_points must be 68 or 70, not {spec.num_points}")
    model = _FAMILIES[spec.family](spec)
    model.spec = spec
    return model


def create_model(name: str, num_points: int | None = None) -> FaceAlignmentNet:
    """A freshly initialised network of a registered variant."""
    return build_model(get_spec(name, num_points))


def _ensure_families() -> None:
    # Importing the family modules runs their @register_family decorators.
    from . import lw, lwcsp  # noqa: F401
