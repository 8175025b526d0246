"""Compiled (numba) inner loops of the renderer: triangle fill, attribute interpolation, lighting,
the shadow map, compositing and vertex normals.

Why compiled: these loops touch every covered pixel or every vertex of a 10k-triangle head, and as
numpy expressions each step allocates and re-reads [N,3] temporaries (or, for the fill, makes one
Python call per triangle), which kept the renderer at ~60 ms per 256 px face. Fused into single
passes they cost a few milliseconds. The kernels are plain IEEE arithmetic (no fastmath, no
threads), so output is deterministic for a given seed; ``cache=True`` compiles once per install,
and spawned dataset workers load the cached machine code. Every renderer kernel (here and in
``shade_kernels``, ``head_kernels``, ``scene_kernels``) uses ``error_model="numpy"``: a division by
zero gives inf/nan instead of a Python exception, which drops a check per division and lets LLVM
schedule the loops freely (the skin pass ran 1.7 -> 1.25 ms with identical output); every divisor
in them is guarded or a positive constant.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def fill_triangle_ids(ids: np.ndarray, uv: np.ndarray, tris: np.ndarray, order: np.ndarray) -> None:
    """Painter's algorithm: write each triangle's index into ``ids`` in ``order`` (later ones win).

    A pixel belongs to a triangle when its centre lies inside or on an edge (edge functions of the
    triangle's own winding), so neighbouring triangles of one mesh leave no cracks between them.
    """
    h, w = ids.shape
    for t in order:
        a, b, c = tris[t, 0], tris[t, 1], tris[t, 2]
        ax, ay, bx, by, cx, cy = uv[a, 0], uv[a, 1], uv[b, 0], uv[b, 1], uv[c, 0], uv[c, 1]
        area = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay)
        if area == 0.0:
            continue
        s = 1.0 if area > 0 else -1.0
        x0 = max(int(math.ceil(min(ax, bx, cx))), 0)
        x1 = min(int(math.floor(max(ax, bx, cx))), w - 1)
        y0 = max(int(math.ceil(min(ay, by, cy))), 0)
        y1 = min(int(math.floor(max(ay, by, cy))), h - 1)
        # edge functions e_k(x, y) = a_k x + (b_k y + c_k), oriented by s; the row part once per row
        a0, b0 = -(by - ay) * s, (bx - ax) * s
        a1, b1 = -(cy - by) * s, (cx - bx) * s
        a2, b2 = -(ay - cy) * s, (ax - cx) * s
        c0, c1, c2 = -(a0 * ax + b0 * ay), -(a1 * bx + b1 * by), -(a2 * cx + b2 * cy)
        for y in range(y0, y1 + 1):
            r0, r1, r2 = b0 * y + c0, b1 * y + c1, b2 * y + c2
            for x in range(x0, x1 + 1):
                if a0 * x + r0 >= 0.0 and a1 * x + r1 >= 0.0 and a2 * x + r2 >= 0.0:
                    ids[y, x] = t


@njit(cache=True, nogil=True, error_model="numpy")
def draw_order(uv: np.ndarray, z: np.ndarray, tris: np.ndarray, two_sided: np.ndarray, layer: np.ndarray,
               bias: np.ndarray, w: int, h: int) -> np.ndarray:
    """Indices of the triangles worth drawing, in painter's order: by layer, then far to near (centroid depth
    pulled ``bias`` mm toward the camera). Dropped: back faces of one-sided parts, degenerate triangles, those
    behind the camera and those entirely off the image."""
    n = len(tris)
    keep = np.empty(n, np.int64)
    key = np.empty(n)
    k = 0
    for t in range(n):
        a, b, c = tris[t, 0], tris[t, 1], tris[t, 2]
        area = (uv[b, 0] - uv[a, 0]) * (uv[c, 1] - uv[a, 1]) - (uv[c, 0] - uv[a, 0]) * (uv[b, 1] - uv[a, 1])
        if not (area < -1e-6 or (two_sided[t] and abs(area) > 1e-6)):
            continue
        zc = (z[a] + z[b] + z[c]) / 3
        if zc <= 1.0:
            continue
        if max(uv[a, 0], uv[b, 0], uv[c, 0]) < -1 or max(uv[a, 1], uv[b, 1], uv[c, 1]) < -1:
            continue
        if min(uv[a, 0], uv[b, 0], uv[c, 0]) > w or min(uv[a, 1], uv[b, 1], uv[c, 1]) > h:
            continue
        keep[k] = t
        key[k] = layer[t] * 1e6 - (zc - bias[t])
        k += 1
    return keep[:k][np.argsort(key[:k], kind="mergesort")]


@njit(cache=True, nogil=True, error_model="numpy")
def interpolate(ids: np.ndarray, uv: np.ndarray, tris: np.ndarray, attrs: np.ndarray, z: np.ndarray):  # noqa: ANN201
    """Covered pixels in row-major order: (ys, xs, triangle ids, attributes [N,A] float32, depth [N] float32).

    Screen-space barycentrics, clipped to the triangle and renormalised (pixel centres sit inside
    their triangle by construction; the clip guards degenerate slivers).
    """
    h, w = ids.shape
    na = attrs.shape[1]
    nmax = h * w
    ys = np.empty(nmax, np.int64)
    xs = np.empty(nmax, np.int64)
    tid = np.empty(nmax, np.int32)
    out = np.empty((nmax, na), np.float32)
    depth = np.empty(nmax, np.float32)
    i = 0
    last = -1  # neighbouring pixels mostly share a triangle: set it up once per run of pixels
    a = b = c = 0
    ax = ay = e0x = e0y = e1x = e1y = inv = 0.0
    for y in range(h):
        for x in range(w):
            t = ids[y, x]
            if t < 0:
                continue
            if t != last:
                last = t
                a, b, c = tris[t, 0], tris[t, 1], tris[t, 2]
                ax, ay = uv[a, 0], uv[a, 1]
                e0x, e0y = uv[b, 0] - ax, uv[b, 1] - ay
                e1x, e1y = uv[c, 0] - ax, uv[c, 1] - ay
                den = e0x * e1y - e1x * e0y
                if abs(den) < 1e-9:
                    den = 1e-9
                inv = 1.0 / den
            px, py = x - ax, y - ay
            l1 = min(max((px * e1y - e1x * py) * inv, 0.0), 1.0)
            l2 = min(max((e0x * py - px * e0y) * inv, 0.0), 1.0)
            l0 = min(max(1.0 - l1 - l2, 0.0), 1.0)
            norm = 1.0 / (l0 + l1 + l2 + 1e-12)
            w0, w1, w2 = np.float32(l0 * norm), np.float32(l1 * norm), np.float32(l2 * norm)
            for k in range(na):
                out[i, k] = w0 * attrs[a, k] + w1 * attrs[b, k] + w2 * attrs[c, k]
            depth[i] = w0 * np.float32(z[a]) + w1 * np.float32(z[b]) + w2 * np.float32(z[c])
            ys[i], xs[i], tid[i] = y, x, t
            i += 1
    return ys[:i], xs[:i], tid[:i], out[:i], depth[:i]


@njit(cache=True, nogil=True, error_model="numpy")
def surface_rays(attrs: np.ndarray, xs: np.ndarray, ys: np.ndarray, depth: np.ndarray, fx: float, fy: float, cx: float,
                 cy: float):  # noqa: ANN201
    """Unit normals (first three attribute columns, turned toward the viewer on back faces), unit view rays,
    and the camera-space points (pixel ray scaled to ``depth``, float64) that the shadow map looks up."""
    n = len(xs)
    nrm = np.empty((n, 3), np.float32)
    view = np.empty((n, 3), np.float32)
    points = np.empty((n, 3))
    for i in range(n):
        dx, dy = (xs[i] - cx) / fx, (ys[i] - cy) / fy
        d = np.float64(depth[i])
        points[i, 0], points[i, 1], points[i, 2] = dx * d, dy * d, d
        dl = math.sqrt(dx * dx + dy * dy + 1.0) + 1e-9
        vx, vy, vz = np.float32(dx / dl), np.float32(dy / dl), np.float32(1.0 / dl)
        ax, ay, az = attrs[i, 0], attrs[i, 1], attrs[i, 2]
        nl = np.float32(math.sqrt(ax * ax + ay * ay + az * az) + 1e-9)
        ax, ay, az = ax / nl, ay / nl, az / nl
        if ax * vx + ay * vy + az * vz > 0:  # two-sided parts seen from behind
            ax, ay, az = -ax, -ay, -az
        nrm[i, 0], nrm[i, 1], nrm[i, 2] = ax, ay, az
        view[i, 0], view[i, 1], view[i, 2] = vx, vy, vz
    return nrm, view, points


#: Entries of a specular power table: linear interpolation in it is within 2e-4 of x ** 40.
POW_STEPS = 1024


def power_table(shin: float) -> np.ndarray:
    """x ** shin at POW_STEPS + 1 even steps of x in [0, 1], for ``table_pow``."""
    return np.linspace(0.0, 1.0, POW_STEPS + 1) ** float(shin)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def table_pow(table: np.ndarray, x: float) -> float:
    """x ** shin for x in [0, 1] from ``power_table(shin)``: a pow() per fragment was half of all lighting time."""
    f = x * (len(table) - 1)
    i = min(int(f), len(table) - 2)
    return table[i] + (f - i) * (table[i + 1] - table[i])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def light_point(nx, ny, nz, vx, vy, vz, key_dir, fill_dir, wrap, shin_table, shadow, shadowed):  # noqa: ANN001, ANN202
    """Scalar weights of one point: (key diffuse, fill diffuse, sky fraction, specular, n.l); see ``synth_shade.light``.

    ``shin_table`` is ``power_table(shininess)``."""
    nk = nx * key_dir[0] + ny * key_dir[1] + nz * key_dir[2]
    kd = max((nk + wrap) / (1.0 + wrap), 0.0)
    facing = min(max(nk / 0.25, 0.0), 1.0)  # a hard (n.l > 0) cut leaves a visible seam at the terminator
    if shadowed:  # surfaces turned away from the light are already dark: cast shadows fade in with n.l
        sh = 1.0 - (1.0 - shadow) * min(max(nk / 0.3, 0.0), 1.0)
        kd *= sh
        facing *= sh
    nf = max(nx * fill_dir[0] + ny * fill_dir[1] + nz * fill_dir[2], 0.0)
    up = min(max(-ny * 0.5 + 0.5, 0.0), 1.0)
    if facing == 0.0:  # no highlight away from the light: skip the half-vector and the power
        return kd, nf, up, 0.0, nk
    hx, hy, hz = key_dir[0] - vx, key_dir[1] - vy, key_dir[2] - vz
    hl = math.sqrt(hx * hx + hy * hy + hz * hz) + 1e-9
    nh = min(max((nx * hx + ny * hy + nz * hz) / hl, 0.0), 1.0)
    return kd, nf, up, table_pow(shin_table, nh) * facing, nk


@njit(cache=True, nogil=True, error_model="numpy")
def light_terms(n: np.ndarray, v: np.ndarray, key_dir: np.ndarray, key: np.ndarray, fill_dir: np.ndarray,
                fill: np.ndarray, sky: np.ndarray, ground: np.ndarray, wrap: float, spec: float, shin_table: np.ndarray,
                shadow: np.ndarray, shadowed: bool):  # noqa: ANN201
    """Per-point (diffuse, ambient, specular) RGB, float32 [N,3] each; see ``synth_shade.light``."""
    m = n.shape[0]
    diff = np.empty((m, 3), np.float32)
    amb = np.empty((m, 3), np.float32)
    sp = np.empty((m, 3), np.float32)
    for i in range(m):
        kd, nf, up, s, _ = light_point(n[i, 0], n[i, 1], n[i, 2], v[i, 0], v[i, 1], v[i, 2], key_dir, fill_dir, wrap, shin_table,
                                        shadow[i] if shadowed else 1.0, shadowed)
        for ch in range(3):
            diff[i, ch] = kd * key[ch] + nf * fill[ch]
            amb[i, ch] = sky[ch] * up + ground[ch] * (1.0 - up)
            sp[i, ch] = s * spec * key[ch]
    return diff, amb, sp


@njit(cache=True, nogil=True, error_model="numpy")
def light_space(points: np.ndarray, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Points [N,3] in the light's frame: columns (along u, along v, toward the light w)."""
    out = np.empty((len(points), 3))
    for i in range(len(points)):
        x, y, z = points[i, 0], points[i, 1], points[i, 2]
        out[i, 0] = x * u[0] + y * u[1] + z * u[2]
        out[i, 1] = x * v[0] + y * v[1] + z * v[2]
        out[i, 2] = x * w[0] + y * w[1] + z * w[2]
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def splat_max(height: np.ndarray, lp: np.ndarray, lo_u: float, lo_v: float, cell: float) -> None:
    """Height map of light-space points ``lp``: each cell keeps the point nearest the light (the largest w)."""
    h, w = height.shape
    for i in range(len(lp)):
        cx, cy = int((lp[i, 0] - lo_u) / cell), int((lp[i, 1] - lo_v) / cell)
        z = np.float32(lp[i, 2])
        if 0 <= cy < h and 0 <= cx < w and z > height[cy, cx]:
            height[cy, cx] = z


