"""Parts attached to the head: ears, neck, torso, hair (shell and long curtain), glasses.

Each builder returns vertices in the head frame (mm, ``MEAN_FACE_68`` axes), triangles and
texture coordinates; the renderer moves them to the camera. Parts are deliberately coarse:
the renderer spends its triangle budget on the face.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from zoo.synth import head_kernels as hk
from zoo.synth.head_mesh import CENTRE, angles_of, directions, grid_triangles

NECK_PIVOT = np.array([0.0, 55.0, -62.0])


@lru_cache(maxsize=8)
def polar_grid(rings: int, segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rho, alpha) samples of a disc (centre vertex + rings) and its triangles (cached: read-only arrays)."""
    rho = np.linspace(0, 1, rings + 1)[1:]
    alpha = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    rr, aa = np.meshgrid(rho, alpha, indexing="ij")
    rr, aa = np.concatenate([[0.0], rr.ravel()]), np.concatenate([[0.0], aa.ravel()])
    tris = []
    for s in range(segments):
        s1 = (s + 1) % segments
        tris.append([0, 1 + s, 1 + s1])
        for r in range(rings - 1):
            a, b = 1 + r * segments + s, 1 + r * segments + s1
            c, d = a + segments, b + segments
            tris += [[a, c, b], [b, c, d]]
    out = rr, aa, np.array(tris, np.int32)
    for a in out:
        a.setflags(write=False)
    return out


