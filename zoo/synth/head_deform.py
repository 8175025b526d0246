"""Identity and expression as smooth 3D displacement fields over the neutral head.

Every vertex of the head, every landmark, the eyeballs and the attachments (ears, glasses) are
moved by the same field, so the landmarks stay on the drawn surface whatever the identity or
expression. Fields are sums of Gaussian-windowed affine pieces (identity) and a few anatomical
movers (jaw rotation about the hinge, lip corners, brows, eyelids), evaluated on neutral
positions. Parameters are plain floats so they can be written to the ``_meta.json``.

The fields are evaluated by compiled single passes over the points (``head_kernels``): the
Gaussian pieces become rows of a blob table whose fixed geometry is built once at import, and
per face only the parameter-dependent coefficients are filled in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.pose import MEAN_FACE_68 as M
from zoo.synth import head_kernels as hk

_HINGE = np.array([0.0, -10.0, -62.0])
_MOUTH_Y = float((M[61:64, 1].mean() + M[65:68, 1].mean()) / 2)


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


@dataclass(frozen=True)
class _Table:
    """A blob table (layout in ``head_kernels``) whose coefficients are parameter * factor.

    The geometry (centres, widths, origins) is fixed, so it is built once at import; per face
    only the coefficient cells are filled in.
    """

    geometry: np.ndarray
    cells: np.ndarray
    keys: tuple[str, ...]
    factors: np.ndarray

    def fill(self, params: dict) -> np.ndarray:
        """The table for these parameter values (a fresh array; the template is never written)."""
        rows = self.geometry.copy()
        rows.flat[self.cells] = self.factors * np.array([params[k] for k in self.keys])
        return rows


def _table(pieces: list[tuple]) -> _Table:
    """pieces: (centre, sigma, origin or None, [(out axis, in axis or 3 for the constant, key, factor)])."""
    geometry, cells, keys, factors = [], [], [], []
    for k, (centre, sigma, origin, terms) in enumerate(pieces):
        geometry.append(hk.blob_row(centre, sigma, origin))
        for i, j, key, factor in terms:
            cells.append(k * hk.ROW_WIDTH + hk.coefficient_column(i, j))
            keys.append(key)
            factors.append(factor)
    return _Table(np.array(geometry), np.array(cells), tuple(keys), np.array(factors, np.float64))


def _identity_table() -> _Table:
    """The identity's Gaussian pieces (each also windowed by the face side, z > -45)."""
    nose_c = M[30] + [0, 5, -12]
    pieces = [(M[8] + [0, -10, 8], 22, None, [(1, 3, "chin_length", 1.0), (2, 3, "chin_forward", 1.0)]),
              (nose_c, 16, None, [(k, k, "nose_size", 1.0) for k in range(3)]),
              (M[33] + [0, -6, -4], 10, nose_c, [(0, 0, "nose_width", 1.0)]),
              (M[30], 11, None, [(2, 3, "nose_projection", 1.0)]),
              (M[30] + [0, 4, 0], 10, None, [(1, 3, "nose_down", 1.0)])]
    for lo, sign in ((36, -1.0), (42, 1.0)):
        ec = M[lo:lo + 6].mean(axis=0)
        eye = [(k, k, "eye_size", 1.0) for k in range(3)] + [(2, 3, "eye_depth", -1.0), (1, 0, "eye_tilt", sign / 15)]
        pieces += [(ec, 11, None, eye), (ec, 18, None, [(0, 3, "eye_spacing", sign)]),
                   (ec + [sign * 8, 45, -10], 20, None, [(2, 3, "cheek_fullness", 1.0)]),
                   (ec + [sign * 14, 50, -25], 20, None, [(0, 3, "cheek_fullness", sign * 0.6)])]
    mc = M[48:68].mean(axis=0)
    pieces += [(mc, 14, None, [(0, 0, "mouth_width", 1.0)]),
               (mc, 9, np.array([0.0, _MOUTH_Y, 0.0]), [(1, 1, "lip_thickness", 1.0)])]
    return _table(pieces)


