"""Fitting the map: ridge regression in the model's eye frame, its strength chosen by k-fold CV.

Features are the model's points in its own eye frame (``zoo.architectures.adapter.to_eye_frame``,
here in float64 numpy with the same arithmetic), targets the annotators' points in that same
frame. Ridge shrinks the centred weights towards zero; how much is chosen by cross-validated NME
over a grid ``alpha * n`` (the right amount falls as faces are added). The MLP option adds a
one-hidden-layer correction trained on ridge's residual with weight decay.

``cross_validate`` takes any fitter, so a test can hand it one that memorises its faces: a face
scored at exactly zero error would then prove a fold scored a face it was fit on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from zoo.landmarks import eye_frame, from_frame, to_frame

from . import AdaptError

#: Ridge strength grid: lambda = alpha * number of fitting faces.
ALPHAS = tuple(float(a) for a in np.logspace(-7, 0, 15))
MLP_HIDDEN = 64
MLP_STEPS = 600
MLP_WEIGHT_DECAY = 1e-3
_EPS = 1e-6


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS/LAPACK on one thread: these matrices are a few hundred by 140, and OpenBLAS's threads
    only spin against each other on them (an SVD took 0.3 s with them, 0.01 s without on two busy cores)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


# --------------------------------------------------------------------------- the eye frame (numpy twin of the graph's)
# --------------------------------------------------------------------------- maps
@dataclass
class Map:
    """``y = x @ weight + bias (+ mlp(x))`` on flattened eye-frame coordinates."""

    weight: np.ndarray  # [2P, 2K]
    bias: np.ndarray  # [2K]
    alpha: float
    mlp: dict[str, np.ndarray] | None = None  # w1 [2P,H], b1 [H], w2 [H,2K], b2 [2K]

    @property
    def kind(self) -> str:
        return "mlp" if self.mlp is not None else "ridge"

    def local(self, x: np.ndarray) -> np.ndarray:
        y = x @ self.weight + self.bias
        if self.mlp is not None:
            h = np.maximum(x @ self.mlp["w1"] + self.mlp["b1"], 0.0)
            y = y + h @ self.mlp["w2"] + self.mlp["b2"]
        return y

    def apply(self, model_points: np.ndarray) -> np.ndarray:
        """Target points in pixels from the model's points in pixels."""
        frame = eye_frame(model_points)
        x = to_frame(model_points, frame).reshape(len(model_points), -1)
        return from_frame(self.local(x).reshape(len(model_points), -1, 2), frame)


Fitter = Callable[[np.ndarray, np.ndarray], Map]


