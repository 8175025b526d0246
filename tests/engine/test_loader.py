"""The epoch sampler's weighted draws and the yaw prior that feeds them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zoo.data.formats import Sample
from zoo.engine.distributed import DistInfo
from zoo.engine.loader import EpochSampler, yaw_weights


def faces(yaws: list[float]) -> list[Sample]:
    return [Sample(Path(f"{i}.png"), np.zeros((70, 2)), {"yaw": y, "pitch": 0.0, "roll": 0.0}) for i, y in enumerate(yaws)]


def test_frontal_prior_draws_frontal_faces_more_often() -> None:
    yaws = list(np.linspace(-90, 90, 181))
    samples = faces(yaws)
    sampler = EpochSampler(samples, DistInfo(), seed=1, images_per_epoch=40_000, weights=yaw_weights(samples, "frontal"))
    drawn = np.abs([yaws[i] for _, i in sampler])
    share = [(drawn <= 30).mean(), ((drawn > 30) & (drawn <= 60)).mean(), (drawn > 60).mean()]
    np.testing.assert_allclose(share, [0.55, 0.29, 0.15], atol=0.02)
    assert yaw_weights(samples, "uniform") is None


def test_faces_without_a_yaw_weigh_like_an_average_face() -> None:
    samples = faces(list(np.linspace(-90, 90, 181))) + [Sample(Path("x.png"), np.zeros((70, 2)), {})]
    w = yaw_weights(samples, "frontal")
    assert w[-1] == 1.0 and abs(np.mean(w[:-1]) - 1.0) < 0.02


def test_weighted_draws_repeat_per_epoch_and_split_across_ranks() -> None:
    samples = faces([0.0, 10.0, 50.0, 80.0] * 5)
    w = yaw_weights(samples, "frontal")
    one = EpochSampler(samples, DistInfo(), seed=3, weights=w)
    one.set_epoch(2)
    first, again = list(one), list(one)
    assert first == again and all(e == 2 for e, _ in first)
    one.set_epoch(3)
    assert list(one) != first
    ranks = [EpochSampler(samples, DistInfo(rank=r, world_size=2), seed=3, weights=w) for r in (0, 1)]
    for r in ranks:
        r.set_epoch(2)
    merged = [k for pair in zip(*(list(r) for r in ranks), strict=True) for k in pair]
    assert merged == first


def test_bad_prior_and_bad_weights_are_errors() -> None:
    samples = faces([0.0, 45.0])
    with pytest.raises(ValueError, match="yaw prior must be one of"):
        yaw_weights(samples, "profile")
    with pytest.raises(ValueError, match="one non-negative weight per item"):
        EpochSampler(samples, DistInfo(), weights=[1.0])