def _mouth_tables() -> tuple[_Table, _Table]:
    """Smile (lip corners, cheeks, lower lids) and pucker (lip corners, lip centre) tables."""
    smile, pucker = [], []
    for corner, sign in ((48, -1.0), (54, 1.0)):
        smile += [(M[corner], 9, None, [(0, 3, "smile", sign * 4.5), (1, 3, "smile", -4.0), (2, 3, "smile", -3.0)]),
                  (M[corner] + [sign * 12, -22, -5], 14, None,
                   [(0, 3, "smile", sign * 1.0), (1, 3, "smile", -2.5), (2, 3, "smile", 1.5)])]
        pucker.append((M[corner], 8, None, [(0, 3, "pucker", -sign * 6.0), (2, 3, "pucker", 3.0)]))
    smile += [(M[lo + 4:lo + 6].mean(axis=0) + [0, 2, 0], 5, None, [(1, 3, "smile", -1.2)]) for lo in (36, 42)]
    pucker.append((M[48:60].mean(axis=0), 10, None, [(2, 3, "pucker", 4.0)]))
    return _table(smile), _table(pucker)


_IDENTITY = _identity_table()
_SMILE, _PUCKER = _mouth_tables()


def _identity_rows(ident: dict) -> np.ndarray:
    """The identity's blob table: the fixed pieces plus its random mirrored blobs."""
    blobs = np.array(ident["blobs"], np.float64).reshape(-1, 7)
    extra = np.stack([hk.blob_row(b[:3], b[3]) for b in blobs]) if len(blobs) else np.empty((0, hk.ROW_WIDTH))
    const = hk.coefficient_column(0, 3)
    extra[:, const:const + 3] = blobs[:, 4:7]
    return np.vstack([_IDENTITY.fill(ident), extra])


def _identity_field(p: np.ndarray, ident: dict) -> np.ndarray:
    """Identity displacement: one compiled pass over the points (see ``head_kernels``)."""
    return hk.identity_field(p, _identity_rows(ident), float(ident["jaw_width"]), float(ident["brow_height"]),
                             float(ident["forehead_slope"]))


def _lids(lo: int) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower lid polylines [4,2] (x ascending, y) of the eye whose landmarks start at lo."""
    upper, lower = M[[lo, lo + 1, lo + 2, lo + 3], :2], M[[lo, lo + 5, lo + 4, lo + 3], :2]
    return upper[np.argsort(upper[:, 0])], lower[np.argsort(lower[:, 0])]


_LIDS = {lo: _lids(lo) for lo in (36, 42)}
_BROWS = np.array([M[17:22].mean(axis=0), M[22:27].mean(axis=0)])
_BROW_INNER = M[[21, 22]].astype(np.float64)


def _expression_field(p: np.ndarray, expr: dict) -> np.ndarray:
    """Expression displacement: jaw, smile/pucker blobs, brows and eyelids, each one compiled pass."""
    d = np.zeros_like(p)
    a = np.radians(15.0 * expr["jaw_open"])
    if a != 0:
        hk.jaw_field(p, float(a), _HINGE, _MOUTH_Y, d)
    tables = [t.fill(expr) for t, key in ((_SMILE, "smile"), (_PUCKER, "pucker")) if expr[key]]
    if tables:
        hk.blob_field(p, np.vstack(tables), -45.0, 20.0, d)
    if expr["brows"]:
        hk.brow_field(p, float(expr["brows"]), _BROWS, _BROW_INNER, d)
    for lo, key in ((36, "eye_close_r"), (42, "eye_close_l")):
        if expr[key] > 0:
            hk.eye_close_field(p, *_LIDS[lo], float(expr[key]), d)
    return d


def deform(points: np.ndarray, ident: dict, expr: dict) -> np.ndarray:
    """Neutral head-frame points -> deformed points (identity, then expression, then global scale)."""
    p = np.ascontiguousarray(points, dtype=np.float64)
    out = p + _identity_field(p, ident) + _expression_field(p, expr)
    return out * np.array([ident["scale_x"], ident["scale_y"], ident["scale_z"]])
