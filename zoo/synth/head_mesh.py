"""The neutral 3D head the renderer draws: built in code from the public 68-point mean face.

The skull is a star-shaped surface around a centre ``CENTRE`` behind the face: its radius over
directions is an ellipsoid plus a thin-plate-spline residual on the sphere that passes exactly
through the 68 mean-face landmarks and a few hand-placed anatomical anchors (forehead, cheeks,
nose wings, chin, under the chin). The surface is sampled on a longitude/latitude grid that is
dense over the face and sparse behind it, so the mesh stays small (a few thousand front-facing
triangles) and normals come from grid differences. Ears, neck, torso and the hair shell are
built from the same coordinates. All lengths are millimetres in ``zoo.pose.MEAN_FACE_68`` axes
(x to the subject's left, y down, z toward the camera). The landmarks lie on the surface by
construction, which is what makes the rendered landmarks exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from zoo.pose import MEAN_FACE_68
from zoo.synth import head_kernels as hk

CENTRE = np.array([0.0, -38.0, -72.0])
# Ellipsoid semi-axes: x, y up (top), y down (bottom), z front, z back.
_AX, _AY_TOP, _AY_BOTTOM, _AZ_FRONT, _AZ_BACK = 79.0, 122.0, 128.0, 84.0, 112.0

# Anatomical anchors that the 68 landmarks do not pin down (x >= 0 side; mirrored for x > 0).
_ANCHORS_HALF = (
    (0, -88, 9), (28, -92, 3), (52, -84, -14), (0, -118, -6), (34, -120, -16), (62, -60, -36),  # forehead, temple
    (70, -40, -44),
    (46, -16, -8), (55, -5, -22), (44, 14, -6), (36, 46, -5), (52, 28, -22), (24, 12, 8),  # cheekbone, cheeks, nasolabial
    (19, -3, 13), (11, -20, 17), (6, -30, 15), (14, -34, 6),  # nose wing, nose sides, inner eye socket
    (33, -50, 2), (46, -46, -4), (22, -46, 4),  # brow-to-lid skin
    (0, 52, 14), (0, 63, 16), (14, 60, 11), (24, 55, 2),  # sulcus, chin front
    (0, 84, -22), (22, 80, -26), (0, 88, -50), (40, 70, -42),  # under the chin
)


def _mirror(points: tuple) -> np.ndarray:
    pts = np.array(points, dtype=np.float64)
    side = pts[pts[:, 0] > 0] * np.array([-1.0, 1.0, 1.0])
    return np.vstack([pts, side])


ANCHORS = _mirror(_ANCHORS_HALF)


def directions(theta_deg: np.ndarray, phi_deg: np.ndarray) -> np.ndarray:
    """Unit vectors for latitude theta (down positive, -90 = top) and longitude phi (0 = front)."""
    t, p = np.radians(theta_deg), np.radians(phi_deg)
    return np.stack([np.cos(t) * np.sin(p), np.sin(t), np.cos(t) * np.cos(p)], axis=-1)


def angles_of(points: np.ndarray) -> np.ndarray:
    """(phi, theta) in degrees of points seen from ``CENTRE`` (texture coordinates of the head)."""
    d = np.asarray(points, dtype=np.float64) - CENTRE
    r = np.linalg.norm(d, axis=-1)
    theta = np.degrees(np.arcsin(np.clip(d[..., 1] / r, -1, 1)))
    phi = np.degrees(np.arctan2(d[..., 0], d[..., 2]))
    return np.stack([phi, theta], axis=-1)


def _ellipsoid_radius(d: np.ndarray) -> np.ndarray:
    ay = np.where(d[..., 1] < 0, _AY_TOP, _AY_BOTTOM)
    az = np.where(d[..., 2] > 0, _AZ_FRONT, _AZ_BACK)
    return 1.0 / np.sqrt((d[..., 0] / _AX) ** 2 + (d[..., 1] / ay) ** 2 + (d[..., 2] / az) ** 2)


def _kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = r * r * np.log(np.maximum(r, 1e-12))
    return k


def _fibonacci(n: int) -> np.ndarray:
    i = np.arange(n) + 0.5
    y = 1 - 2 * i / n
    rad = np.sqrt(1 - y * y)
    ang = np.pi * (3 - np.sqrt(5)) * i
    return np.stack([rad * np.sin(ang), y, rad * np.cos(ang)], axis=1)


@dataclass(frozen=True)
class RadialSurface:
    """Thin-plate spline on the sphere: radius(direction) = ellipsoid + residual."""

    dirs: np.ndarray
    weights: np.ndarray
    affine: np.ndarray

    def radius(self, d: np.ndarray) -> np.ndarray:
        flat = d.reshape(-1, 3)
        res = _kernel(flat, self.dirs) @ self.weights + self.affine[0] + flat @ self.affine[1:]
        return (_ellipsoid_radius(flat) + res).reshape(d.shape[:-1])


@lru_cache(maxsize=1)
def radial_surface() -> RadialSurface:
    """Fit the spline through the landmarks, anchors and a ring of zero-residual points behind."""
    pts = np.vstack([MEAN_FACE_68, ANCHORS])
    rel = pts - CENTRE
    r = np.linalg.norm(rel, axis=1)
    d = rel / r[:, None]
    resid = r - _ellipsoid_radius(d)
    back = _fibonacci(120)
    far = np.min(np.arccos(np.clip(back @ d.T, -1, 1)), axis=1) > np.radians(32)
    d_all = np.vstack([d, back[far]])
    v_all = np.concatenate([resid, np.zeros(int(far.sum()))])
    n = len(d_all)
    k = _kernel(d_all, d_all) + np.eye(n) * 1e-6
    p = np.hstack([np.ones((n, 1)), d_all])
    a = np.zeros((n + 4, n + 4))
    a[:n, :n], a[:n, n:], a[n:, :n] = k, p, p.T
    sol = np.linalg.solve(a, np.concatenate([v_all, np.zeros(4)]))
    return RadialSurface(d_all, sol[:n], sol[n:])


def _samples(lo: float, hi: float, dense: tuple[float, float], fine: float, coarse: float) -> np.ndarray:
    """Monotone angles from lo to hi: step ``fine`` inside ``dense``, growing to ``coarse`` outside."""
    out = [lo]
    a = lo
    while a < hi - 1e-9:
        gap = max(dense[0] - a, a - dense[1], 0.0)
        t = min(gap / 25.0, 1.0)
        step = fine + (coarse - fine) * t * t * (3 - 2 * t)
        a = min(hi, a + step)
        if hi - a < step * 0.4:
            a = hi
        out.append(a)
    return np.array(out)


@dataclass(frozen=True)
class HeadGrid:
    """The head surface on a (lat, lon) grid, plus the poles' cap triangles."""

    theta: np.ndarray  # [R] latitudes, top to bottom (excluding poles)
    phi: np.ndarray  # [C] longitudes, -180..180 inclusive (seam duplicated, no wrap triangles)
    points: np.ndarray  # [R*C + 2, 3] neutral vertices (last two: top and bottom pole)
    uv: np.ndarray  # [R*C + 2, 2] (phi, theta) degrees
    triangles: np.ndarray  # [T, 3] int32, counter-clockwise seen from outside
    ao: np.ndarray  # [R*C + 2] ambient occlusion factor in (0, 1]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.theta), len(self.phi)


