"""Filters: smooth a still point, follow a moving one without lasting lag."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.track.filters import KalmanFilter, NoFilter, OneEuroFilter, make_filter


@pytest.mark.parametrize("filt", [OneEuroFilter(), KalmanFilter()])
def test_still_noise_is_reduced_and_motion_followed(filt):
    rng = np.random.default_rng(0)
    still = [filt(np.array([[100.0, 100.0]]) + rng.normal(0, 1.0, (1, 2)), i / 30, scale=100.0) for i in range(60)]
    steps = np.linalg.norm(np.diff(np.array(still)[30:, 0], axis=0), axis=1)
    assert steps.mean() < 0.6 * 1.0 * np.sqrt(2) * 0.886  # raw steps average ~1.25 px
    # then a constant-speed move of 10 px/frame: after settling, the lag stays small
    for i in range(60, 90):
        out = filt(np.array([[100.0 + 10 * (i - 59), 100.0]]), i / 30, scale=100.0)
    assert abs(out[0, 0] - (100.0 + 10 * 30)) < 15


def test_first_value_passes_through_and_reset():
    for filt in (OneEuroFilter(), KalmanFilter(), NoFilter()):
        x = np.array([[1.0, 2.0], [3.0, 4.0]])
        assert np.allclose(filt(x, 0.0), x)
        filt.reset()
        assert np.allclose(filt(x + 50, 0.1), x + 50)


def test_make_filter_names():
    assert isinstance(make_filter("oneeuro"), OneEuroFilter)
    assert isinstance(make_filter("kalman"), KalmanFilter)
    assert isinstance(make_filter("none"), NoFilter)
    with pytest.raises(ValueError, match="unknown filter"):
        make_filter("median")
