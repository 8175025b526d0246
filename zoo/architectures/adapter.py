"""Label adaptation in the graph: a network's own points -> a dataset's landmark convention.

A model trained on renders places each point where its renderer defines it; annotators of a
dataset place it a little elsewhere (and may use another set of points altogether). ``zoo adapt``
fits a small map from the model's points to theirs; this module is that map as layers, so every
export (ONNX, OpenVINO, TFLite, CoreML) carries it and no runtime needs to know it exists.

The map works in the model's *predicted eye frame*: origin halfway between points 36 and 45, x
along 36 -> 45, unit = their distance. That frame moves with the face, so the map is the same
whatever the crop's offset, scale or the head's roll; only plain tensor arithmetic is used
(no ``atan2``, no ``linalg``), which every converter handles. The checkpoint stores it as a plain
dict of tensors (``adapter_state``), loadable with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zoo.landmarks import OUTER_EYE_CORNERS

from .registry import VariantSpec

ADAPTER_FORMAT = "zoo-adapter/1"
KINDS = ("ridge", "mlp")
MAX_POINTS = 10_000  # no landmark convention has more; a bigger number is a broken or hostile file
MAX_HIDDEN = 4096
_EPS = 1e-6


def to_eye_frame(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``[N,P,2]`` points -> (points in their eye frame, origin [N,1,2], x axis [N,1,2], unit [N,1,1]).

    The x axis has length 1; the y axis is it turned by +90 degrees (image y points down, so
    that is "down the face" for an upright face).
    """
    a, b = OUTER_EYE_CORNERS
    left, right = points[:, a:a + 1, :], points[:, b:b + 1, :]
    origin = (left + right) * 0.5
    d = right - left
    unit = torch.sqrt((d * d).sum(-1, keepdim=True) + _EPS)
    axis = d / unit
    q = points - origin
    cx, cy = axis[..., 0:1], axis[..., 1:2]
    u = (q[..., 0:1] * cx + q[..., 1:2] * cy) / unit
    v = (q[..., 1:2] * cx - q[..., 0:1] * cy) / unit
    return torch.cat([u, v], -1), origin, axis, unit


def from_eye_frame(local: torch.Tensor, origin: torch.Tensor, axis: torch.Tensor, unit: torch.Tensor) -> torch.Tensor:
    """Inverse of ``to_eye_frame`` for another set of points expressed in the same frame."""
    cx, cy = axis[..., 0:1], axis[..., 1:2]
    u, v = local[..., 0:1] * unit, local[..., 1:2] * unit
    return torch.cat([u * cx - v * cy, u * cy + v * cx], -1) + origin


class LandmarkMap(nn.Module):
    """Eye-frame points of the model ``[N,P,2]`` -> target points ``[N,K,2]`` (same units as the input).

    ``ridge``: one linear layer on the flattened eye-frame coordinates. ``mlp``: the same linear
    layer plus a one-hidden-layer ReLU correction (Wood et al. 2021's label adaptation is an MLP).
    """

    def __init__(self, source_points: int, target_points: int, kind: str = "ridge", hidden: int = 0) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"adapter kind must be one of {KINDS}, not {kind!r}")
        self.kind, self.source_points, self.target_points, self.hidden = kind, source_points, target_points, hidden
        self.linear = nn.Linear(2 * source_points, 2 * target_points)
        self.mlp = nn.Sequential(nn.Linear(2 * source_points, hidden), nn.ReLU(), nn.Linear(hidden, 2 * target_points)) \
            if kind == "mlp" else None

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        local, origin, axis, unit = to_eye_frame(points)
        x = local.reshape(local.shape[0], 2 * self.source_points)
        y = self.linear(x)
        if self.mlp is not None:
            y = y + self.mlp(x)
        return from_eye_frame(y.reshape(-1, self.target_points, 2), origin, axis, unit)


