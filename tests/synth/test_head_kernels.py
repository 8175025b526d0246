"""The head's compiled kernels and cached part templates against plain numpy statements of what they compute.

The numpy references below are the pre-kernel formulas of ``head_deform``, ``head_mesh`` and
``head_parts``; the kernels must agree with them to float round-off.
"""

from __future__ import annotations

import numpy as np
import pytest

from zoo.pose import MEAN_FACE_68 as M
from zoo.synth import head_kernels as hk
from zoo.synth import head_parts as head_parts
from zoo.synth.head_deform import _expression_field, _identity_field, deform, sample_expression, sample_identity
from zoo.synth.head_mesh import grid_normals, head_grid

_HINGE = np.array([0.0, -10.0, -62.0])
_MOUTH_Y = float((M[61:64, 1].mean() + M[65:68, 1].mean()) / 2)


def _smooth(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _front(p: np.ndarray, z0: float = -45.0, width: float = 20.0) -> np.ndarray:
    return _smooth((p[:, 2] - z0) / width)


def _blob(p: np.ndarray, c: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-((p - c) ** 2).sum(1) / (2 * sigma**2))


def _identity_reference(p: np.ndarray, ident: dict) -> np.ndarray:
    d, front = np.zeros_like(p), _front(p)
    d[:, 0] += ident["jaw_width"] * p[:, 0] * _smooth((p[:, 1] - 10) / 50) * front
    chin = _blob(p, M[8] + [0, -10, 8], 22) * front
    d[:, 1] += ident["chin_length"] * chin
    d[:, 2] += ident["chin_forward"] * chin
    nose_c = M[30] + [0, 5, -12]
    d += ident["nose_size"] * (p - nose_c) * (_blob(p, nose_c, 16) * front)[:, None]
    d[:, 0] += ident["nose_width"] * (p[:, 0] - nose_c[0]) * _blob(p, M[33] + [0, -6, -4], 10) * front
    d[:, 2] += ident["nose_projection"] * _blob(p, M[30], 11) * front
    d[:, 1] += ident["nose_down"] * _blob(p, M[30] + [0, 4, 0], 10) * front
    for lo, sign in ((36, -1.0), (42, 1.0)):
        ec = M[lo:lo + 6].mean(axis=0)
        w = _blob(p, ec, 11) * front
        d += ident["eye_size"] * (p - ec) * w[:, None]
        d[:, 0] += sign * ident["eye_spacing"] * _blob(p, ec, 18) * front
        d[:, 2] -= ident["eye_depth"] * w
        d[:, 1] += sign * ident["eye_tilt"] * (p[:, 0] - ec[0]) / 15 * w
        d[:, 2] += ident["cheek_fullness"] * _blob(p, ec + [sign * 8, 45, -10], 20) * front
        d[:, 0] += sign * ident["cheek_fullness"] * 0.6 * _blob(p, ec + [sign * 14, 50, -25], 20) * front
    mc = M[48:68].mean(axis=0)
    d[:, 0] += ident["mouth_width"] * (p[:, 0] - mc[0]) * _blob(p, mc, 14) * front
    d[:, 1] += ident["lip_thickness"] * (p[:, 1] - _MOUTH_Y) * _blob(p, mc, 9) * front
    brow = _smooth((-44 - p[:, 1]) / 10) * front
    d[:, 1] -= ident["brow_height"] * brow * np.exp(-np.maximum(0, -p[:, 1] - 70) ** 2 / 1800)
    d[:, 2] -= ident["forehead_slope"] * _smooth((-70 - p[:, 1]) / 50) * front
    for bx, by, bz, s, dx, dy, dz in ident["blobs"]:
        d += np.outer(_blob(p, np.array([bx, by, bz]), s) * front, [dx, dy, dz])
    return d


def _eye_close_reference(p: np.ndarray, lo: int, amount: float) -> np.ndarray:
    d = np.zeros_like(p)
    upper, lower = M[[lo, lo + 1, lo + 2, lo + 3]], M[[lo, lo + 5, lo + 4, lo + 3]]
    ou, ol = np.argsort(upper[:, 0]), np.argsort(lower[:, 0])
    yu = np.interp(p[:, 0], upper[ou, 0], upper[ou, 1])
    yl = np.interp(p[:, 0], lower[ol, 0], lower[ol, 1])
    wx = _smooth((p[:, 0] - upper[:, 0].min() + 5) / 5) * _smooth((upper[:, 0].max() + 5 - p[:, 0]) / 5)
    wz = _front(p, -25.0, 10.0)
    between, above = (p[:, 1] >= yu) & (p[:, 1] <= yl), p[:, 1] < yu
    dy = np.where(above, (yl - yu) * np.exp(-(((yu - p[:, 1]) / 7.0) ** 2)), np.where(between, yl - p[:, 1], 0.0))
    bump = np.where(between, 1.0, np.where(above, np.exp(-(((yu - p[:, 1]) / 4.0) ** 2)), 0.0))
    d[:, 1] = amount * dy * wx * wz
    d[:, 2] = amount * 1.5 * bump * wx * wz
    return d


def _expression_reference(p: np.ndarray, expr: dict) -> np.ndarray:
    d, front = np.zeros_like(p), _front(p)
    a = np.radians(15.0 * expr["jaw_open"])
    q = p - _HINGE
    rot = np.stack([q[:, 0], q[:, 1] * np.cos(a) + q[:, 2] * np.sin(a), -q[:, 1] * np.sin(a) + q[:, 2] * np.cos(a)], 1)
    s = 1.0 + 14.0 * _smooth((np.abs(p[:, 0]) - 22) / 30)
    d += (rot - q) * (1 / (1 + np.exp(-(p[:, 1] - _MOUTH_Y) / s)) * _front(p, -75.0, 30.0))[:, None]
    sm, pk, br = expr["smile"], expr["pucker"], expr["brows"]
    for corner, sign in ((48, -1.0), (54, 1.0)):
        d += np.outer(_blob(p, M[corner], 9) * front, [sign * 4.5 * sm, -4.0 * sm, -3.0 * sm])
        d += np.outer(_blob(p, M[corner] + [sign * 12, -22, -5], 14) * front, [sign * 1.0 * sm, -2.5 * sm, 1.5 * sm])
        d += np.outer(_blob(p, M[corner], 8) * front, [-sign * 6.0 * pk, 0.0, 3.0 * pk])
    for lo in (36, 42):
        d[:, 1] -= 1.2 * sm * _blob(p, M[lo + 4:lo + 6].mean(axis=0) + [0, 2, 0], 5) * front
    d[:, 2] += 4.0 * pk * _blob(p, M[48:60].mean(axis=0), 10) * front
    for lo, hi in ((17, 22), (22, 27)):
        bc = M[lo:hi].mean(axis=0)
        w = _smooth((-43.5 - p[:, 1]) / 11) * np.exp(-(p[:, 0] - bc[0]) ** 2 / (2 * 24.0**2)) * front
        w *= np.exp(-np.maximum(0, -p[:, 1] - 75) ** 2 / 1500)
        d[:, 1] -= 7.0 * br * w
        if br < 0:
            d[:, 0] -= np.sign(bc[0]) * 3.0 * br * w * _blob(p, M[21 if lo == 17 else 22], 14)
    return d + _eye_close_reference(p, 36, expr["eye_close_r"]) + _eye_close_reference(p, 42, expr["eye_close_l"])


def _points(seed: int, n: int = 400) -> np.ndarray:
    """Random points around the face (and some behind it, where every field is zero)."""
    return M[np.random.default_rng(seed).integers(0, 68, n)] + np.random.default_rng(seed + 1).normal(0, 25, (n, 3))


@pytest.mark.parametrize("seed", range(4))
def test_identity_field_matches_the_numpy_formula(seed: int) -> None:
    ident = sample_identity(np.random.default_rng(seed))
    p = _points(seed)
    assert np.abs(_identity_field(p, ident) - _identity_reference(p, ident)).max() < 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_expression_field_matches_the_numpy_formula_in_every_branch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    expr = {**sample_expression(rng), "jaw_open": rng.uniform(-0.15, 1), "smile": rng.uniform(0, 1) * (seed % 2),
            "pucker": rng.uniform(0, 1) * (seed // 2), "brows": (-0.5, 0.8)[seed % 2],
            "eye_close_r": rng.uniform(0.1, 1), "eye_close_l": rng.uniform(0.1, 1) * (seed % 2)}
    p = np.vstack([_points(seed), M + np.random.default_rng(seed).normal(0, 2, M.shape)])
    assert np.abs(_expression_field(p, expr) - _expression_reference(p, expr)).max() < 1e-9


def test_neutral_expression_and_plain_identity_only_scale() -> None:
    ident = {k: 0.0 for k in sample_identity(np.random.default_rng(0))} | {"blobs": []}
    ident |= {"scale_x": 1.1, "scale_y": 0.9, "scale_z": 1.0}
    expr = {k: 0.0 for k in sample_expression(np.random.default_rng(0))}
    p = _points(5)
    np.testing.assert_allclose(deform(p, ident, expr), p * [1.1, 0.9, 1.0], rtol=1e-12, atol=1e-12)  # numba vs numpy


def test_blob_field_adds_each_rows_affine_piece() -> None:
    rng = np.random.default_rng(3)
    p = rng.normal(0, 20, (50, 3))
    rows = np.stack([hk.blob_row(rng.normal(0, 10, 3), rng.uniform(5, 20), rng.normal(0, 10, 3)) for _ in range(3)])
    rows[:, 7:19] = rng.normal(0, 1, (3, 12))
    out = np.ones_like(p)
    hk.blob_field(p, rows, -10.0, 15.0, out)
    want = np.ones_like(p)
    for r in rows:
        w = np.exp(-((p - r[:3]) ** 2).sum(1) * r[3]) * _front(p, -10.0, 15.0)
        want += w[:, None] * (r[16:19] + (p - r[4:7]) @ r[7:16].reshape(3, 3).T)
    assert np.abs(out - want).max() < 1e-12
    assert hk.coefficient_column(2, 1) == 7 + 7 and hk.coefficient_column(1, 3) == 17


def _normals_reference(points: np.ndarray, rows: int, cols: int) -> np.ndarray:
    g = points.reshape(rows, cols, 3)
    n = np.cross(np.gradient(g, axis=1), np.gradient(g, axis=0))
    n /= np.linalg.norm(n, axis=-1, keepdims=True) + 1e-9
    seam = (n[:, 0] + n[:, -1]) / 2
    n[:, 0] = n[:, -1] = seam / (np.linalg.norm(seam, axis=-1, keepdims=True) + 1e-9)
    return n.reshape(-1, 3)


def test_grid_normals_match_gradient_cross_product() -> None:
    rng = np.random.default_rng(0)
    pts = rng.normal(0, 1, (6 * 7 + 2, 3))  # extra trailing points are ignored
    assert np.abs(grid_normals(pts, 6, 7) - _normals_reference(pts[:42], 6, 7)).max() < 1e-12
    grid = head_grid()
    n = grid_normals(grid.points, *grid.shape)
    assert np.abs(n - _normals_reference(grid.points[: grid.shape[0] * grid.shape[1]], *grid.shape)).max() < 1e-12


def test_interp_matches_numpy() -> None:
    xp, fp = np.array([-3.0, -1.0, 0.5, 2.0]), np.array([1.0, -2.0, 0.0, 4.0])
    for x in np.concatenate([np.linspace(-5, 5, 41), xp]):
        assert hk._interp(x, xp, fp) == pytest.approx(np.interp(x, xp, fp), abs=1e-12)


def _hair_reference(uv: np.ndarray, hair: dict, noise: np.ndarray) -> np.ndarray:
    phi, theta = uv[:, 0], uv[:, 1]
    aphi = np.abs(phi)
    line = np.interp(aphi, [0, 35, 60, 80, 100, 130, 180],
                     [hair["front"], hair["front"] + 3, hair["front"] + 8, hair["side"] + 4, hair["side"], 28, 40])
    if hair["bangs"]:
        line = np.maximum(line, hair["front"] + hair["bangs"] * 18.0 * np.exp(-(phi / 40.0) ** 2))
    if hair["style"] in ("medium", "long"):
        line = np.where(aphi > 75, np.maximum(line, 20 + 20 * np.clip((aphi - 75) / 40, 0, 1)), line)
    depth = line - theta
    vol = hair["volume"] * (0.45 + 0.55 * np.clip((-theta - 10) / 60, 0, 1))
    t = np.minimum(depth * 0.55, vol) + noise * hair["clump"]
    return np.where(depth > 0, np.maximum(t, 0.6), -1.0)


@pytest.mark.parametrize("style", ["short", "medium", "long"])
def test_hair_thickness_matches_the_numpy_formula(style: str) -> None:
    grid = head_grid()
    for seed in range(3):
        rng = np.random.default_rng(seed)
        hair = {**head_parts.sample_hair(rng), "style": style, "bangs": float(seed % 2)}
        noise = rng.normal(0, 0.5, len(grid.uv))
        assert np.abs(head_parts.hair_thickness(grid.uv, hair, noise) - _hair_reference(grid.uv, hair, noise)).max() < 1e-9
    assert (head_parts.hair_thickness(grid.uv, {**hair, "style": "bald"}, noise) == -1.0).all()


def test_cached_part_templates_are_read_only_and_draws_differ_per_call() -> None:
    rng = np.random.default_rng(0)
    (v1, t1, uv1, ao1), (v2, t2, *_) = head_parts.ear(1.0, rng), head_parts.ear(-1.0, rng)
    assert v1.flags.writeable and not np.allclose(np.abs(v1[:, 0]), np.abs(v2[:, 0]))
    assert np.array_equal(t2, t1[:, ::-1])
    n1, n2 = head_parts.neck(rng), head_parts.neck(rng)
    assert not np.array_equal(n1[0], n2[0]) and n1[1] is n2[1]
    for shared in (t1, uv1, ao1, *n1[1:], head_parts.torso(rng)[1]):
        with pytest.raises(ValueError):
            shared.flat[0] = 0
