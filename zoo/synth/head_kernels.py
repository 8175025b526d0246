"""Compiled (numba) per-vertex passes of the head geometry: deformation fields and grid normals.

Why compiled: the identity field alone is ~20 Gaussian blobs over ~3.5k head vertices; as numpy
expressions every blob cost one pass plus several [N] and [N,3] temporaries (and ``np.gradient``
for the normals is mostly Python overhead), together ~3 ms of the renderer's per-face budget.
Here each field is one loop over the points that keeps its sums in registers, and points the
face-side window ``front`` zeroes are skipped outright (their displacement is exactly zero).

The formulas are the numpy ones term by term, so results agree with them to float round-off;
plain IEEE arithmetic (no fastmath, no threads) keeps renders byte-identical for a given seed.

Blob tables (``rows`` [K, 19]) hold one Gaussian-windowed affine piece per row::

    cx cy cz a | ox oy oz | m00 m01 m02 m10 m11 m12 m20 m21 m22 | vx vy vz

contributing ``exp(-a |p - c|^2) * (v + m @ (p - o))``, a = 1 / (2 sigma^2), to the displacement
of ``p``. Pieces whose window is below exp(-36) ~ 2e-16 at a point are skipped there: what they
would add is under 1e-13 mm, float round-off of the sum.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

ROW_WIDTH = 19
_CUTOFF = 36.0


def blob_row(centre: np.ndarray, sigma: float, origin: np.ndarray | None = None) -> np.ndarray:
    """A blob-table row with its window and origin (default: the centre) and zero coefficients."""
    row = np.zeros(ROW_WIDTH)
    row[0:3] = centre
    row[3] = 1.0 / (2.0 * float(sigma) ** 2)
    row[4:7] = centre if origin is None else origin
    return row


def coefficient_column(i: int, j: int) -> int:
    """Column of m[i, j] (j < 3) or of the constant v[i] (j == 3) in a blob-table row."""
    return 16 + i if j == 3 else 7 + 3 * i + j


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def smooth(t: float) -> float:
    """Smoothstep of t clipped to [0, 1] (a soft 0 -> 1 step)."""
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _blob_sum(x: float, y: float, z: float, rows: np.ndarray) -> tuple[float, float, float]:
    """Sum of every row's Gaussian-windowed affine piece at one point."""
    ax = ay = az = 0.0
    for k in range(rows.shape[0]):
        dx, dy, dz = x - rows[k, 0], y - rows[k, 1], z - rows[k, 2]
        e = (dx * dx + dy * dy + dz * dz) * rows[k, 3]
        if e > _CUTOFF:
            continue
        w = math.exp(-e)
        qx, qy, qz = x - rows[k, 4], y - rows[k, 5], z - rows[k, 6]
        ax += w * (rows[k, 16] + rows[k, 7] * qx + rows[k, 8] * qy + rows[k, 9] * qz)
        ay += w * (rows[k, 17] + rows[k, 10] * qx + rows[k, 11] * qy + rows[k, 12] * qz)
        az += w * (rows[k, 18] + rows[k, 13] * qx + rows[k, 14] * qy + rows[k, 15] * qz)
    return ax, ay, az


@njit(cache=True, nogil=True, error_model="numpy")
def blob_field(p: np.ndarray, rows: np.ndarray, z0: float, width: float, out: np.ndarray) -> None:
    """out += front(p) * sum of the rows' pieces, front = smooth((z - z0) / width)."""
    for i in range(p.shape[0]):
        f = smooth((p[i, 2] - z0) / width)
        if f == 0.0:
            continue
        ax, ay, az = _blob_sum(p[i, 0], p[i, 1], p[i, 2], rows)
        out[i, 0] += f * ax
        out[i, 1] += f * ay
        out[i, 2] += f * az