@dataclass(frozen=True)
class AdaptedSpec(VariantSpec):
    """A variant's spec whose ``landmarks`` are another convention (``num_points`` of them).

    The network's own ``source_points`` stay an output, ``source_landmarks``: crops and head pose
    follow those, since a 5-point convention neither outlines a face nor fits the 3D mean face.
    """

    source_points: int = 70

    @property
    def name(self) -> str:
        """``<variant>-adapted<K>``: exports, manifests and result rows never pass for the unadapted model."""
        return f"{super().name}-adapted{self.num_points}"

    @property
    def heads(self) -> tuple[str, ...]:
        return (*super().heads, "source_landmarks")


class AdaptedNet(nn.Module):
    """A zoo network whose landmark output goes through a ``LandmarkMap``; its own points are kept.

    ``spec`` says ``num_points`` = the target's count, so manifests, exports and output shapes name
    the adapted convention; ``base.spec`` rebuilds the network.
    """

    def __init__(self, base: nn.Module, landmark_map: LandmarkMap, info: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.base = base
        self.landmark_map = landmark_map
        self.info = dict(info or {})
        fields = {**base.spec.to_dict(), "num_points": landmark_map.target_points, "source_points": base.spec.num_points}
        self.spec = AdaptedSpec(**fields)
        self.output_names = (*base.output_names, "source_landmarks")

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = dict(self.base(x))
        out["source_landmarks"] = out["landmarks"]
        out["landmarks"] = self.landmark_map(out["landmarks"])
        return out

    def adapter_state(self) -> dict[str, Any]:
        """The checkpoint's ``adapter`` field: plain tensors and builtins only."""
        m = self.landmark_map
        return {"format": ADAPTER_FORMAT, "kind": m.kind, "source_points": m.source_points,
                "target_points": m.target_points, "hidden": m.hidden, "info": self.info,
                "state_dict": {k: v.detach().cpu().clone() for k, v in m.state_dict().items()}}


def attach_adapter(base: nn.Module, state: dict[str, Any]) -> AdaptedNet:
    """The adapted network from a plain ``adapter_state`` dict (as stored in a checkpoint).

    Raises ValueError with one line when the dict does not fit the network. Sizes are checked
    before any layer is made: a stranger's checkpoint cannot make us allocate a billion points.
    """
    if not isinstance(state, dict) or state.get("format") != ADAPTER_FORMAT:
        raise ValueError(f"the checkpoint's adapter is not a {ADAPTER_FORMAT} map; re-run `zoo adapt`")
    try:
        source, target = int(state["source_points"]), int(state["target_points"])
        kind, hidden = str(state["kind"]), int(state.get("hidden", 0))
    except (KeyError, TypeError, ValueError) as e:
        why = " ".join(str(e).split())[:120] or type(e).__name__
        raise ValueError(f"the checkpoint's adapter has no readable point counts and kind ({why}); re-run `zoo adapt`") from None
    have = base.spec.num_points
    if source != have:
        raise ValueError(f"the adapter maps {source} points but the network predicts {have}; re-run `zoo adapt` on this network")
    if not (1 <= target <= MAX_POINTS and 0 <= hidden <= MAX_HIDDEN and kind in KINDS):
        raise ValueError(f"the checkpoint's adapter is malformed ({kind}, {target} points, {hidden} hidden units; "
                         f"at most {MAX_POINTS} points and {MAX_HIDDEN} units); re-run `zoo adapt`")
    m = LandmarkMap(source, target, kind, hidden)
    try:
        m.load_state_dict(state["state_dict"])
    except (RuntimeError, KeyError, TypeError, AttributeError) as e:
        why = " ".join(str(e).split())[:160] or type(e).__name__
        raise ValueError(f"the checkpoint's adapter weights do not fit its map ({why}); re-run `zoo adapt`") from None
    return AdaptedNet(base, m, state.get("info") if isinstance(state.get("info"), dict) else {}).eval()
