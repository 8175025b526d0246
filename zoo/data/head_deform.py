"""Identity and expression as smooth 3D displacement fields over the neutral head.

Every vertex of the head, every landmark, the eyeballs and the attachments (ears, glasses) are
moved by the same field, so the landmarks stay on the drawn surface whatever the identity or
expression. Fields are sums of Gaussian-windowed affine pieces (identity) and a few anatomical
movers (jaw rotation about the hinge, lip corners, brows, eyelids), evaluated on neutral
positions. Parameters are plain floats so they can be written to the ``_meta.json``.
"""

from __future__ import annotations

import numpy as np

from zoo.data.synth_kernels import blob
from zoo.pose import MEAN_FACE_68 as M

_HINGE = np.array([0.0, -10.0, -62.0])
_MOUTH_Y = float((M[61:64, 1].mean() + M[65:68, 1].mean()) / 2)


def _smooth(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _front(p: np.ndarray, z0: float = -45.0, width: float = 20.0) -> np.ndarray:
    """1 on the face side of the head, 0 behind it (keeps face edits off the back of the skull)."""
    return _smooth((p[:, 2] - z0) / width)


def _blob(p: np.ndarray, centre: np.ndarray, sigma: float) -> np.ndarray:
    c = np.asarray(centre, np.float64)
    return blob(p, float(c[0]), float(c[1]), float(c[2]), float(sigma))


def sample_identity(rng: np.random.Generator) -> dict:
    """Random identity parameters (roughly +-2 sd of adult variation, all plain floats)."""
    n = rng.normal
    # overall size varies freely; width and depth only a little, because their ratio is what a
    # mean-face pose estimate cannot tell from yaw (and real faces vary little in it)
    scale = n(1.0, 0.05)
    ident = {
        "scale_x": scale * np.clip(n(1.0, 0.02), 0.96, 1.04), "scale_y": scale * n(1.0, 0.035),
        "scale_z": scale * np.clip(n(1.0, 0.025), 0.95, 1.05),
        "jaw_width": n(0, 0.06), "chin_length": n(0, 4.0), "chin_forward": n(0, 3.0),
        "nose_size": n(0, 0.1), "nose_width": n(0, 0.1), "nose_projection": n(0, 2.0), "nose_down": n(0, 2.0),
        "eye_size": n(0, 0.08), "eye_spacing": n(0, 1.5), "eye_depth": n(0, 1.5), "eye_tilt": n(0, 1.5),
        "mouth_width": n(0, 0.07), "lip_thickness": n(0, 0.15), "brow_height": n(0, 2.5),
        "cheek_fullness": n(0, 3.0), "forehead_slope": n(0, 4.0),
    }
    blobs = []  # mirrored pairs (faces are nearly symmetric) with a little asymmetry
    for _ in range(2):
        c = M[rng.integers(0, 68)] + rng.normal(0, 10, 3)
        s, dv = float(rng.uniform(12, 30)), rng.normal(0, 1.5, 3)
        mc, md = c * [-1, 1, 1], dv * [-1, 1, 1] + rng.normal(0, 0.4, 3)
        blobs += [[*c.tolist(), s, *dv.tolist()], [*mc.tolist(), s, *md.tolist()]]
    ident = {k: float(v) for k, v in ident.items()}
    ident["blobs"] = blobs
    return ident


def sample_expression(rng: np.random.Generator) -> dict:
    """Random expression: mostly mild, sometimes strong, eyes sometimes closed (one or both)."""
    u = rng.uniform
    expr = {"jaw_open": 0.0, "smile": 0.0, "brows": 0.0, "pucker": 0.0, "eye_close_r": 0.0, "eye_close_l": 0.0,
            "gaze_x": float(rng.normal(0, 8)), "gaze_y": float(rng.normal(0, 6))}
    if u() < 0.55:
        expr["jaw_open"] = float(u(0.0, 1.0) ** 1.5 if u() < 0.7 else u(-0.15, 0.1))
    if u() < 0.5:
        expr["smile"] = float(u(0.1, 1.0))
    elif u() < 0.15:
        expr["pucker"] = float(u(0.2, 1.0))
    if u() < 0.4:
        expr["brows"] = float(u(-0.7, 1.0))
    r = u()
    if r < 0.08:
        expr["eye_close_r"] = expr["eye_close_l"] = float(u(0.8, 1.0))
    elif r < 0.14:
        expr["eye_close_r" if u() < 0.5 else "eye_close_l"] = float(u(0.7, 1.0))
    elif r < 0.35:
        expr["eye_close_r"] = expr["eye_close_l"] = float(u(0.1, 0.6))
    return expr


def _identity_field(p: np.ndarray, ident: dict) -> np.ndarray:
    d = np.zeros_like(p)
    front = _front(p)
    # jaw width and chin
    low = _smooth((p[:, 1] - 10) / 50) * front
    d[:, 0] += ident["jaw_width"] * p[:, 0] * low
    chin = _blob(p, M[8] + [0, -10, 8], 22) * front
    d[:, 1] += ident["chin_length"] * chin
    d[:, 2] += ident["chin_forward"] * chin
    # nose
    nose_c = M[30] + [0, 5, -12]
    w = _blob(p, nose_c, 16) * front
    d += (ident["nose_size"] * (p - nose_c)) * w[:, None]
    d[:, 0] += ident["nose_width"] * (p[:, 0] - nose_c[0]) * _blob(p, M[33] + [0, -6, -4], 10) * front
    d[:, 2] += ident["nose_projection"] * _blob(p, M[30], 11) * front
    d[:, 1] += ident["nose_down"] * _blob(p, M[30] + [0, 4, 0], 10) * front
    # eyes
    for lo, sign in ((36, -1.0), (42, 1.0)):
        ec = M[lo:lo + 6].mean(axis=0)
        w = _blob(p, ec, 11) * front
        d += (ident["eye_size"] * (p - ec)) * w[:, None]
        d[:, 0] += sign * ident["eye_spacing"] * _blob(p, ec, 18) * front
        d[:, 2] -= ident["eye_depth"] * w
        d[:, 1] += sign * ident["eye_tilt"] * (p[:, 0] - ec[0]) / 15 * w
        d[:, 2] += ident["cheek_fullness"] * _blob(p, ec + [sign * 8, 45, -10], 20) * front
        d[:, 0] += sign * ident["cheek_fullness"] * 0.6 * _blob(p, ec + [sign * 14, 50, -25], 20) * front
    # mouth
    mc = M[48:68].mean(axis=0)
    w = _blob(p, mc, 14) * front
    d[:, 0] += ident["mouth_width"] * (p[:, 0] - mc[0]) * w
    d[:, 1] += ident["lip_thickness"] * (p[:, 1] - _MOUTH_Y) * _blob(p, mc, 9) * front
    # brows and forehead
    brow = _smooth((-44 - p[:, 1]) / 10) * front
    d[:, 1] -= ident["brow_height"] * brow * np.exp(-np.maximum(0, -p[:, 1] - 70) ** 2 / 1800)
    d[:, 2] -= ident["forehead_slope"] * _smooth((-70 - p[:, 1]) / 50) * front
    for bx, by, bz, s, dx, dy, dz in ident["blobs"]:
        d += np.outer(_blob(p, np.array([bx, by, bz]), s) * front, [dx, dy, dz])
    return d


def _eye_close(p: np.ndarray, lo: int, amount: float) -> np.ndarray:
    """Move the upper lid (and the skin above it) down onto the lower lid."""
    d = np.zeros_like(p)
    if amount <= 0:
        return d
    upper = M[[lo, lo + 1, lo + 2, lo + 3]]
    lower = M[[lo, lo + 5, lo + 4, lo + 3]]
    ou, ol = np.argsort(upper[:, 0]), np.argsort(lower[:, 0])
    yu = np.interp(p[:, 0], upper[ou, 0], upper[ou, 1])
    yl = np.interp(p[:, 0], lower[ol, 0], lower[ol, 1])
    x0, x1 = upper[:, 0].min(), upper[:, 0].max()
    wx = _smooth((p[:, 0] - x0 + 5) / 5) * _smooth((x1 + 5 - p[:, 0]) / 5)
    wz = _front(p, -25.0, 10.0)
    gap = yl - yu
    between = (p[:, 1] >= yu) & (p[:, 1] <= yl)
    above = p[:, 1] < yu
    dy = np.where(between, yl - p[:, 1], 0.0)
    dy = np.where(above, gap * np.exp(-(((yu - p[:, 1]) / 7.0) ** 2)), dy)
    d[:, 1] = amount * dy * wx * wz
    bump = np.where(between, 1.0, np.where(above, np.exp(-(((yu - p[:, 1]) / 4.0) ** 2)), 0.0))
    d[:, 2] = amount * 1.5 * bump * wx * wz
    return d


def _expression_field(p: np.ndarray, expr: dict) -> np.ndarray:
    d = np.zeros_like(p)
    front = _front(p)
    # jaw: rotate the lower face about the hinge; a sharp boundary between the lips, soft at the cheeks
    a = np.radians(15.0 * expr["jaw_open"])
    if a != 0:
        q = p - _HINGE
        rot = np.stack([q[:, 0], q[:, 1] * np.cos(a) + q[:, 2] * np.sin(a), -q[:, 1] * np.sin(a) + q[:, 2] * np.cos(a)], 1)
        s = 1.0 + 14.0 * _smooth((np.abs(p[:, 0]) - 22) / 30)
        w = 1 / (1 + np.exp(-(p[:, 1] - _MOUTH_Y) / s)) * _front(p, -75.0, 30.0)
        d += (rot - q) * w[:, None]
    sm = expr["smile"]
    if sm:
        for corner, sign in ((48, -1.0), (54, 1.0)):
            d += np.outer(_blob(p, M[corner], 9) * front, [sign * 4.5 * sm, -4.0 * sm, -3.0 * sm])
            d += np.outer(_blob(p, M[corner] + [sign * 12, -22, -5], 14) * front, [sign * 1.0 * sm, -2.5 * sm, 1.5 * sm])
        for lo in (36, 42):
            d[:, 1] -= 1.2 * sm * _blob(p, M[lo + 4:lo + 6].mean(axis=0) + [0, 2, 0], 5) * front
    pk = expr["pucker"]
    if pk:
        for corner, sign in ((48, -1.0), (54, 1.0)):
            d += np.outer(_blob(p, M[corner], 8) * front, [-sign * 6.0 * pk, 0.0, 3.0 * pk])
        d[:, 2] += 4.0 * pk * _blob(p, M[48:60].mean(axis=0), 10) * front
    br = expr["brows"]
    if br:
        for lo, hi in ((17, 22), (22, 27)):
            bc = M[lo:hi].mean(axis=0)
            w = _smooth((-43.5 - p[:, 1]) / 11) * np.exp(-(p[:, 0] - bc[0]) ** 2 / (2 * 24.0**2)) * front
            w *= np.exp(-np.maximum(0, -p[:, 1] - 75) ** 2 / 1500)
            d[:, 1] -= 7.0 * br * w
            if br < 0:  # frown: brows also pull toward the nose
                d[:, 0] -= np.sign(bc[0]) * 3.0 * br * w * _blob(p, M[21 if lo == 17 else 22], 14)
    d += _eye_close(p, 36, expr["eye_close_r"])
    d += _eye_close(p, 42, expr["eye_close_l"])
    return d


def deform(points: np.ndarray, ident: dict, expr: dict) -> np.ndarray:
    """Neutral head-frame points -> deformed points (identity, then expression, then global scale)."""
    p = np.asarray(points, dtype=np.float64)
    out = p + _identity_field(p, ident) + _expression_field(p, expr)
    return out * np.array([ident["scale_x"], ident["scale_y"], ident["scale_z"]])
