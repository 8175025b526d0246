"""Parts attached to the head: ears, neck, torso, hair (shell and long curtain), glasses.

Each builder returns vertices in the head frame (mm, ``MEAN_FACE_68`` axes), triangles and
texture coordinates; the renderer moves them to the camera. Parts are deliberately coarse:
the renderer spends its triangle budget on the face.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from zoo.data.head_mesh import CENTRE, angles_of, directions, grid_triangles

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


def ear(side: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An ear on the head's side (side -1: subject's right at negative x). Returns verts, tris, uv, ao."""
    rho, alpha, tris = polar_grid(4, 14)
    h, w = rng.uniform(27, 33), rng.uniform(15, 19)
    up = np.cos(alpha) * rho * h  # along the ear's long axis
    back = np.sin(alpha) * rho * w
    # rim raised, bowl (concha) sunk, the front edge joined to the head
    out = 7.0 * np.clip(rho - 0.55, 0, None) / 0.45 + 2.0 - 4.0 * np.exp(-(rho / 0.45) ** 2)
    out *= 0.35 + 0.65 * np.clip((np.sin(alpha) + 1) / 2 + 0.2, 0, 1)
    tilt = np.radians(rng.uniform(10, 22))
    flare = np.radians(rng.uniform(12, 30))
    local = np.stack([out, -up * np.cos(tilt) + back * np.sin(tilt) * 0.3, -back - up * np.sin(tilt) * 0.5], 1)
    c, s = np.cos(flare), np.sin(flare)
    local = np.stack([local[:, 0] * c + (-local[:, 2]) * s * 0.6, local[:, 1], local[:, 2]], 1)
    anchor = np.array([75.0 + rng.uniform(-2, 2), -22.0 + rng.uniform(-4, 4), -72.0 + rng.uniform(-4, 4)])
    verts = anchor + local
    verts[:, 0] *= side
    if side < 0:
        tris = tris[:, ::-1]
    uv = np.stack([rho, alpha], 1)
    ao = np.clip(0.55 + 0.45 * rho + 0.3 * (rho > 0.75), 0.5, 1.0)
    return verts, tris, uv, ao


