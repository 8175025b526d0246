"""Accuracy metrics of face alignment, as fdfat and 300-W papers report them.

- NME: mean point-to-point error over the landmarks, divided by the inter-ocular distance of
  the ground truth (outer eye corners 36 and 45), in percent.
- Yaw bins: |yaw| <= 30, 30 < |yaw| <= 40, |yaw| > 40 degrees (fdfat's bins; an edge belongs to
  the lower bin).
- CED: fraction of faces whose NME is at most x. AUC at 10% is the area under the CED from 0
  to 10% divided by 10%; it has the closed form mean(max(0, 1 - nme/10)). The failure rate at
  10% is the fraction of faces with NME above 10%.
- NME (box): the same error divided by the ground-truth landmark box size sqrt(w*h), the
  large-pose convention (AFLW2000-3D). A diagnostic beside NME, never in its place: the 2D
  inter-ocular distance shrinks towards zero as a face turns to profile (to about a fifth of its
  frontal value at 80-90 degrees, in the median), so the same pixel error reads four times larger, while
  the box barely changes. ``yaw_profile`` and ``pose_floor`` say how much of a split's NME is the
  model and how much the yardstick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.landmarks import OUTER_EYE_CORNERS

#: Yaw bins (name, low exclusive, high inclusive) in absolute degrees.
YAW_BINS: tuple[tuple[str, float, float], ...] = (("le30", -1.0, 30.0), ("30_40", 30.0, 40.0), ("gt40", 40.0, float("inf")))
THRESHOLD = 10.0


def nme_per_face(pred: np.ndarray, gt: np.ndarray, num_points: int | None = None) -> np.ndarray:
    """NME in % inter-ocular for each face: ``pred`` and ``gt`` are [N,K,2] (or [K,2]) pixels.

    Only the first ``num_points`` points are compared (default: as many as both have), so a
    70-point model is scored on the 68 points of a 300-W face.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.ndim == 2:
        pred, gt = pred[None], gt[None]
    k = num_points or min(pred.shape[1], gt.shape[1])
    a, b = OUTER_EYE_CORNERS
    iod = np.linalg.norm(gt[:, a] - gt[:, b], axis=-1)
    if np.any(iod <= 0):
        raise ValueError("a ground-truth face has zero inter-ocular distance (points 36 and 45 coincide)")
    err = np.linalg.norm(pred[:, :k] - gt[:, :k], axis=-1).mean(axis=1)
    return 100.0 * err / iod


def box_over_iod(gt: np.ndarray, num_points: int | None = None) -> np.ndarray:
    """Landmark box size sqrt(w*h) of each ground-truth face [N,K,2] in inter-ocular distances (36-45).

    NME (box) of a face is its NME divided by this: about 1.5 for a frontal face, 6.6 (median; up to 85) at
    80-90 degrees of yaw on the renderer's validation split.
    """
    gt = np.asarray(gt, dtype=np.float64)
    if gt.ndim == 2:
        gt = gt[None]
    pts = gt[:, :num_points] if num_points else gt
    span = pts.max(axis=1) - pts.min(axis=1)
    a, b = OUTER_EYE_CORNERS
    iod = np.linalg.norm(gt[:, a] - gt[:, b], axis=-1)
    if np.any(iod <= 0):
        raise ValueError("a ground-truth face has zero inter-ocular distance (points 36 and 45 coincide)")
    return np.sqrt(span[:, 0] * span[:, 1]) / iod


@dataclass
class YawRow:
    """One |yaw| bin of ``yaw_profile``: faces, mean NME (% inter-ocular) and mean NME (% box)."""

    low: float
    high: float
    faces: int
    nme: float
    nme_box: float


def yaw_profile(nme: np.ndarray, scale: np.ndarray, yaw: np.ndarray, step: float = 10.0) -> list[YawRow]:
    """Mean NME and NME (box) per ``step``-degree bin of |yaw| (``scale`` = ``box_over_iod``); empty bins left out."""
    nme, scale, ay = (np.asarray(v, dtype=np.float64) for v in (nme, scale, yaw))
    ay = np.abs(ay)
    rows = []
    for low in np.arange(0.0, max(90.0, float(ay.max(initial=0.0))), step):
        mask = ((ay > low) | (low == 0)) & (ay <= low + step)
        if mask.any():
            rows.append(YawRow(float(low), float(low + step), int(mask.sum()), float(nme[mask].mean()),
                               float((nme[mask] / scale[mask]).mean())))
    return rows


def pose_floor(nme: np.ndarray, scale: np.ndarray, yaw: np.ndarray, frontal: float = 30.0) -> float:
    """Mean NME (% inter-ocular) the split would show if every face were as accurate, for its size, as the
    faces within ``frontal`` degrees are on average: what near-profile faces add through the yardstick alone.

    A model has to beat its own frontal accuracy at every yaw to score below this; NaN without frontal faces.
    """
    nme, scale, ay = (np.asarray(v, dtype=np.float64) for v in (nme, scale, yaw))
    front = np.abs(ay) <= frontal
    if not front.any():
        return float("nan")
    return float((nme[front] / scale[front]).mean() * scale.mean())


