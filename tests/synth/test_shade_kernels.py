"""The fused shading passes against numpy statements of the same shading (the renderer's version 2 code)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import map_coordinates

from zoo.synth.kernels import power_table
from zoo.synth.shade import MAT_CLOTH, MAT_EAR, MAT_FRAME, MAT_HAIR, MAT_LENS, MAT_NECK, MAT_SKIN, light, sample_lighting
from zoo.synth.shade_kernels import NOT_SKIN, eye_pass, hair_cover, material_pass, skin_pass
from zoo.synth.texture import LABEL_LIPS


def _unit(a: np.ndarray) -> np.ndarray:
    return a / (np.linalg.norm(a, axis=-1, keepdims=True) + 1e-9)


def _fragments(rng: np.random.Generator, materials: list[int], per: int = 60):  # noqa: ANN202
    mat = np.repeat(np.array(materials, np.uint8), per)
    m = len(mat)
    attrs = np.zeros((m, 7), np.float32)
    attrs[:, :3] = _unit(rng.normal(size=(m, 3)) - [0, 0, 1])
    attrs[:, 3] = rng.uniform(0.5, 1, m)  # ambient occlusion
    attrs[:, 4] = rng.uniform(-200, 200, m)  # u (degrees; beyond the texture chart too)
    attrs[:, 5] = rng.uniform(-95, 95, m)  # v
    attrs[:, 6] = rng.uniform(-3, 3, m)  # hair thickness
    n = attrs[:, :3].copy()
    v = _unit(rng.normal(size=(m, 3)) * 0.2 + [0, 0, 1]).astype(np.float32)
    vis = rng.uniform(0, 1, m).astype(np.float32)
    pores = rng.normal(0, 1, m).astype(np.float32)
    return mat, attrs, n, v, vis, pores


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray, mode: str) -> np.ndarray:
    chans = img[..., None] if img.ndim == 2 else img
    out = np.stack([map_coordinates(chans[..., c].astype(np.float64), [y, x], order=1, mode=mode)
                    for c in range(chans.shape[2])], 1)
    return out[:, 0] if img.ndim == 2 else out


def test_skin_pass_lights_textured_skin_and_labels_it() -> None:
    rng = np.random.default_rng(1)
    lt = sample_lighting(rng)
    mat, attrs, n, v, vis, pores = _fragments(rng, [MAT_SKIN, MAT_EAR, MAT_NECK, MAT_HAIR, MAT_CLOTH])
    tex = rng.uniform(0, 1, (20, 30, 3)).astype(np.float32)
    label = rng.integers(0, 5, (20, 30)).astype(np.uint8)
    origin, ppd = np.array([-80.0, -62.0]), 0.1
    skin = np.array([0.8, 0.6, 0.5], np.float32)
    col, lab = skin_pass(mat, attrs, n, v, vis, pores, tex, label, origin, ppd, skin, lt.key_dir, lt.key, lt.fill_dir, lt.fill,
                         lt.sky, lt.ground, float(lt.wrap), float(lt.spec), power_table(lt.shininess))
    cover = np.array([hair_cover(t, p) for t, p in zip(attrs[:, 6], pores, strict=True)])
    fringe = (mat == MAT_HAIR) & (cover < 1)
    skin_like = np.isin(mat, [MAT_SKIN, MAT_EAR, MAT_NECK]) | fringe
    head = (mat == MAT_SKIN) | fringe
    assert fringe.any() and ((mat == MAT_HAIR) & ~fringe).any()  # both kinds of hair fragment are exercised
    x, y = (attrs[:, 4] - origin[0]) * ppd, (attrs[:, 5] - origin[1]) * ppd
    albedo = np.where(head[:, None], _bilinear(tex, x, y, "nearest"), skin)
    near = np.clip(np.floor(y + 0.5), 0, 19).astype(int), np.clip(np.floor(x + 0.5), 0, 29).astype(int)
    want_lab = np.where(head, label[near], 0)
    assert np.array_equal(lab, np.where(skin_like, want_lab, NOT_SKIN))
    albedo = albedo * (1 + 0.03 * pores)[:, None]
    spec = np.where(want_lab == LABEL_LIPS, 0.35, 1.0) * lt.spec
    diff, amb, _ = light(n, v, lt, lt.wrap, 1.0, lt.shininess, vis)
    _, _, sp = light(n, v, lt, lt.wrap, 1.0, lt.shininess, vis)
    ao = attrs[:, 3:4]
    scatter = np.array([0.5, 0.1, 0.05]) * lt.key
    want = albedo * (diff * (0.55 + 0.45 * ao) + amb * ao + np.clip(0.15 - np.abs(n @ lt.key_dir), 0, None)[:, None] * scatter)
    want += sp * spec[:, None]
    np.testing.assert_allclose(col[skin_like], want[skin_like], atol=1e-4)
    assert not col[~skin_like].any()


def test_material_pass_blends_hair_over_skin_and_shades_clothes_and_glasses() -> None:
    rng = np.random.default_rng(2)
    lt = sample_lighting(rng)
    mat, attrs, n, v, vis, pores = _fragments(rng, [MAT_SKIN, MAT_HAIR, MAT_CLOTH, MAT_FRAME, MAT_LENS])
    under = rng.uniform(0, 1, (len(mat), 3)).astype(np.float32)  # what the skin pass left
    hair = np.array([0.3, 0.2, 0.1], np.float32)
    streak = rng.uniform(0.5, 1.5, (16, 40)).astype(np.float32)
    tile = rng.uniform(0, 1, (8, 8, 3)).astype(np.float32)
    frame = np.array([0.2, 0.1, 0.05], np.float32)
    col = under.copy()
    material_pass(col, mat, attrs, n, v, vis, pores, hair, streak, tile, frame, lt.key_dir, lt.key, lt.fill_dir, lt.fill,
                  lt.sky, lt.ground)
    ao, u, w = attrs[:, 3:4], attrs[:, 4].astype(np.float64), attrs[:, 5].astype(np.float64)
    want = under.astype(np.float64).copy()
    h = mat == MAT_HAIR
    s = _bilinear(streak, (u[h] + 180) / 360 * 40 * 3 % 40, (w[h] + 90) / 180 * 16, "reflect")
    diff, amb, sp = light(n[h], v[h], lt, 0.15, 0.3, 8.0, vis[h])
    hair_col = hair * s[:, None] * (diff * 0.9 + amb) * ao[h] + sp * (0.5 + hair.mean()) * s[:, None]
    a = np.array([hair_cover(t, p) for t, p in zip(attrs[h, 6], pores[h], strict=True)])[:, None]
    want[h] = hair_col * a + want[h] * (1 - a)
    c = mat == MAT_CLOTH
    diff, amb, sp = light(n[c], v[c], lt, 0.3, 0.05, 8.0, vis[c])
    want[c] = tile[(w[c] * 0.5 % 8).astype(int), (u[c] / (2 * np.pi) * 512 % 8).astype(int)] * (diff + amb) * ao[c] + sp
    g = (mat == MAT_FRAME) | (mat == MAT_LENS)
    diff, amb, sp = light(n[g], v[g], lt, 0.0, 0.8, 40.0)
    want[g] = np.where((mat[g] == MAT_LENS)[:, None], [0.03, 0.03, 0.035], frame) * (diff + amb) + sp
    np.testing.assert_allclose(col, np.clip(want, 0, 1.2), atol=1e-4)


def _eyes_reference(xs, ys, k, centre, gaze, radius, frac, iris, lt, looks):  # noqa: ANN001, ANN202
    """Eye shading as numpy statements (the renderer's version 2 ``shade_eyes``)."""
    v = _unit(np.stack([(xs - k[0, 2]) / k[0, 0], (ys - k[1, 2]) / k[1, 1], np.ones(len(xs))], 1))
    b = v @ centre
    t = b - np.sqrt(np.clip(b * b - (centre @ centre - radius * radius), 0, None))
    q = _unit(v * t[:, None] - centre)
    ang = np.degrees(np.arccos(np.clip(q @ gaze, -1, 1)))
    ref = _unit(np.cross(gaze, [0.0, 1.0, 0.0]))
    az = np.arctan2(q @ np.cross(gaze, ref), q @ ref)
    fib = 1 + 0.25 * np.sin(az * 23 + looks[1]) * np.sin(az * 7 + looks[2])
    sclera = np.array([0.92, 0.89, 0.86]) * (1 - 0.2 * np.clip((ang - 35) / 40, 0, 1))[:, None]
    ring = np.clip((ang - 25) / 5, 0, 1)[:, None]
    iris_col = iris * fib[:, None] * (1 - 0.55 * ring) * (1.25 - 0.5 * np.clip(ang / 30, 0, 1))[:, None]
    col = np.where((ang < 30)[:, None], iris_col, sclera)
    col = np.where((ang < looks[0])[:, None], [0.02, 0.02, 0.025], col)
    lid = 0.55 + 0.45 * np.clip(frac / 0.35, 0, 1) ** 0.7
    diff, amb, _ = light(q, v, lt, 0.3, 0.0, 1.0)
    sp = np.clip(np.sum(q * _unit(lt.key_dir - v), 1), 0, 1) ** 300 * 1.5
    catch = np.clip(np.sum(q * _unit(np.array([-0.2, -0.4, -1.0]) - v), 1), 0, 1) ** 400 * 0.8
    return col * (0.6 * diff + amb + 0.25) * lid[:, None] + ((sp + catch) * (lid > 0.5))[:, None]


def test_eye_pass_matches_the_ray_cast_eyeball() -> None:
    rng = np.random.default_rng(3)
    lt = sample_lighting(rng)
    k = np.array([[300.0, 0, 128], [0, 300.0, 128], [0, 0, 1]])
    centre, radius = np.array([-5.0, 2.0, 400.0]), 11.5
    gaze = _unit(np.array([0.1, -0.05, -1.0]))
    # pixels around the eyeball's image (some beyond its rim: those clamp to the silhouette)
    cx, cy = k[0, 0] * centre[0] / centre[2] + k[0, 2], k[1, 1] * centre[1] / centre[2] + k[1, 2]
    xs, ys = np.meshgrid(np.arange(int(cx) - 9, int(cx) + 10), np.arange(int(cy) - 6, int(cy) + 7))
    xs, ys = xs.ravel(), ys.ravel()
    frac = rng.uniform(0, 1, len(xs))
    iris, looks = np.array([0.3, 0.4, 0.6]), np.array([10.0, 1.0, 2.0])
    idx = rng.permutation(len(xs) + 5)[: len(xs)]  # fragments of the eye among others, in any order
    col = np.full((len(xs) + 5, 3), 7.0, np.float32)
    cam = np.array([k[0, 0], k[1, 1], k[0, 2], k[1, 2]])
    eye_pass(col, idx, xs, ys, frac, cam, centre, gaze, radius, iris, looks, lt.key_dir, lt.key, lt.fill_dir, lt.fill,
             lt.sky, lt.ground)
    want = _eyes_reference(xs.astype(float), ys.astype(float), k, centre, gaze, radius, frac, iris, lt, looks)
    np.testing.assert_allclose(col[idx], want, atol=1e-4)
    untouched = np.setdiff1d(np.arange(len(col)), idx)
    assert (col[untouched] == 7.0).all()
    dark = want.sum(1) < 0.2  # the pupil is in the picture
    assert dark.any() and not dark.all()
