"""Training losses and the NME metric, on landmarks in crop units ([-0.5, 0.5]).

Every loss takes a per-sample mask (non-faces and unlabelled samples weigh 0) and per-point
weights (``zoo.landmarks.part_weights``), so one code path serves faces, negatives, 68- and
70-point data alike.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zoo.landmarks import NUM_LANDMARKS_68, OUTER_EYE_CORNERS


def _reduce(per_point: torch.Tensor, point_weights: torch.Tensor | None, mask: torch.Tensor | None) -> torch.Tensor:
    """Weighted mean of ``[N, K]`` values over labelled samples (0 when there are none)."""
    n, k = per_point.shape
    w = per_point.new_ones(n, k)
    if point_weights is not None:
        w = w * point_weights.to(per_point).view(1, k)
    if mask is not None:
        w = w * mask.to(per_point).view(n, 1)
    # Normalise by the samples and points that count, like a plain mean when all weights are 1.
    denom = (mask.to(per_point).sum() if mask is not None else per_point.new_tensor(float(n))) * k
    return (per_point * w).sum() / denom.clamp_min(1.0)


class L1Loss(nn.Module):
    """Mean absolute error per coordinate (fdfat's L1Loss), with masks and point weights."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor, point_weights: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        per_point = (pred - target).abs().mean(-1)  # mean over x and y, like a plain L1 over [N, K*2]
        return _reduce(per_point, point_weights, mask)


class WingLoss(nn.Module):
    """Wing loss (Feng et al., CVPR 2018): log-shaped for small errors, L1 for large ones.

    ``w`` and ``eps`` are in pixels of the model input (``scale`` = input size), because the
    published constants (w=10, eps=2) are pixel values; the result is divided by ``scale`` so
    it reads in crop units like L1.
    """

    def __init__(self, w: float = 10.0, eps: float = 2.0, scale: float = 96.0) -> None:
        super().__init__()
        self.w, self.eps, self.scale = w, eps, scale
        self.c = w - w * math.log1p(w / eps)

    def forward(self, pred: torch.Tensor, target: torch.Tensor, point_weights: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        x = (pred - target).abs() * self.scale
        wing = torch.where(x < self.w, self.w * torch.log1p(x / self.eps), x - self.c)
        return _reduce(wing.mean(-1), point_weights, mask) / self.scale


def make_landmark_loss(name: str, input_size: int, wing_w: float = 10.0, wing_eps: float = 2.0) -> nn.Module:
    if name == "l1":
        return L1Loss()
    if name == "wing":
        return WingLoss(wing_w, wing_eps, float(input_size))
    raise ValueError(f"unknown loss {name!r}; use l1 or wing")


def pose_loss(pred: torch.Tensor, target: torch.Tensor, has_pose: torch.Tensor) -> torch.Tensor:
    """L1 on (yaw, pitch, roll)/90 for samples whose pose is known."""
    return _reduce((pred - target).abs(), None, has_pose.view(-1))


def nme(pred: torch.Tensor, target: torch.Tensor, num_points: int | None = None) -> torch.Tensor:
    """Per-sample NME in percent of the outer-eye-corner distance; ``num_points`` = 68 compares the first 68."""
    k = num_points or min(pred.shape[1], target.shape[1])
    if k < NUM_LANDMARKS_68:
        raise ValueError(f"NME needs at least 68 points, got {k}")
    p, t = pred[:, :k].float(), target[:, :k].float()
    a, b = OUTER_EYE_CORNERS
    iod = (t[:, a] - t[:, b]).norm(dim=-1).clamp_min(1e-6)
    return (p - t).norm(dim=-1).mean(-1) / iod * 100.0


#: fdfat's yaw bins (degrees of |yaw|), used for every per-bin NME.
YAW_BINS: tuple[tuple[str, float, float], ...] = (("yaw_le30", 0.0, 30.0), ("yaw_30_40", 30.0, 40.0),
                                                  ("yaw_gt40", 40.0, 1e9))


def nme_by_yaw(nmes: torch.Tensor, yaw_deg: torch.Tensor, known: torch.Tensor) -> dict[str, float]:
    """Mean NME per |yaw| bin over samples with a known yaw (NaN for an empty bin)."""
    out: dict[str, float] = {}
    ay = yaw_deg.abs()
    for name, lo, hi in YAW_BINS:
        sel = known.bool() & (ay > lo if lo > 0 else ay >= lo) & (ay <= hi)
        out[f"nme_{name}"] = float(nmes[sel].mean()) if sel.any() else float("nan")
    return out