@njit(cache=True, nogil=True, error_model="numpy")
def identity_field(p: np.ndarray, rows: np.ndarray, jaw_width: float, brow_height: float,
                   forehead_slope: float) -> np.ndarray:
    """Identity displacement: the blob rows plus jaw width, brow height and forehead slope, all
    windowed by ``front`` (z0 -45, width 20), which keeps face edits off the back of the skull."""
    d = np.zeros_like(p)
    for i in range(p.shape[0]):
        x, y, z = p[i, 0], p[i, 1], p[i, 2]
        f = smooth((z + 45.0) / 20.0)
        if f == 0.0:
            continue
        ax, ay, az = _blob_sum(x, y, z, rows)
        ax += jaw_width * x * smooth((y - 10) / 50)
        above = max(0.0, -y - 70)
        ay -= brow_height * smooth((-44 - y) / 10) * math.exp(-above * above / 1800)
        az -= forehead_slope * smooth((-70 - y) / 50)
        d[i, 0], d[i, 1], d[i, 2] = f * ax, f * ay, f * az
    return d


@njit(cache=True, nogil=True, error_model="numpy")
def jaw_field(p: np.ndarray, angle: float, hinge: np.ndarray, mouth_y: float, out: np.ndarray) -> None:
    """out += the jaw's rotation by ``angle`` (radians) about the hinge's x axis, weighted by a
    sigmoid across the lips (sharp between them, soft at the cheeks) and a wide face window."""
    c, s = math.cos(angle), math.sin(angle)
    for i in range(p.shape[0]):
        x, y, z = p[i, 0], p[i, 1], p[i, 2]
        fw = smooth((z + 75.0) / 30.0)
        if fw == 0.0:
            continue
        qy, qz = y - hinge[1], z - hinge[2]
        soft = 1.0 + 14.0 * smooth((abs(x) - 22) / 30)
        w = 1 / (1 + math.exp(-(y - mouth_y) / soft)) * fw
        out[i, 1] += (qy * c + qz * s - qy) * w
        out[i, 2] += (-qy * s + qz * c - qz) * w


@njit(cache=True, nogil=True, error_model="numpy")
def brow_field(p: np.ndarray, amount: float, centres: np.ndarray, inner: np.ndarray, out: np.ndarray) -> None:
    """out += brow raise (amount > 0) or frown (< 0, brows also pull toward the nose).

    centres [2,3]: brow centres; inner [2,3]: inner brow ends the frown pulls toward.
    """
    for i in range(p.shape[0]):
        x, y, z = p[i, 0], p[i, 1], p[i, 2]
        f = smooth((z + 45.0) / 20.0)
        band = smooth((-43.5 - y) / 11)
        if f == 0.0 or band == 0.0:
            continue
        above = max(0.0, -y - 75)
        fall = math.exp(-above * above / 1500)
        for b in range(2):
            dx = x - centres[b, 0]
            w = band * math.exp(-dx * dx / (2 * 24.0**2)) * f * fall
            out[i, 1] -= 7.0 * amount * w
            if amount < 0:
                ex, ey, ez = x - inner[b, 0], y - inner[b, 1], z - inner[b, 2]
                pull = math.exp(-(ex * ex + ey * ey + ez * ez) / (2.0 * 14.0 * 14.0))
                out[i, 0] -= np.sign(centres[b, 0]) * 3.0 * amount * w * pull


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _interp(x: float, xp: np.ndarray, fp: np.ndarray) -> float:
    """np.interp for one value (xp ascending, ends held)."""
    n = xp.shape[0]
    if x <= xp[0]:
        return fp[0]
    if x >= xp[n - 1]:
        return fp[n - 1]
    j = 0
    while xp[j + 1] <= x:
        j += 1
    return (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]) * (x - xp[j]) + fp[j]


@njit(cache=True, nogil=True, error_model="numpy")
def eye_close_field(p: np.ndarray, upper: np.ndarray, lower: np.ndarray, amount: float, out: np.ndarray) -> None:
    """out += the upper lid (and the skin above it) moved down onto the lower lid.

    upper, lower [K,2]: lid polylines (x ascending, y); skin between them moves onto the lower
    lid, skin above follows with a Gaussian fall-off, and both bulge forward a little.
    """
    x0, x1 = upper[0, 0], upper[upper.shape[0] - 1, 0]
    for i in range(p.shape[0]):
        x, y, z = p[i, 0], p[i, 1], p[i, 2]
        wx = smooth((x - x0 + 5) / 5) * smooth((x1 + 5 - x) / 5)
        wz = smooth((z + 25.0) / 10.0)
        if wx == 0.0 or wz == 0.0:
            continue
        yu = _interp(x, upper[:, 0], upper[:, 1])
        yl = _interp(x, lower[:, 0], lower[:, 1])
        if yu <= y <= yl:
            dy, bump = yl - y, 1.0
        elif y < yu:
            dy = (yl - yu) * math.exp(-(((yu - y) / 7.0) ** 2))
            bump = math.exp(-(((yu - y) / 4.0) ** 2))
        else:
            continue
        out[i, 1] += amount * dy * wx * wz
        out[i, 2] += amount * 1.5 * bump * wx * wz


