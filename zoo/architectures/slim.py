"""Network slimming: a narrower LW network initialised from the strongest channels of a wider trained one.

Why: a half-width model trained from scratch needs the full schedule again (80 epochs on a GPU for the
shipped 96 px model), while most of what the wide model learned survives in the channels that carry the
most signal. Ranking channels by their BatchNorm scale |gamma| (Liu et al. 2017, "Learning Efficient
Convolutional Networks through Network Slimming") and keeping the top ones gives a narrow network that
a short fine-tune recovers. ``zoo train NARROW --init WIDE.pt`` uses this when the widths differ.

Only what ties channels together needs care: an inverted-residual block's hidden channels are its own
(expand -> depthwise -> project), but blocks joined by shortcuts share one *stream* of channels, so one
index set is chosen per stream from every block that writes it. The landmark head's first layer reads the
three pooled pyramid levels, i.e. the last stream three times. The face-score and pose heads are left
out: they are trained on the frozen trunk afterwards anyway.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import InvertedResidual
from .heads import FaceAlignmentNet
from .registry import VariantSpec


def can_slim(wide: VariantSpec, narrow: VariantSpec) -> bool:
    """Whether ``slim_state_dict`` applies: both LW (the family whose block structure it knows), ``wide`` wider."""
    return wide.family == narrow.family == "lw" and wide.width > narrow.width


def _top(score: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the k largest scores, in channel order (ties: lower index first)."""
    if k == score.numel():
        return torch.arange(k)
    return torch.sort(torch.topk(score, k, sorted=True).indices).values


def _blocks(net: FaceAlignmentNet) -> list[InvertedResidual]:
    """The landmark network's inverted-residual blocks in forward order (trunk, pyramid stages, levels)."""
    return [m for part in (net.trunk, net.pyramid) for m in part.modules() if isinstance(m, InvertedResidual)]


def _streams(blocks: list[InvertedResidual]) -> list[list[int]]:
    """Blocks grouped by the channel stream they write: a block without a shortcut starts a new one."""
    streams: list[list[int]] = []
    for i, b in enumerate(blocks):
        if b.has_shortcut and streams:
            streams[-1].append(i)
        else:
            streams.append([i])
    return streams


def slim_state_dict(wide: FaceAlignmentNet, narrow: FaceAlignmentNet) -> dict[str, torch.Tensor]:
    """Landmark-network weights for ``narrow`` taken from ``wide``'s largest-|gamma| channels.

    Both must be LW-family networks of the same depth that differ only in width (the stem is 16 wide
    at every width). Keys of the face-score and pose heads are not returned.
    """
    wb, nb = _blocks(wide), _blocks(narrow)
    if len(wb) != len(nb) or not wb:
        raise ValueError(f"cannot slim: {len(wb)} inverted-residual blocks in the wide network, {len(nb)} in the narrow one")
    out_idx: dict[int, torch.Tensor] = {}
    for stream in _streams(wb):
        score = sum(wb[i].project.bn.weight.detach().abs() for i in stream)
        keep = _top(score, nb[stream[0]].project.bn.num_features)
        out_idx.update({i: keep for i in stream})
    names = {id(m): n for n, m in wide.named_modules()}
    state: dict[str, torch.Tensor] = {}

    def put(module: nn.Module, rows: torch.Tensor, cols: torch.Tensor | None = None) -> None:
        """A conv (+ its BN) of ``module`` (a ConvBNAct) with output channels ``rows`` and input channels ``cols``."""
        prefix = names[id(module)]
        w = module.conv.weight.detach()[rows]
        state[f"{prefix}.conv.weight"] = w[:, cols] if cols is not None else w
        for key, value in module.bn.state_dict().items():
            state[f"{prefix}.bn.{key}"] = value[rows] if value.dim() else value

    c_in = torch.arange(wb[0].expand.conv.in_channels)  # the stem: the same width in both
    for i, (w, n) in enumerate(zip(wb, nb, strict=True)):
        hidden_score = w.expand.bn.weight.detach().abs() * w.depthwise.bn.weight.detach().abs()
        hidden = _top(hidden_score, n.expand.bn.num_features)
        put(w.expand, hidden, c_in)
        put(w.depthwise, hidden)
        put(w.project, out_idx[i], hidden)
        c_in = out_idx[i]
    for name, value in wide.state_dict().items():  # the stem and anything else of equal shape outside the blocks
        if name.startswith("trunk.0.") and name not in state:
            state[name] = value
    levels = len(wide.pyramid.levels)
    per_level = wide.landmark_head.mlp[0].in_features // levels
    cols = torch.cat([c_in + k * per_level for k in range(levels)])
    for name, value in wide.landmark_head.state_dict().items():
        state[f"landmark_head.{name}"] = value[:, cols] if name == "mlp.0.weight" else value
    return state