def auc_fr(nme: np.ndarray, threshold: float = THRESHOLD) -> tuple[float, float]:
    """(AUC, failure rate) at ``threshold`` % NME, both in [0, 1]."""
    nme = np.asarray(nme, dtype=np.float64)
    if nme.size == 0:
        return float("nan"), float("nan")
    auc = float(np.mean(np.clip(1.0 - nme / threshold, 0.0, 1.0)))
    return auc, float(np.mean(nme > threshold))


def ced(nme: np.ndarray, threshold: float = THRESHOLD, steps: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative error distribution: x (NME %, 0..threshold) and the fraction of faces at or below it."""
    x = np.linspace(0.0, threshold, steps)
    nme = np.sort(np.asarray(nme, dtype=np.float64))
    frac = np.searchsorted(nme, x, side="right") / max(len(nme), 1)
    return x, frac


def yaw_bin(yaw_deg: float) -> str:
    """Name of the bin of a yaw angle (sign ignored; 30 and 40 fall in the lower bin)."""
    y = abs(float(yaw_deg))
    for name, low, high in YAW_BINS:
        if low < y <= high:
            return name
    raise ValueError(f"yaw {yaw_deg!r} is not a number of degrees")


@dataclass
class Summary:
    """The numbers that go into one accuracy.csv row."""

    faces: int
    nme: float
    nme_by_yaw: dict[str, float]
    faces_by_yaw: dict[str, int]
    auc10: float
    fr10: float

    def to_row(self) -> dict[str, float | int | None]:
        row: dict[str, float | int | None] = {"images": self.faces, "nme": self.nme, "auc10": self.auc10, "fr10": self.fr10}
        for name, _, _ in YAW_BINS:
            row[f"nme_yaw_{name}"] = self.nme_by_yaw.get(name)
            row[f"faces_yaw_{name}"] = self.faces_by_yaw.get(name, 0)
        return row


def summarize(nme: np.ndarray, yaw: np.ndarray | None = None) -> Summary:
    """Mean NME overall and per yaw bin (NaN-free: an empty bin is None), AUC and FR at 10%."""
    nme = np.asarray(nme, dtype=np.float64)
    by_yaw: dict[str, float] = {}
    counts: dict[str, int] = {}
    if yaw is not None:
        bins = np.array([yaw_bin(y) for y in yaw])
        for name, _, _ in YAW_BINS:
            mask = bins == name
            counts[name] = int(mask.sum())
            if mask.any():
                by_yaw[name] = float(nme[mask].mean())
    auc, fr = auc_fr(nme)
    return Summary(len(nme), float(nme.mean()) if len(nme) else float("nan"), by_yaw, counts, auc, fr)


@dataclass
class PartErrors:
    """Where the error sits: NME by face part, and the mean offset that every face shares.

    A model trained on renders can be off on real photos in two ways that need different fixes: a
    scatter (realism) or one offset that all faces share (where the renderer puts a landmark is not
    where annotators do). ``offset`` is the mean error in the face's own frame (x along the outer
    eye corners 36->45, y perpendicular), in % inter-ocular; ``nme_without_offset`` is what removing it
    alone would leave.
    """

    parts: dict[str, float]
    offset: tuple[float, float]
    nme: float
    nme_without_offset: float


def part_errors(pred: np.ndarray, gt: np.ndarray, num_points: int | None = None) -> PartErrors:
    """Per-part NME and the shared offset over faces ``pred``/``gt`` [N,K,2] (pixels), first ``num_points``."""
    from zoo.landmarks import PARTS

    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    k = num_points or min(pred.shape[1], gt.shape[1])
    a, b = OUTER_EYE_CORNERS
    axis = gt[:, b] - gt[:, a]
    iod = np.linalg.norm(axis, axis=-1)
    ux = axis / iod[:, None]
    uy = np.stack([-ux[:, 1], ux[:, 0]], axis=-1)
    err = pred[:, :k] - gt[:, :k]
    local = np.stack([(err * ux[:, None]).sum(-1), (err * uy[:, None]).sum(-1)], axis=-1) / iod[:, None, None] * 100.0
    dist = np.linalg.norm(local, axis=-1)  # [N,k] % inter-ocular
    offset = local.mean(axis=(0, 1))
    parts = {name: float(dist[:, lo:min(hi, k)].mean()) for name, (lo, hi) in PARTS.items() if lo < k}
    return PartErrors(parts, (float(offset[0]), float(offset[1])), float(dist.mean()),
                      float(np.linalg.norm(local - offset, axis=-1).mean()))