@njit(cache=True, nogil=True, error_model="numpy")
def shadow_lookup(height: np.ndarray, lp: np.ndarray, normals: np.ndarray, w: np.ndarray, lo_u: float, lo_v: float,
                  cell: float) -> np.ndarray:
    """Lit fraction of each light-space point: percentage-closer filtering over the four nearest cells, with a
    slope-scaled depth bias (surfaces grazing the light need more to not shadow themselves)."""
    h, wd = height.shape
    lit = np.empty(len(lp), np.float32)
    for i in range(len(lp)):
        cos = abs(normals[i, 0] * w[0] + normals[i, 1] * w[1] + normals[i, 2] * w[2])
        cos = min(max(cos, 0.05), 1.0)
        bias = 4.0 + min(5.0 * math.sqrt(1 - cos * cos) / cos, 15.0)
        fx, fy = (lp[i, 0] - lo_u) / cell - 0.5, (lp[i, 1] - lo_v) / cell - 0.5
        x0, y0 = math.floor(fx), math.floor(fy)
        tx, ty = fx - x0, fy - y0
        acc = 0.0
        for dy in range(2):
            yi = min(max(int(y0) + dy, 0), h - 1)
            wy = ty if dy else 1.0 - ty
            for dx in range(2):
                xi = min(max(int(x0) + dx, 0), wd - 1)
                wx = tx if dx else 1.0 - tx
                if height[yi, xi] <= lp[i, 2] + bias:
                    acc += wx * wy
        lit[i] = acc
    return lit


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _reflect101(i: int, n: int) -> int:
    """OpenCV's default border (gfedcb|abcdefgh|gfedcba) for one step outside the image."""
    return -i if i < 0 else 2 * n - 2 - i if i >= n else i


