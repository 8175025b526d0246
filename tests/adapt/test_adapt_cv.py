"""Cross-validation never scores a face it was fit on, and refuses folds it cannot fill."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.adapt import AdaptError, fit


class Memoriser:
    """A 'map' that returns the exact label of any face it was fit on, and nonsense otherwise."""

    alpha = 0.0

    def __init__(self, model: np.ndarray, target: np.ndarray) -> None:
        self.seen = {m.tobytes(): t for m, t in zip(model, target, strict=True)}

    def apply(self, model: np.ndarray) -> np.ndarray:
        return np.stack([self.seen.get(m.tobytes(), m[:5] + 100.0) for m in model])


def _faces(n: int = 23) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    model = rng.normal(0, 30, (n, 70, 2)) + 100
    return model, model[:, :5] + rng.normal(0, 1, (n, 5, 2))


@pytest.mark.parametrize("k", [2, 5, 7])
def test_no_fold_scores_a_face_it_fit_on(k: int) -> None:
    model, target = _faces()
    cv = fit.cross_validate(model, target, (0, 1), Memoriser, k=k)
    scored = np.concatenate([f.score for f in cv.folds])
    assert sorted(scored) == list(range(len(model)))  # every face scored exactly once
    for f in cv.folds:
        assert not set(f.fit) & set(f.score)
        assert (f.nme > 1.0).all()  # a memorised face would score exactly 0
    assert np.isfinite(cv.out_of_fold(len(model), 5)).all()


def test_the_memoriser_would_be_caught() -> None:
    """The check above can fail: scoring the fit faces gives zero error."""
    model, target = _faces()
    m = Memoriser(model, target)
    assert fit.nme(m.apply(model), target, (0, 1)).max() == 0.0


def test_nested_alpha_sees_only_the_fold_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    model, target = _faces(30)
    seen: list[int] = []
    real = fit.choose_alpha

    def spy(mp, tp, iod, k=5, seed=0, alphas=fit.ALPHAS):
        seen.append(len(mp))
        return real(mp, tp, iod, k, seed, alphas)

    monkeypatch.setattr(fit, "choose_alpha", spy)
    fit.cross_validate(model, target, (0, 1), fit.ridge_fitter((0, 1), 3), k=3)
    assert seen == [20, 20, 20]


def test_too_few_faces_for_the_folds_is_one_line() -> None:
    with pytest.raises(AdaptError, match="too few for 5-fold") as e:
        fit.folds(7, 5)
    assert "\n" not in str(e.value)
