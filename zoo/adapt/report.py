"""What cross-validation says, as numbers a table prints: per fold, per part, FR@10.

"Before" exists only where the target's points are the model's own (the first 68 of the iBUG
scheme); for any other convention the model has no answer to compare, so it reads as missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.landmarks import PARTS

from .fit import CVResult, nme

FAIL_AT = 10.0


def comparable(model_points: int, target_points: int) -> bool:
    """Whether the model's first ``target_points`` points mean the target's (68- or 70-point iBUG)."""
    return target_points in (68, 70) and model_points >= target_points


def before(model: np.ndarray, target: np.ndarray, iod: tuple[int, int]) -> np.ndarray | None:
    """Per-face NME of the unadapted model, or None when its points are not the target's."""
    k = target.shape[1]
    return nme(model[:, :k], target, iod) if comparable(model.shape[1], k) else None


def failure_rate(per_face: np.ndarray | None, at: float = FAIL_AT) -> float | None:
    """% of faces whose NME exceeds ``at``."""
    return None if per_face is None else float(np.mean(per_face > at) * 100.0)


def mean(per_face: np.ndarray | None) -> float | None:
    return None if per_face is None else float(np.mean(per_face))


@dataclass
class FoldRow:
    fold: int
    fit: int
    scored: int
    alpha: float
    before: float | None
    ridge: float
    mlp: float | None
    fr_before: float | None
    fr_after: float


def fold_rows(model: np.ndarray, target: np.ndarray, iod: tuple[int, int], ridge: CVResult,
              mlp: CVResult | None) -> list[FoldRow]:
    """One row per fold: faces fit and scored, the chosen alpha, NME before / ridge / MLP, FR@10."""
    rows = []
    for i, f in enumerate(ridge.folds):
        b = before(model[f.score], target[f.score], iod)
        m = mlp.folds[i].nme if mlp is not None else None
        rows.append(FoldRow(i + 1, len(f.fit), len(f.score), f.alpha, mean(b), float(f.nme.mean()), mean(m),
                            failure_rate(b), failure_rate(f.nme)))
    return rows


PartRow = tuple[str, float | None, float]


def part_rows(model: np.ndarray, target: np.ndarray, adapted: np.ndarray, iod: tuple[int, int]) -> list[PartRow]:
    """(part, NME before, NME after) over all faces, the after from out-of-fold predictions.

    Parts are the iBUG parts for 68/70-point targets; any other convention is one part, "all".
    """
    k = target.shape[1]
    d = np.linalg.norm(target[:, iod[0]] - target[:, iod[1]], axis=-1)[:, None]
    err_after = np.linalg.norm(adapted - target, axis=-1) / d * 100.0
    err_before = np.linalg.norm(model[:, :k] - target, axis=-1) / d * 100.0 if comparable(model.shape[1], k) else None
    parts = [(name, a, min(b, k)) for name, (a, b) in PARTS.items() if a < k] if k in (68, 70) else [("all", 0, k)]
    rows = [(name, None if err_before is None else float(err_before[:, a:b].mean()), float(err_after[:, a:b].mean()))
            for name, a, b in parts]
    if len(rows) > 1:
        rows.append(("all", None if err_before is None else float(err_before.mean()), float(err_after.mean())))
    return rows


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