def design(model_points: np.ndarray, target_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(X [N,2P], Y [N,2K]): both point sets in the model's eye frame, flattened."""
    frame = eye_frame(model_points)
    n = len(model_points)
    return to_frame(model_points, frame).reshape(n, -1), to_frame(target_points, frame).reshape(n, -1)


def ridge_path(x: np.ndarray, y: np.ndarray, lambdas: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Ridge (weight, bias) for each lambda from one SVD of the centred features."""
    mx, my = x.mean(0), y.mean(0)
    u, s, vt = np.linalg.svd(x - mx, full_matrices=False)
    uty = u.T @ (y - my)
    out = []
    for lam in lambdas:
        w = vt.T @ ((s / (s * s + lam))[:, None] * uty)
        out.append((w, my - mx @ w))
    return out


def fit_ridge(model_points: np.ndarray, target_points: np.ndarray, alpha: float) -> Map:
    x, y = design(model_points, target_points)
    w, b = ridge_path(x, y, np.array([alpha * len(x)]))[0]
    return Map(w, b, alpha)


def fit_mlp(model_points: np.ndarray, target_points: np.ndarray, alpha: float, seed: int = 0,
            hidden: int = MLP_HIDDEN, steps: int = MLP_STEPS) -> Map:
    """Ridge at ``alpha`` plus a ReLU MLP fit to its residual (full batch Adam, weight decay)."""
    import torch

    base = fit_ridge(model_points, target_points, alpha)
    x, y = design(model_points, target_points)
    resid = y - base.local(x)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 64-unit layer on a few hundred faces: more threads only contend
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, y.shape[1]))
        torch.nn.init.zeros_(net[2].weight)
        torch.nn.init.zeros_(net[2].bias)
        opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=MLP_WEIGHT_DECAY)
        tx, ty = torch.from_numpy(x).float(), torch.from_numpy(resid).float()
        for _ in range(steps):
            opt.zero_grad()
            loss = ((net(tx) - ty) ** 2).sum(1).mean()
            loss.backward()
            opt.step()
    torch.set_num_threads(threads)
    p = {k: v.detach().double().numpy() for k, v in net.state_dict().items()}
    mlp = {"w1": p["0.weight"].T, "b1": p["0.bias"], "w2": p["2.weight"].T, "b2": p["2.bias"]}
    return Map(base.weight, base.bias, alpha, mlp)


# --------------------------------------------------------------------------- scoring and folds
def nme(pred: np.ndarray, truth: np.ndarray, iod: tuple[int, int]) -> np.ndarray:
    """Per-face NME in % of the distance between the truth's points ``iod``."""
    d = np.linalg.norm(truth[:, iod[0]] - truth[:, iod[1]], axis=-1)
    return np.linalg.norm(pred - truth, axis=-1).mean(-1) / np.maximum(d, _EPS) * 100.0


def folds(n: int, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k (fit, score) index pairs: a seeded permutation cut into k near-equal parts; every face scored once."""
    if k < 2:
        raise AdaptError(f"--folds {k}: cross-validation needs at least 2 folds")
    if n < 2 * k:
        raise AdaptError(f"{n} labelled face(s) are too few for {k}-fold cross-validation: give at least {2 * k} "
                         f"(or lower --folds)")
    parts = np.array_split(np.random.default_rng(seed).permutation(n), k)
    return [(np.sort(np.concatenate(parts[:i] + parts[i + 1:])), np.sort(parts[i])) for i in range(k)]


@dataclass
class FoldResult:
    fit: np.ndarray
    score: np.ndarray
    alpha: float
    nme: np.ndarray  # per scored face
    pred: np.ndarray  # [len(score), K, 2]


@dataclass
class CVResult:
    folds: list[FoldResult] = field(default_factory=list)

    def out_of_fold(self, n: int, k: int) -> np.ndarray:
        """[n,K,2] predictions, each made by the fold that did not fit on that face."""
        out = np.full((n, k, 2), np.nan)
        for f in self.folds:
            out[f.score] = f.pred
        return out

    @property
    def mean_nme(self) -> float:
        return float(np.mean(np.concatenate([f.nme for f in self.folds])))


def cross_validate(model_points: np.ndarray, target_points: np.ndarray, iod: tuple[int, int], fitter: Fitter,
                   k: int = 5, seed: int = 0) -> CVResult:
    """Fit on k-1 parts, score the held-out part, k times; a fold never scores a face it fit on."""
    result = CVResult()
    with one_blas_thread():
        for fit_idx, score_idx in folds(len(model_points), k, seed):
            m = fitter(model_points[fit_idx], target_points[fit_idx])
            pred = m.apply(model_points[score_idx])
            result.folds.append(FoldResult(fit_idx, score_idx, m.alpha, nme(pred, target_points[score_idx], iod), pred))
    return result


def choose_alpha(model_points: np.ndarray, target_points: np.ndarray, iod: tuple[int, int], k: int = 5, seed: int = 0,
                 alphas: tuple[float, ...] = ALPHAS) -> tuple[float, dict[float, float]]:
    """The ridge alpha with the lowest k-fold NME on these faces, and every alpha's CV NME."""
    errs = {a: [] for a in alphas}
    for fit_idx, score_idx in folds(len(model_points), k, seed):
        x, y = design(model_points[fit_idx], target_points[fit_idx])
        for a, (w, b) in zip(alphas, ridge_path(x, y, np.array(alphas) * len(fit_idx)), strict=True):
            pred = Map(w, b, a).apply(model_points[score_idx])
            errs[a].append(nme(pred, target_points[score_idx], iod))
    table = {a: float(np.mean(np.concatenate(v))) for a, v in errs.items()}
    return min(table, key=table.get), table


def ridge_fitter(iod: tuple[int, int], k: int = 5, seed: int = 0) -> Fitter:
    """A fitter that picks its alpha by an inner k-fold CV on the faces it is given (nested CV)."""
    def fit(mp: np.ndarray, tp: np.ndarray) -> Map:
        alpha, _ = choose_alpha(mp, tp, iod, min(k, len(mp) // 2), seed)
        return fit_ridge(mp, tp, alpha)

    return fit


def mlp_fitter(iod: tuple[int, int], k: int = 5, seed: int = 0) -> Fitter:
    """Ridge with its inner-CV alpha, plus the MLP correction."""
    def fit(mp: np.ndarray, tp: np.ndarray) -> Map:
        alpha, _ = choose_alpha(mp, tp, iod, min(k, len(mp) // 2), seed)
        return fit_mlp(mp, tp, alpha, seed)

    return fit
