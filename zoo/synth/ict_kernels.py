"""Compiled loops of the ICT head in the renderer: the morphable model's vertex sum, the annotators'
labels (polygon facing and the jaw rays' contour crossings) and the hair shell's attachment.

Why compiled: per face the head is a weighted sum of 113 modes over 43k coordinates. numpy's
``w @ modes`` was measured at 5-10 ms on this shared 2-core machine; one pass that skips the
expression weights that are exactly 0 (about half of them) takes ~0.4 ms. The labels' facing test
and ray crossings were ~1.7 ms of numpy temporaries; here they are one pass each.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def mode_sum(neutral: np.ndarray, id_modes: np.ndarray, id_w: np.ndarray, ex_modes: np.ndarray, ex_w: np.ndarray,
             out: np.ndarray) -> None:
    """out = neutral + id_w @ id_modes + ex_w @ ex_modes (flat float32 arrays; zero weights skipped)."""
    for j in range(out.shape[0]):
        out[j] = neutral[j]
    _add_modes(out, id_w, id_modes)
    _add_modes(out, ex_w, ex_modes)


@njit(cache=True, nogil=True, error_model="numpy")
def _add_modes(out: np.ndarray, weights: np.ndarray, modes: np.ndarray) -> None:
    """out += weights @ modes, one mode at a time (a mode is a contiguous row: streamed once)."""
    n = out.shape[0]
    for k in range(len(weights)):
        w = np.float32(weights[k])
        if w != 0.0:
            m = modes[k]
            for j in range(n):
                out[j] += w * m[j]


@njit(cache=True, nogil=True, error_model="numpy")
def facing(cam: np.ndarray, polys: np.ndarray, is_tri: np.ndarray) -> np.ndarray:
    """True for polygons facing the camera (camera at the origin; ``ict_landmarks._facing`` in one pass)."""
    out = np.empty(len(polys), np.bool_)
    for i in range(len(polys)):
        a, b, c = polys[i, 0], polys[i, 1], polys[i, 2]
        d = a if is_tri[i] else polys[i, 3]
        # normal = cross(p2 - p0, p3 - p1) (for a triangle p3 = p0, i.e. cross(p2 - p0, p2 - p1))
        ux, uy, uz = cam[c, 0] - cam[a, 0], cam[c, 1] - cam[a, 1], cam[c, 2] - cam[a, 2]
        if is_tri[i]:
            vx, vy, vz = cam[c, 0] - cam[b, 0], cam[c, 1] - cam[b, 1], cam[c, 2] - cam[b, 2]
        else:
            vx, vy, vz = cam[d, 0] - cam[b, 0], cam[d, 1] - cam[b, 1], cam[d, 2] - cam[b, 2]
        nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
        cx = (cam[a, 0] + cam[b, 0] + cam[c, 0] + cam[d, 0]) / 4
        cy = (cam[a, 1] + cam[b, 1] + cam[c, 1] + cam[d, 1]) / 4
        cz = (cam[a, 2] + cam[b, 2] + cam[c, 2] + cam[d, 2]) / 4
        out[i] = nx * cx + ny * cy + nz * cz < 0
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def outer_crossings(origin: np.ndarray, points: np.ndarray, a: np.ndarray, b: np.ndarray, t_lo: float,
                    t_hi: float) -> np.ndarray:
    """Per ray origin -> points[j]: the largest t in [t_lo, t_hi] where it crosses a segment a-b, or NaN.

    ``ict_landmarks._outer_crossing`` for all rays in one pass (same formula, same tests)."""
    out = np.full(len(points), np.nan)
    for j in range(len(points)):
        dx, dy = points[j, 0] - origin[0], points[j, 1] - origin[1]
        best = -1.0
        for s in range(len(a)):
            ex, ey = b[s, 0] - a[s, 0], b[s, 1] - a[s, 1]
            denom = dx * ey - dy * ex
            if abs(denom) <= 1e-12:
                continue
            wx, wy = a[s, 0] - origin[0], a[s, 1] - origin[1]
            t = (wx * ey - wy * ex) / denom
            u = (wx * dy - wy * dx) / denom
            if u >= 0 and u <= 1 and t >= t_lo and t <= t_hi and t > best:
                best = t
        if best >= 0:
            out[j] = best
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def attach_to_surface(ang: np.ndarray, radius: np.ndarray, tris: np.ndarray, theta: np.ndarray, phi: np.ndarray):  # noqa: ANN201
    """For every (theta, phi) grid direction, the outermost mesh triangle it crosses, seen from the head's centre.

    ``ang`` [V, 2] (phi, theta) degrees and ``radius`` [V] of the mesh vertices from that centre. Returns
    ([R*C, 3] vertex ids, [R*C, 3] barycentric weights, [R*C] hit flags), found in angle space (a fine
    mesh's triangles are small there); triangles across the +-180 degree seam are skipped."""
    rows, cols = len(theta), len(phi)
    ids = np.zeros((rows * cols, 3), np.int64)
    wts = np.zeros((rows * cols, 3))
    best = np.full(rows * cols, -1.0)
    for t in range(len(tris)):
        i0, i1, i2 = tris[t, 0], tris[t, 1], tris[t, 2]
        x0, y0, x1, y1, x2, y2 = ang[i0, 0], ang[i0, 1], ang[i1, 0], ang[i1, 1], ang[i2, 0], ang[i2, 1]
        if max(x0, x1, x2) - min(x0, x1, x2) > 90:
            continue
        den = (y1 - y2) * (x0 - x2) + (x2 - x1) * (y0 - y2)
        if abs(den) < 1e-12:
            continue
        r0 = np.searchsorted(theta, min(y0, y1, y2))
        r1 = np.searchsorted(theta, max(y0, y1, y2), side="right")
        c0 = np.searchsorted(phi, min(x0, x1, x2))
        c1 = np.searchsorted(phi, max(x0, x1, x2), side="right")
        for r in range(r0, r1):
            for c in range(c0, c1):
                px, py = phi[c], theta[r]
                l0 = ((y1 - y2) * (px - x2) + (x2 - x1) * (py - y2)) / den
                l1 = ((y2 - y0) * (px - x2) + (x0 - x2) * (py - y2)) / den
                l2 = 1.0 - l0 - l1
                if l0 < -1e-9 or l1 < -1e-9 or l2 < -1e-9:
                    continue
                rad = l0 * radius[i0] + l1 * radius[i1] + l2 * radius[i2]
                g = r * cols + c
                if rad > best[g]:
                    best[g] = rad
                    ids[g, 0], ids[g, 1], ids[g, 2] = i0, i1, i2
                    wts[g, 0], wts[g, 1], wts[g, 2] = l0, l1, l2
    return ids, wts, best > 0


@njit(cache=True, nogil=True, error_model="numpy")
def gather(points: np.ndarray, ids: np.ndarray, wts: np.ndarray) -> np.ndarray:
    """[G, 3] points at barycentric weights ``wts`` of vertex triples ``ids``."""
    out = np.empty((len(ids), 3))
    for g in range(len(ids)):
        for k in range(3):
            out[g, k] = wts[g, 0] * points[ids[g, 0], k] + wts[g, 1] * points[ids[g, 1], k] + \
                wts[g, 2] * points[ids[g, 2], k]
    return out


def unit(v: np.ndarray) -> np.ndarray:
    n = math.sqrt(float(v @ v))
    return v / max(n, 1e-12)