def neck(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Elliptic neck cylinder from inside the head down into the torso; returns the blend weight too."""
    rings, seg = 9, 20
    ys = np.linspace(10.0, 165.0, rings)
    a = np.linspace(0, 2 * np.pi, seg + 1)
    rx, rz = rng.uniform(54, 66), rng.uniform(48, 58)
    yy, aa = np.meshgrid(ys, a, indexing="ij")
    verts = np.stack([rx * np.sin(aa), yy, -64.0 + 6 * (yy - 10) / 175 + rz * np.cos(aa)], -1).reshape(-1, 3)
    tris = grid_triangles(rings, seg + 1)
    uv = np.stack([aa, yy], -1).reshape(-1, 2)
    ao = np.clip(0.55 + (yy - 10) / 120, 0.55, 1.0).ravel()
    ao = ao * (0.8 + 0.2 * np.cos(aa).ravel() ** 2)
    weight = np.clip((yy.ravel() - 60) / 110, 0, 1)  # 0 = moves with the head, 1 = with the torso
    return verts, tris, uv, ao, weight


def torso(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shoulders and chest as lofted superellipse rings (head frame, before body rotation)."""
    seg = 28
    shoulder = rng.uniform(165, 205)
    prof = np.array([[128, 58, 52], [146, 100, 75], [168, 0.82 * shoulder, 95], [205, shoulder, 105], [270, shoulder, 110],
                     [460, shoulder * 0.96, 110]])
    prof[:, 0] += rng.uniform(-32, 0)
    a = np.linspace(0, 2 * np.pi, seg + 1)
    ca, sa = np.cos(a), np.sin(a)
    e = 2.0 / 2.6
    sx = np.sign(sa) * np.abs(sa) ** e
    sz = np.sign(ca) * np.abs(ca) ** e
    verts = np.concatenate([np.stack([w * sx, np.full_like(a, y), -62.0 + d * sz], 1) for y, w, d in prof])
    tris = grid_triangles(len(prof), seg + 1)
    uv = np.stack(np.meshgrid(prof[:, 0], a, indexing="ij")[::-1], -1).reshape(-1, 2)
    ao = np.repeat(np.array([0.6, 0.8, 0.95, 1.0, 1.0, 1.0]), seg + 1)
    return verts, tris, uv, ao


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


def hair_thickness(uv: np.ndarray, hair: dict, noise: np.ndarray) -> np.ndarray:
    """Per-vertex hair thickness (mm) over the head grid; <= 0 means bare skin."""
    phi, theta = uv[:, 0], uv[:, 1]
    if hair["style"] == "bald":
        return np.full(len(uv), -1.0)
    aphi = np.abs(phi)
    # hairline latitude: front of the forehead, temples, above the ears, nape at the back
    line = np.interp(aphi, [0, 35, 60, 80, 100, 130, 180],
                     [hair["front"], hair["front"] + 3, hair["front"] + 8, hair["side"] + 4, hair["side"], 28, 40])
    if hair["bangs"]:
        line = np.maximum(line, hair["front"] + hair["bangs"] * 18.0 * np.exp(-(phi / 40.0) ** 2))
    if hair["style"] in ("medium", "long"):
        line = np.where(aphi > 75, np.maximum(line, 20 + 20 * np.clip((aphi - 75) / 40, 0, 1)), line)
    depth = line - theta  # degrees above the hairline
    vol = hair["volume"] * (0.45 + 0.55 * np.clip((-theta - 10) / 60, 0, 1))
    t = np.minimum(depth * 0.55, vol) + noise * hair["clump"]
    return np.where(depth > 0, np.maximum(t, 0.6), -1.0)


def hair_curtain(hair: dict, head_radius_at, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Long hair hanging from the sides and back of the head (two-sided sheet)."""
    phis = np.linspace(72, 288, 25)
    phis = np.where(phis > 180, phis - 360, phis)
    theta0 = -6.0
    d = directions(np.full_like(phis, theta0), phis)
    base = CENTRE + d * (head_radius_at(d)[:, None] + hair["volume"] * 0.8)
    rows = 7
    drop = np.linspace(0, hair["length"], rows)
    flare = np.linspace(0, 1, rows) ** 1.5 * rng.uniform(10, 40)
    out = np.stack([d[:, 0], np.zeros_like(phis), d[:, 2]], 1)
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-9
    # the back part stays short: seen from the front it would otherwise hang over the chest
    reach = np.interp(np.abs(phis), [0, 120, 180], [1.0, 1.0, 0.3])[None, :, None]
    frac = np.linspace(0, 1, rows)[:, None, None]
    steps = base[None] + np.array([0.0, 1.0, 0.0]) * (frac * hair["length"] * reach) + out[None] * (flare[:, None, None] * reach)
    verts = steps.reshape(-1, 3)
    verts[:, 1] += rng.normal(0, 4, len(verts)) * (verts[:, 1] > base[:, 1].max() + 5)
    tris = grid_triangles(rows, len(phis))
    uv = np.stack([np.tile(phis, rows), theta0 + np.repeat(drop, len(phis)) / 2.0], 1)
    return verts, tris, uv


def glasses(eyes: np.ndarray, rng: np.random.Generator, dark: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frames (and dark lenses) in front of the deformed eye landmarks [12,3]; returns verts, tris, uv, kind.

    kind per triangle: 0 frame, 1 lens.
    """
    seg = 20
    a = np.linspace(0, 2 * np.pi, seg, endpoint=False)
    hw, hh = rng.uniform(22, 29), rng.uniform(14, 22)
    rim = rng.uniform(1.5, 4.0)
    p = rng.uniform(2.2, 4.0)  # superellipse: round to rectangular
    cx, sy = np.cos(a), np.sin(a)
    ex = np.sign(cx) * np.abs(cx) ** (2 / p)
    ey = np.sign(sy) * np.abs(sy) ** (2 / p)
    verts, tris, kinds = [], [], []

    def add(v: np.ndarray, t: np.ndarray, kind: int) -> None:
        off = sum(len(x) for x in verts)
        verts.append(v)
        tris.append(t + off)
        kinds.append(np.full(len(t), kind))

    ring = np.stack([np.arange(seg), (np.arange(seg) + 1) % seg], 1)
    quad = np.concatenate([np.stack([ring[:, 0], ring[:, 0] + seg, ring[:, 1]], 1),
                           np.stack([ring[:, 1], ring[:, 0] + seg, ring[:, 1] + seg], 1)])
    centres = []
    for k in (0, 6):
        e = eyes[k:k + 6]
        c = e.mean(axis=0) + np.array([0.0, 2.0, 13.0 + rng.uniform(-1, 3)])
        c[0] += np.sign(c[0]) * rng.uniform(0, 3)
        centres.append(c)
        inner = c + np.stack([hw * ex, hh * ey, -2.0 * ex * ex * np.sign(c[0]) * np.sign(ex)], 1)
        outer = c + np.stack([(hw + rim) * ex, (hh + rim) * ey, -2.0 * ex * ex * np.sign(c[0]) * np.sign(ex)], 1)
        add(np.vstack([inner, outer]), quad, 0)
        if dark:
            fan = np.stack([np.full(seg, seg), np.arange(seg), (np.arange(seg) + 1) % seg], 1)
            add(np.vstack([inner, c[None]]), fan, 1)
    # bridge and temples as thin strips
    left, right = centres
    bw = rim * 0.8
    br = np.array([left + [hw * 0.95, -hh * 0.2, 0], right - [hw * 0.95, hh * 0.2, 0]])
    add(np.vstack([br, br + [0, bw, 0]]), np.array([[0, 2, 1], [1, 2, 3]]), 0)
    for c, sign in ((left, -1.0), (right, 1.0)):
        front = c + np.array([sign * (hw + rim * 0.5), -hh * 0.35, -1.0])
        back = np.array([sign * 74.0, -30.0, -75.0])
        add(np.array([front, back, front + [0, 3, 0], back + [0, 3, 0]]), np.array([[0, 2, 1], [1, 2, 3]]), 0)
    v = np.vstack(verts)
    uv = np.zeros((len(v), 2))
    return v, np.vstack(tris).astype(np.int32), uv, np.concatenate(kinds)
