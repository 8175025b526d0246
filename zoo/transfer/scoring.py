"""How a model does on annotated photos, split into *definition* and *scatter* (issue 25).

A model trained on renders can miss the annotators' points in two ways that need different fixes:
it can put a point where its renderer defines it (every face off the same way: a definition gap),
or it can scatter (what it learned differs from photos: a realism gap). Three numbers separate them:

- **raw NME**: the model's points against the annotators';
- **offset-removed NME**: each point moved by its mean offset in the model's eye frame, the offset
  learned on the other folds (k-fold CV), so no face is corrected by its own error;
- **label-mapped NME**: the best linear map from the model's points to the annotators' (ridge in the
  eye frame, regularisation by nested CV: ``zoo.adapt.fit``), again scored out of fold.

What the map cannot remove is scatter. The per-point offset table (mean error per point in the
annotators' eye frame, % of the inter-ocular distance) says which points a label definition moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zoo.adapt.fit import cross_validate, folds, ridge_fitter
from zoo.adapt.fit import nme as adapt_nme
from zoo.landmarks import NUM_LANDMARKS_68, OUTER_EYE_CORNERS, PARTS, eye_frame, from_frame, to_frame

#: Failure threshold of FR (% inter-ocular), as everywhere in zoo.
FAIL_AT = 10.0
#: Parts reported (the pupils have no 300-W annotation).
SCORED_PARTS = ("jaw", "brows", "nose", "eyes", "mouth")


def nme(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-face NME (% of the annotators' outer-eye-corner distance) over the annotators' points."""
    return adapt_nme(pred[:, :gt.shape[1]], gt, OUTER_EYE_CORNERS)


def point_offsets(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """[K, 2] mean error (prediction minus annotation) per point in the annotators' eye frame, % IOD.

    x runs along 36 -> 45, y perpendicular (down in an upright face); its norm per point is the offset
    that a label definition would remove and that no amount of realism does."""
    k = gt.shape[1]
    frame = eye_frame(gt)
    return 100.0 * (to_frame(pred[:, :k], frame) - to_frame(gt, frame)).mean(0)


def offset_removed(pred: np.ndarray, gt: np.ndarray, k: int = 5, seed: int = 0) -> np.ndarray:
    """Per-face NME after moving each point by its mean offset in the model's own eye frame, the offset
    measured on the other folds: a translation per point, the weakest label map."""
    m = gt.shape[1]
    frame = eye_frame(pred)
    local_p, local_g = to_frame(pred[:, :m], frame), to_frame(gt, frame)
    fixed = np.empty_like(gt, dtype=np.float64)
    for fit, score in folds(len(gt), k, seed):
        shift = (local_g[fit] - local_p[fit]).mean(0)
        sub = tuple(f[score] for f in frame)
        fixed[score] = from_frame(local_p[score] + shift, sub)
    return nme(fixed, gt)


def label_mapped(pred: np.ndarray, gt: np.ndarray, k: int = 5, seed: int = 0) -> np.ndarray:
    """Per-face NME of the best linear map from all the model's points to the annotators' (ridge in the
    eye frame, alpha by an inner CV on each fold's fitting faces), scored out of fold."""
    cv = cross_validate(pred, gt, OUTER_EYE_CORNERS, ridge_fitter(OUTER_EYE_CORNERS, k, seed), k, seed)
    out = np.empty(len(gt))
    for f in cv.folds:
        out[f.score] = f.nme
    return out


@dataclass
class PhotoScore:
    """One model on one annotated set: the numbers of issue 25's first table, and where the error sits."""

    dataset: str
    faces: int
    nme: float
    fr10: float
    nme_offset_removed: float
    nme_mapped: float
    fr10_mapped: float
    parts: dict[str, float] = field(default_factory=dict)
    offsets: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # [K, 2] % IOD

    @property
    def offset_norms(self) -> np.ndarray:
        return np.linalg.norm(self.offsets, axis=-1)

    def worst_offset(self) -> tuple[int, float]:
        norms = self.offset_norms
        i = int(np.argmax(norms))
        return i, float(norms[i])

    def to_row(self) -> dict[str, float | int | str]:
        i, worst = self.worst_offset()
        row: dict[str, float | int | str] = {
            "dataset": self.dataset, "faces": self.faces, "nme": round(self.nme, 4), "fr10": round(self.fr10, 4),
            "nme_offset_removed": round(self.nme_offset_removed, 4), "nme_mapped": round(self.nme_mapped, 4),
            "fr10_mapped": round(self.fr10_mapped, 4), "max_point_offset": round(worst, 3), "max_offset_point": i,
            "mean_point_offset": round(float(self.offset_norms.mean()), 3)}
        row.update({f"nme_{p}": round(v, 4) for p, v in self.parts.items()})
        return row


def score(pred: np.ndarray, gt: np.ndarray, dataset: str, k: int = 5, seed: int = 0) -> PhotoScore:
    """Score predictions [N, >=68, 2] against 68-point annotations [N, 68, 2] (both in image pixels)."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if gt.ndim != 3 or gt.shape[1] != NUM_LANDMARKS_68 or pred.shape[0] != gt.shape[0] or pred.shape[1] < NUM_LANDMARKS_68:
        raise ValueError(f"score needs [N,68,2] annotations and [N,>=68,2] predictions, got {gt.shape} and {pred.shape}")
    raw = nme(pred, gt)
    frame = eye_frame(gt)
    err = np.linalg.norm(to_frame(pred[:, :NUM_LANDMARKS_68], frame) - to_frame(gt, frame), axis=-1) * 100.0
    parts = {p: float(err[:, PARTS[p][0]:PARTS[p][1]].mean()) for p in SCORED_PARTS}
    mapped = label_mapped(pred, gt, k, seed)
    return PhotoScore(dataset, len(gt), float(raw.mean()), float((raw > FAIL_AT).mean()),
                      float(offset_removed(pred[:, :NUM_LANDMARKS_68], gt, k, seed).mean()), float(mapped.mean()),
                      float((mapped > FAIL_AT).mean()), parts, point_offsets(pred, gt))
