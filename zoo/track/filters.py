"""Temporal smoothing of landmark tracks: One Euro (default), constant-velocity Kalman, or none.

Landmark models re-run every frame jitter by a pixel or two even on a still face; smoothing
hides that jitter, but must not lag behind real motion. The One Euro filter (Casiez et al.,
CHI 2012) adapts its cut-off to the speed: heavy smoothing when still, little when moving.

Speeds are measured in face sizes per second (``scale`` = the face's size in pixels), so
that one set of parameters suits a 40 px face and a 400 px face alike.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

FILTERS = ("oneeuro", "kalman", "none")


class PointFilter(Protocol):
    """Smooths a stream of ``[K, 2]`` point arrays given their time stamps (seconds)."""

    def __call__(self, points: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray: ...

    def reset(self) -> None: ...


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One Euro filter over every coordinate at once.

    ``min_cutoff`` (Hz) sets the smoothing of a still face, ``beta`` how fast the cut-off rises
    with speed (per face size per second), ``d_cutoff`` (Hz) smooths the speed estimate itself.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 20.0, d_cutoff: float = 1.0) -> None:
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t = 0.0

    def __call__(self, points: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        x = np.asarray(points, dtype=np.float64)
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = max(t - self._t, 1e-3)
        self._t = t
        dx = (x - self._x) / dt / max(scale, 1e-6)
        self._dx = self._dx + _alpha(self.d_cutoff, dt) * (dx - self._dx)
        # One cut-off per point, from the point's speed (both coordinates together).
        speed = np.linalg.norm(self._dx, axis=-1, keepdims=True)
        a = _alpha(self.min_cutoff + self.beta * speed, dt)
        self._x = self._x + a * (x - self._x)
        return self._x.copy()


class KalmanFilter:
    """Constant-velocity Kalman filter, one independent (position, velocity) state per coordinate.

    ``process`` is the acceleration noise in face sizes per second squared, ``measurement`` the
    landmark noise in face sizes; both scale with the face so the filter is size-independent.
    A measurement further than ``gate`` standard deviations from the prediction (a sudden move
    the motion model did not expect) inflates that coordinate's uncertainty, so the filter
    catches up in a frame or two instead of lagging behind: low process noise keeps a still
    face steady without making fast motion smear.
    """

    def __init__(self, process: float = 1.0, measurement: float = 0.01, gate: float = 3.0) -> None:
        self.process, self.measurement, self.gate = process, measurement, gate
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None  # positions
        self._v: np.ndarray | None = None  # velocities
        self._p: np.ndarray | None = None  # covariance entries [pp, pv, vv] per coordinate
        self._t = 0.0

    def __call__(self, points: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        z = np.asarray(points, dtype=np.float64)
        r = (self.measurement * scale) ** 2
        if self._x is None or self._x.shape != z.shape:
            self._x, self._v, self._t = z.copy(), np.zeros_like(z), t
            self._p = np.stack([np.full_like(z, r), np.zeros_like(z), np.full_like(z, (scale * 10.0) ** 2)])
            return z.copy()
        dt = max(t - self._t, 1e-3)
        self._t = t
        q = (self.process * scale) ** 2
        pp, pv, vv = self._p
        # Predict: x += v dt; P = F P F' + Q (white-acceleration model).
        x = self._x + self._v * dt
        pp = pp + 2 * dt * pv + dt * dt * vv + q * dt**4 / 4
        pv = pv + dt * vv + q * dt**3 / 2
        vv = vv + q * dt**2
        innovation = z - x
        # Fading memory: inflate the prediction's covariance where the innovation is implausible.
        inflate = np.maximum(1.0, (innovation / self.gate) ** 2 / (pp + r))
        pp, pv, vv = pp * inflate, pv * inflate, vv * inflate
        # Update with the measured position.
        s = pp + r
        k_x, k_v = pp / s, pv / s
        self._x = x + k_x * innovation
        self._v = self._v + k_v * innovation
        self._p = np.stack([(1 - k_x) * pp, (1 - k_x) * pv, vv - k_v * pv])
        return self._x.copy()


class NoFilter:
    """Pass-through, for measuring what the smoothing buys."""

    def __call__(self, points: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        return np.asarray(points, dtype=np.float64).copy()

    def reset(self) -> None:
        pass


def make_filter(name: str) -> PointFilter:
    """A fresh filter by CLI name (``oneeuro``, ``kalman`` or ``none``)."""
    if name == "oneeuro":
        return OneEuroFilter()
    if name == "kalman":
        return KalmanFilter()
    if name == "none":
        return NoFilter()
    raise ValueError(f"unknown filter {name!r}; choose one of {', '.join(FILTERS)}")