def _frozen(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Mark cached arrays read-only, so a caller that writes into one fails instead of corrupting the cache."""
    for a in arrays:
        a.setflags(write=False)
    return arrays


@lru_cache(maxsize=1)
def _ear_template() -> tuple[np.ndarray, ...]:
    """The ear's unit disc and everything about it that no random draw changes (cached)."""
    rho, alpha, tris = polar_grid(4, 14)
    # rim raised, bowl (concha) sunk, the front edge joined to the head
    out = 7.0 * np.clip(rho - 0.55, 0, None) / 0.45 + 2.0 - 4.0 * np.exp(-(rho / 0.45) ** 2)
    out *= 0.35 + 0.65 * np.clip((np.sin(alpha) + 1) / 2 + 0.2, 0, 1)
    uv = np.stack([rho, alpha], 1)
    ao = np.clip(0.55 + 0.45 * rho + 0.3 * (rho > 0.75), 0.5, 1.0)
    return _frozen(np.cos(alpha) * rho, np.sin(alpha) * rho, out, tris, np.ascontiguousarray(tris[:, ::-1]), uv, ao)


def ear(side: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An ear on the head's side (side -1: subject's right at negative x). Returns verts, tris, uv, ao.

    tris, uv and ao are shared read-only arrays.
    """
    cos_rho, sin_rho, out, tris, flipped, uv, ao = _ear_template()
    h, w = rng.uniform(27, 33), rng.uniform(15, 19)
    up = cos_rho * h  # along the ear's long axis
    back = sin_rho * w
    tilt = np.radians(rng.uniform(10, 22))
    flare = np.radians(rng.uniform(12, 30))
    ct, st = np.cos(tilt), np.sin(tilt)
    l1 = -up * ct + back * st * 0.3
    l2 = -back - up * st * 0.5
    l0 = out * np.cos(flare) + (-l2) * np.sin(flare) * 0.6
    anchor = np.array([75.0 + rng.uniform(-2, 2), -22.0 + rng.uniform(-4, 4), -72.0 + rng.uniform(-4, 4)])
    verts = np.stack([l0, l1, l2], 1)
    verts += anchor
    verts[:, 0] *= side
    return verts, (flipped if side < 0 else tris), uv, ao


@lru_cache(maxsize=1)
def _neck_template() -> tuple[np.ndarray, ...]:
    """The neck's grid and every per-vertex quantity that no random draw changes (cached)."""
    rings, seg = 9, 20
    ys = np.linspace(10.0, 165.0, rings)
    a = np.linspace(0, 2 * np.pi, seg + 1)
    yy, aa = np.meshgrid(ys, a, indexing="ij")
    tris = grid_triangles(rings, seg + 1)
    uv = np.stack([aa, yy], -1).reshape(-1, 2)
    ao = np.clip(0.55 + (yy - 10) / 120, 0.55, 1.0).ravel()
    ao = ao * (0.8 + 0.2 * np.cos(aa).ravel() ** 2)
    weight = np.clip((yy.ravel() - 60) / 110, 0, 1)  # 0 = moves with the head, 1 = with the torso
    z0 = (-64.0 + 6 * (yy - 10) / 175).ravel()
    return _frozen(np.sin(aa).ravel(), np.cos(aa).ravel(), yy.ravel(), z0, tris, uv, ao, weight)


def neck(rng: np.random.Generator, fit: tuple[float, float, float] | None = None
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Elliptic neck cylinder from inside the head down into the torso; returns the blend weight too.

    ``fit`` = (half width, half depth, centre z) in mm replaces the drawn radii and the classic centre
    (the ICT head's neck; the same draws are taken). tris, uv, ao and weight are shared read-only arrays.
    """
    sin_a, cos_a, y, z0, tris, uv, ao, weight = _neck_template()
    rx, rz = rng.uniform(54, 66), rng.uniform(48, 58)
    if fit is not None:
        rx, rz, zc = fit
        z0 = z0 - z0[0] + zc
    verts = np.empty((len(y), 3))
    verts[:, 0] = rx * sin_a
    verts[:, 1] = y
    verts[:, 2] = z0 + rz * cos_a
    return verts, tris, uv, ao, weight


@lru_cache(maxsize=1)
def _torso_template() -> tuple[np.ndarray, ...]:
    """The torso's superellipse ring (x and z factors), triangles and occlusion (cached)."""
    seg = 28
    a = np.linspace(0, 2 * np.pi, seg + 1)
    ca, sa = np.cos(a), np.sin(a)
    e = 2.0 / 2.6
    sx = np.sign(sa) * np.abs(sa) ** e
    sz = np.sign(ca) * np.abs(ca) ** e
    tris = grid_triangles(len(_TORSO_PROFILE), seg + 1)
    ao = np.repeat(np.array([0.6, 0.8, 0.95, 1.0, 1.0, 1.0]), seg + 1)
    return _frozen(a, sx, sz, tris, ao)


# (y, half width, half depth) rings; 0 marks the widths set by the drawn shoulder width
_TORSO_PROFILE = np.array([[128, 58, 52], [146, 100, 75], [168, 0, 95], [205, 0, 105], [270, 0, 110], [460, 0, 110]], float)


def torso(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shoulders and chest as lofted superellipse rings (head frame, before body rotation).

    tris and ao are shared read-only arrays.
    """
    a, sx, sz, tris, ao = _torso_template()
    shoulder = rng.uniform(165, 205)
    prof = _TORSO_PROFILE.copy()
    prof[2:, 1] = [0.82 * shoulder, shoulder, shoulder, shoulder * 0.96]
    prof[:, 0] += rng.uniform(-32, 0)
    verts = np.empty((len(prof), len(a), 3))
    verts[..., 0] = prof[:, 1:2] * sx
    verts[..., 1] = prof[:, 0:1]
    verts[..., 2] = -62.0 + prof[:, 2:3] * sz
    uv = np.empty((len(prof), len(a), 2))
    uv[..., 0] = a
    uv[..., 1] = prof[:, 0:1]
    return verts.reshape(-1, 3), tris, uv.reshape(-1, 2), ao


def sample_hair(rng: np.random.Generator) -> dict:
    """Hair style parameters (plain floats for the meta file)."""
    r = rng.uniform()
    style = "bald" if r < 0.07 else "short" if r < 0.45 else "medium" if r < 0.7 else "long"
    front = angles_of(np.array([0.0, -108.0, -2.0]))[1]  # about 50 mm above the brows
    return {
        "style": style,
        "front": float(front + rng.uniform(-4, 10) if rng.uniform() < 0.85 else front - rng.uniform(4, 20)),
        "bangs": float(rng.uniform(0.3, 1.6) if style != "bald" and rng.uniform() < 0.2 else 0.0),
        "side": float(rng.uniform(-16, -4)),
        "volume": float(rng.uniform(4, 14) if style == "short" else rng.uniform(10, 26)),
        "clump": float(rng.uniform(0.5, 6.0)),
        "length": float(rng.uniform(120, 320) if style == "long" else rng.uniform(60, 120)),
        "part": float(rng.uniform(-30, 30)),
    }


_HAIRLINE_KNOTS = np.array([0.0, 35, 60, 80, 100, 130, 180])


def hair_thickness(uv: np.ndarray, hair: dict, noise: np.ndarray) -> np.ndarray:
    """Per-vertex hair thickness (mm) over the head grid; <= 0 means bare skin.

    One compiled pass (``head_kernels.hair_thickness``) instead of a dozen numpy temporaries.
    """
    if hair["style"] == "bald":
        return np.full(len(uv), -1.0)
    # hairline latitude: front of the forehead, temples, above the ears, nape at the back
    f, s = hair["front"], hair["side"]
    line = np.array([f, f + 3, f + 8, s + 4, s, 28, 40], np.float64)
    uv = np.asarray(uv, np.float64)
    return hk.hair_thickness(np.ascontiguousarray(uv[:, 0]), np.ascontiguousarray(uv[:, 1]),
                             np.asarray(noise, np.float64), _HAIRLINE_KNOTS, line, (float(f), float(hair["bangs"])),
                             hair["style"] in ("medium", "long"), float(hair["volume"]), float(hair["clump"]))


@lru_cache(maxsize=2)
def _curtain_rim(head_radius_at) -> tuple[np.ndarray, ...]:  # noqa: ANN001
    """Where the curtain hangs from (longitudes, directions, head radius there, outward flare
    direction, back-of-head shortening, triangles): fixed for a head surface, so cached; the
    radius lookup alone costs more than the rest of the curtain."""
    phis = np.linspace(72, 288, 25)
    phis = np.where(phis > 180, phis - 360, phis)
    d = directions(np.full_like(phis, _CURTAIN_THETA), phis)
    radius = head_radius_at(d)[:, None]
    out = np.stack([d[:, 0], np.zeros_like(phis), d[:, 2]], 1)
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-9
    # the back part stays short: seen from the front it would otherwise hang over the chest
    reach = np.interp(np.abs(phis), [0, 120, 180], [1.0, 1.0, 0.3])[None, :, None]
    return _frozen(phis, d, radius, out, reach, grid_triangles(_CURTAIN_ROWS, len(phis)))


_CURTAIN_THETA, _CURTAIN_ROWS = -6.0, 7


def hair_curtain(hair: dict, head_radius_at, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Long hair hanging from the sides and back of the head (two-sided sheet).

    head_radius_at must be a pure (cacheable) function of direction; tris are shared read-only.
    """
    phis, d, radius, out, reach, tris = _curtain_rim(head_radius_at)
    rows = _CURTAIN_ROWS
    base = CENTRE + d * (radius + hair["volume"] * 0.8)
    drop = np.linspace(0, hair["length"], rows)
    flare = np.linspace(0, 1, rows) ** 1.5 * rng.uniform(10, 40)
    frac = np.linspace(0, 1, rows)[:, None, None]
    steps = base[None] + np.array([0.0, 1.0, 0.0]) * (frac * hair["length"] * reach) + out[None] * (flare[:, None, None] * reach)
    verts = steps.reshape(-1, 3)
    verts[:, 1] += rng.normal(0, 4, len(verts)) * (verts[:, 1] > base[:, 1].max() + 5)
    uv = np.stack([np.tile(phis, rows), _CURTAIN_THETA + np.repeat(drop, len(phis)) / 2.0], 1)
    return verts, tris, uv


_STRIP = np.array([[0, 2, 1], [1, 2, 3]])


@lru_cache(maxsize=1)
def _glasses_template(seg: int = 20) -> tuple[np.ndarray, ...]:
    """Rim angles (|cos|, |sin| and their signs), rim quads and lens fan of one lens (cached)."""
    a = np.linspace(0, 2 * np.pi, seg, endpoint=False)
    cx, sy = np.cos(a), np.sin(a)
    ring = np.stack([np.arange(seg), (np.arange(seg) + 1) % seg], 1)
    quad = np.concatenate([np.stack([ring[:, 0], ring[:, 0] + seg, ring[:, 1]], 1),
                           np.stack([ring[:, 1], ring[:, 0] + seg, ring[:, 1] + seg], 1)])
    fan = np.stack([np.full(seg, seg), np.arange(seg), (np.arange(seg) + 1) % seg], 1)
    return _frozen(np.sign(cx), np.abs(cx), np.sign(sy), np.abs(sy), quad, fan)


def glasses(eyes: np.ndarray, rng: np.random.Generator, dark: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frames (and dark lenses) in front of the deformed eye landmarks [12,3]; returns verts, tris, uv, kind.

    kind per triangle: 0 frame, 1 lens.
    """
    sign_x, abs_x, sign_y, abs_y, quad, fan = _glasses_template()
    hw, hh = rng.uniform(22, 29), rng.uniform(14, 22)
    rim = rng.uniform(1.5, 4.0)
    p = rng.uniform(2.2, 4.0)  # superellipse: round to rectangular
    ex = sign_x * abs_x ** (2 / p)
    ey = sign_y * abs_y ** (2 / p)
    verts, tris, kinds = [], [], []

    def add(v: np.ndarray, t: np.ndarray, kind: int) -> None:
        off = sum(len(x) for x in verts)
        verts.append(v)
        tris.append(t + off)
        kinds.append(np.full(len(t), kind))

    centres = []
    for k in (0, 6):
        c = eyes[k:k + 6].mean(axis=0) + np.array([0.0, 2.0, 13.0 + rng.uniform(-1, 3)])
        c[0] += np.sign(c[0]) * rng.uniform(0, 3)
        centres.append(c)
        bend = -2.0 * ex * ex * np.sign(c[0]) * np.sign(ex)
        inner = c + np.stack([hw * ex, hh * ey, bend], 1)
        outer = c + np.stack([(hw + rim) * ex, (hh + rim) * ey, bend], 1)
        add(np.vstack([inner, outer]), quad, 0)
        if dark:
            add(np.vstack([inner, c[None]]), fan, 1)
    # bridge and temples as thin strips
    left, right = centres
    bw = rim * 0.8
    br = np.array([left + [hw * 0.95, -hh * 0.2, 0], right - [hw * 0.95, hh * 0.2, 0]])
    add(np.vstack([br, br + [0, bw, 0]]), _STRIP, 0)
    for c, sign in ((left, -1.0), (right, 1.0)):
        front = c + np.array([sign * (hw + rim * 0.5), -hh * 0.35, -1.0])
        back = np.array([sign * 74.0, -30.0, -75.0])
        add(np.array([front, back, front + [0, 3, 0], back + [0, 3, 0]]), _STRIP, 0)
    v = np.vstack(verts)
    uv = np.zeros((len(v), 2))
    return v, np.vstack(tris).astype(np.int32), uv, np.concatenate(kinds)
