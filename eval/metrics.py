"""Accuracy metrics of face alignment, as fdfat and 300-W papers report them.

- NME: mean point-to-point error over the landmarks, divided by the inter-ocular distance of
  the ground truth (outer eye corners 36 and 45), in percent.
- Yaw bins: |yaw| <= 30, 30 < |yaw| <= 40, |yaw| > 40 degrees (fdfat's bins; an edge belongs to
  the lower bin).
- CED: fraction of faces whose NME is at most x. AUC at 10% is the area under the CED from 0
  to 10% divided by 10%; it has the closed form mean(max(0, 1 - nme/10)). The failure rate at
  10% is the fraction of faces with NME above 10%.
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