@njit(cache=True, nogil=True, error_model="numpy")
def grid_normals(g: np.ndarray) -> np.ndarray:
    """Unit normals of a grid surface g [rows, cols, 3]: cross(d/dcol, d/drow) with np.gradient's
    differences (central inside, one-sided at the edges); the seam columns 0 and -1 share their
    averaged normal so the back of the head has no crease."""
    rows, cols = g.shape[0], g.shape[1]
    n = np.empty((rows, cols, 3))
    for r in range(rows):
        r0, r1 = max(r - 1, 0), min(r + 1, rows - 1)
        for c in range(cols):
            c0, c1 = max(c - 1, 0), min(c + 1, cols - 1)
            ux = (g[r, c1, 0] - g[r, c0, 0]) / (c1 - c0)
            uy = (g[r, c1, 1] - g[r, c0, 1]) / (c1 - c0)
            uz = (g[r, c1, 2] - g[r, c0, 2]) / (c1 - c0)
            vx = (g[r1, c, 0] - g[r0, c, 0]) / (r1 - r0)
            vy = (g[r1, c, 1] - g[r0, c, 1]) / (r1 - r0)
            vz = (g[r1, c, 2] - g[r0, c, 2]) / (r1 - r0)
            nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
            norm = math.sqrt(nx * nx + ny * ny + nz * nz) + 1e-9
            n[r, c, 0], n[r, c, 1], n[r, c, 2] = nx / norm, ny / norm, nz / norm
    for r in range(rows):
        sx = (n[r, 0, 0] + n[r, cols - 1, 0]) / 2
        sy = (n[r, 0, 1] + n[r, cols - 1, 1]) / 2
        sz = (n[r, 0, 2] + n[r, cols - 1, 2]) / 2
        norm = math.sqrt(sx * sx + sy * sy + sz * sz) + 1e-9
        n[r, 0, 0] = n[r, cols - 1, 0] = sx / norm
        n[r, 0, 1] = n[r, cols - 1, 1] = sy / norm
        n[r, 0, 2] = n[r, cols - 1, 2] = sz / norm
    return n


@njit(cache=True, nogil=True, error_model="numpy")
def hair_thickness(phi: np.ndarray, theta: np.ndarray, noise: np.ndarray, knots: np.ndarray, line: np.ndarray,
                   bangs: tuple[float, float], long_sides: bool, volume: float, clump: float) -> np.ndarray:
    """Per-vertex hair thickness (mm, <= 0 bare skin) for head-grid angles phi, theta (degrees).

    The hairline's latitude is line(|phi|) over knots, raised by bangs (front latitude, amount)
    at the front and, for long_sides, over the ears; thickness grows with the depth above it up
    to the style's volume, roughened by noise * clump.
    """
    out = np.empty(phi.shape[0])
    for i in range(phi.shape[0]):
        aphi = abs(phi[i])
        h = _interp(aphi, knots, line)
        if bangs[1]:
            h = max(h, bangs[0] + bangs[1] * 18.0 * math.exp(-((phi[i] / 40.0) ** 2)))
        if long_sides and aphi > 75:
            h = max(h, 20 + 20 * min(max((aphi - 75) / 40, 0.0), 1.0))
        depth = h - theta[i]  # degrees above the hairline
        if depth > 0:
            vol = volume * (0.45 + 0.55 * min(max((-theta[i] - 10) / 60, 0.0), 1.0))
            out[i] = max(min(depth * 0.55, vol) + noise[i] * clump, 0.6)
        else:
            out[i] = -1.0
    return out