def grid_triangles(rows: int, cols: int, offset: int = 0) -> np.ndarray:
    """Two triangles per grid cell (row-major vertices), outward-facing for the head's orientation."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
    a = (r * cols + c).ravel()
    b, cc, d = a + 1, a + cols, a + cols + 1
    tris = np.concatenate([np.stack([a, cc, b], 1), np.stack([b, cc, d], 1)])
    return (tris + offset).astype(np.int32)


def _ambient_occlusion(radius: np.ndarray) -> np.ndarray:
    """Concavity of the radius field: points lower than their surroundings get darker."""
    import cv2

    r = radius.astype(np.float32)
    ao = np.zeros_like(r)
    for k, w in ((5, 0.06), (11, 0.035), (21, 0.02)):
        blur = cv2.GaussianBlur(r, (k, k), 0, borderType=cv2.BORDER_REPLICATE)
        ao += w * np.clip(blur - r, 0, None)
    return np.clip(1.0 - ao, 0.45, 1.0)


@lru_cache(maxsize=4)
def head_grid(fine: float = 3.0) -> HeadGrid:
    """The neutral head grid (cached per resolution)."""
    theta = _samples(-86.0, 86.0, (-50.0, 64.0), fine, 10.0)
    phi = _samples(-180.0, 180.0, (-64.0, 64.0), fine, 12.0)
    tt, pp = np.meshgrid(theta, phi, indexing="ij")
    d = directions(tt, pp)
    surf = radial_surface()
    rad = surf.radius(d)
    pts = CENTRE + d * rad[..., None]
    rows, cols = tt.shape
    top = CENTRE + np.array([0.0, -1.0, 0.0]) * surf.radius(np.array([[0.0, -1.0, 0.0]]))[0]
    bottom = CENTRE + np.array([0.0, 1.0, 0.0]) * surf.radius(np.array([[0.0, 1.0, 0.0]]))[0]
    points = np.vstack([pts.reshape(-1, 3), top, bottom])
    uv = np.vstack([np.stack([pp, tt], -1).reshape(-1, 2), [[0.0, -90.0], [0.0, 90.0]]])
    tris = [grid_triangles(rows, cols)]
    n = rows * cols
    c = np.arange(cols - 1)
    tris.append(np.stack([np.full_like(c, n), c, c + 1], 1))  # top cap
    last = (rows - 1) * cols
    tris.append(np.stack([np.full_like(c, n + 1), last + c + 1, last + c], 1))  # bottom cap
    ao = np.concatenate([_ambient_occlusion(rad).ravel(), [1.0, 1.0]])
    return HeadGrid(theta, phi, points, uv, np.concatenate(tris).astype(np.int32), ao)


def grid_normals(points: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Outward unit normals of a row-major grid surface (rows = latitude down, cols = longitude).

    One compiled pass (``head_kernels.grid_normals``): np.gradient, cross and normalise as numpy
    steps cost ~0.35 ms per call, twice per face.
    """
    g = np.ascontiguousarray(points[: rows * cols], dtype=np.float64).reshape(rows, cols, 3)
    return hk.grid_normals(g).reshape(-1, 3)


def eye_geometry(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Eyeball centres [2,3] (subject's right eye = points 36-41 first) and radius, from eye landmarks."""
    radius = 11.5
    centres = []
    for start in (36, 42):
        eye = landmarks[start:start + 6]
        mid = eye.mean(axis=0)
        centres.append(mid + np.array([0.0, 0.5, -radius + 1.0]))
    return np.array(centres), radius
