"""``adapt()``: the whole of ``zoo adapt`` as one call, the CLI only prints what it returns.

Order matters for bad input: the dataset and the fold count are checked before any network
runs, and nothing is written until the map is fit and its layers agree with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import AdaptError
from .faces import load_labelled, normaliser
from .fit import choose_alpha, cross_validate, fit_mlp, fit_ridge, folds, mlp_fitter, one_blas_thread, ridge_fitter
from .observe import observe, resolve
from .report import FoldRow, before, failure_rate, fold_rows, mean, part_rows

MAP_KINDS = ("ridge", "mlp", "auto")


@dataclass
class AdaptResult:
    out: Path | None
    sha256: str | None
    info: dict[str, Any]
    folds: list[FoldRow] = field(default_factory=list)
    parts: list[tuple[str, float | None, float]] = field(default_factory=list)


def dataset_label(path: Path) -> str:
    """The dataset YAML's stem, or its folder's name for generic stems (faces.yaml)."""
    path = Path(path)
    return path.parent.resolve().name if path.stem in {"faces", "dataset", "data"} else path.stem


def adapt(model: str, dataset: Path, out: Path | None, *, splits: tuple[str, ...] | None = None, k: int = 5,
          kind: str = "ridge", crop: str = "detector", backend: str = "onnx", iod: tuple[int, int] | None = None,
          seed: int = 0, progress: Callable[[int], None] | None = None, on_observe: Callable[[int], None] | None = None,
          ) -> AdaptResult:
    """Fit ``model``'s map to ``dataset``'s convention with k-fold CV; write the adapted checkpoint to ``out``."""
    if kind not in MAP_KINDS:
        raise AdaptError(f"--kind {kind}: choose one of {', '.join(MAP_KINDS)}")
    faces = load_labelled(Path(dataset), splits)
    pair = normaliser(faces.num_points, iod)
    folds(len(faces), k, seed)  # too few faces: say so before running anything
    ref = resolve(model)
    if on_observe is not None:
        on_observe(len(faces))
    obs = observe(ref, faces, crop, backend, seed=seed, progress=progress)
    with one_blas_thread():
        ridge_cv = cross_validate(obs.model, obs.target, pair, ridge_fitter(pair, k, seed), k, seed)
        mlp_cv = cross_validate(obs.model, obs.target, pair, mlp_fitter(pair, k, seed), k, seed)  # reported either way
        chosen = "mlp" if kind == "mlp" or (kind == "auto" and mlp_cv.mean_nme < ridge_cv.mean_nme) else "ridge"
        alpha, _ = choose_alpha(obs.model, obs.target, pair, k, seed)
        final = fit_mlp(obs.model, obs.target, alpha, seed) if chosen == "mlp" else fit_ridge(obs.model, obs.target, alpha)
    cv = mlp_cv if chosen == "mlp" else ridge_cv
    n, kpts = len(faces), faces.num_points
    oof = cv.out_of_fold(n, kpts)
    raw = before(obs.model, obs.target, pair)
    per_face = np.concatenate([f.nme for f in cv.folds])
    info = {
        "convention": f"{kpts} points ({dataset_label(Path(dataset))})", "points": kpts, "dataset": str(dataset),
        "faces": n, "crop": crop, "crops": {c: obs.crop_kind.count(c) for c in sorted(set(obs.crop_kind))},
        "backend": backend, "map": chosen, "alpha": alpha, "lambda": alpha * n, "folds": k, "seed": seed,
        "normaliser_points": list(pair), "model": ref.label, "model_sha256": ref.sha256,
        "cv_nme": cv.mean_nme, "cv_nme_ridge": ridge_cv.mean_nme, "cv_nme_mlp": mlp_cv.mean_nme,
        "cv_nme_before": mean(raw), "cv_fr10": failure_rate(per_face), "cv_fr10_before": failure_rate(raw),
        "pose_points": "the first 68 (iBUG)" if kpts in (68, 70) else "none: the target has no iBUG 68",
        "note": "fit on labelled faces supplied by the user; a map fit on evaluation data must not ship",
    }
    result = AdaptResult(None, None, info, fold_rows(obs.model, obs.target, pair, ridge_cv, mlp_cv),
                         part_rows(obs.model, obs.target, oof, pair))
    if out is not None:
        from .adapted import write_adapted

        result.out, result.sha256 = Path(out), write_adapted(Path(out), ref, final, kpts, info, obs.model)
    return result