@njit(cache=True, nogil=True, error_model="numpy")
def paste_and_soften(img: np.ndarray, flat: np.ndarray, colour: np.ndarray, ids: np.ndarray, k1d: np.ndarray) -> np.ndarray:
    """The background ``img`` [H,W,3] with the fragments' colours pasted at ``flat``, and every pixel on the
    silhouette (a 3x3 neighbourhood holding both fragments and background) replaced by its 3x3 blur with the
    separable kernel ``k1d``: a cheap anti-aliased outline. Blurring only those pixels costs a fraction of a
    full-image blur."""
    h, w = ids.shape
    src = img.reshape(h * w, 3)
    for j in range(len(flat)):
        for ch in range(3):
            src[flat[j], ch] = colour[j, ch]
    rows = np.zeros((h, w), np.int32)  # foreground count over each pixel's 3-wide row window, then 3x3
    for y in range(h):
        for x in range(w):
            if ids[y, x] >= 0:
                for xx in range(max(x - 1, 0), min(x + 2, w)):
                    rows[y, xx] += 1
    out = img.copy()
    for y in range(h):
        y0, y1 = max(y - 1, 0), min(y + 1, h - 1)
        for x in range(w):
            count = rows[y0, x] + rows[y1, x] + (rows[y, x] if y1 - y0 == 2 else 0)
            if count == 0 or count == (y1 - y0 + 1) * (min(x + 1, w - 1) - max(x - 1, 0) + 1):
                continue
            for ch in range(3):
                acc = 0.0
                for dy in range(3):
                    yy = _reflect101(y + dy - 1, h)
                    for dx in range(3):
                        acc += k1d[dy] * k1d[dx] * img[yy, _reflect101(x + dx - 1, w), ch]
                out[y, x, ch] = acc
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def vertex_normals(verts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals of a triangle mesh (cross(c - a, b - a): the head frame's winding)."""
    n = np.zeros((len(verts), 3))
    for t in range(len(tris)):
        a, b, c = tris[t, 0], tris[t, 1], tris[t, 2]
        e0 = (verts[c, 0] - verts[a, 0], verts[c, 1] - verts[a, 1], verts[c, 2] - verts[a, 2])
        e1 = (verts[b, 0] - verts[a, 0], verts[b, 1] - verts[a, 1], verts[b, 2] - verts[a, 2])
        fx, fy, fz = e0[1] * e1[2] - e0[2] * e1[1], e0[2] * e1[0] - e0[0] * e1[2], e0[0] * e1[1] - e0[1] * e1[0]
        for j in range(3):
            v = tris[t, j]
            n[v, 0] += fx
            n[v, 1] += fy
            n[v, 2] += fz
    for i in range(len(verts)):
        norm = math.sqrt(n[i, 0] ** 2 + n[i, 1] ** 2 + n[i, 2] ** 2) + 1e-9
        n[i, 0], n[i, 1], n[i, 2] = n[i, 0] / norm, n[i, 1] / norm, n[i, 2] / norm
    return n


@njit(cache=True, nogil=True, error_model="numpy")
def blend_into(tex: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    """tex += mask * (colour - tex) in place, for an RGB window ``tex`` [h,w,3] and a coverage ``mask`` [h,w]."""
    h, w = mask.shape
    for y in range(h):
        for x in range(w):
            m = mask[y, x]
            if m != 0.0:
                for ch in range(3):
                    tex[y, x, ch] += m * (colour[ch] - tex[y, x, ch])
