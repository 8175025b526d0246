"""The renderer's compiled kernels against plain numpy statements of what they compute."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.synth.kernels import (
    blend_into,
    fill_triangle_ids,
    interpolate,
    paste_and_soften,
    power_table,
    surface_rays,
    table_pow,
    vertex_normals,
)
from zoo.synth.raster import MeshPart, rasterize
from zoo.synth.shade import Lighting, light, sample_lighting
from zoo.synth.shadow import key_visibility


def _square() -> tuple[np.ndarray, np.ndarray]:
    """Two triangles sharing a diagonal, covering x, y in [2.3, 9.7] (pixel centres 3..9)."""
    uv = np.array([[2.3, 2.3], [9.7, 2.3], [9.7, 9.7], [2.3, 9.7]])
    return uv, np.array([[0, 1, 2], [0, 2, 3]], np.int64)


def test_fill_covers_pixel_centres_without_cracks_and_later_triangles_win() -> None:
    uv, tris = _square()
    ids = np.full((12, 12), -1, np.int32)
    fill_triangle_ids(ids, uv, tris, np.array([0, 1]))
    inside = np.zeros((12, 12), bool)
    inside[3:10, 3:10] = True
    assert np.array_equal(ids >= 0, inside)  # every centre in the square, none outside, none lost on the diagonal
    assert ids[3, 9] == 0 and ids[9, 3] == 1
    assert ids[5, 5] == 1  # on the shared diagonal: the later triangle
    fill_triangle_ids(ids, uv, tris, np.array([1, 0]))
    assert ids[5, 5] == 0
    # winding does not matter (two-sided parts); a degenerate triangle draws nothing
    flipped = np.full((12, 12), -1, np.int32)
    fill_triangle_ids(flipped, uv, np.ascontiguousarray(tris[:, ::-1]), np.array([0, 1]))
    assert np.array_equal(flipped >= 0, inside)
    flat = np.full((12, 12), -1, np.int32)
    fill_triangle_ids(flat, np.array([[1.0, 1.0], [5.0, 5.0], [9.0, 9.0]]), np.array([[0, 1, 2]], np.int64), np.array([0]))
    assert (flat < 0).all()


def test_interpolate_reproduces_linear_attributes_at_pixel_centres() -> None:
    uv, tris = _square()
    ids = np.full((12, 12), -1, np.int32)
    fill_triangle_ids(ids, uv, tris, np.array([0, 1]))
    attrs = np.column_stack([uv[:, 0], 2 * uv[:, 1] + 1, np.ones(4)]).astype(np.float32)  # x, 2y + 1, 1
    z = np.array([10.0, 20.0, 30.0, 20.0])  # z = 10 + 20 (x - 2.3) / 7.4 ... linear on both triangles
    ys, xs, tid, out, depth = interpolate(ids, uv, tris, attrs, z)
    assert len(ys) == 49 and (np.diff(ys * 12 + xs) > 0).all()  # row-major, as np.nonzero
    assert np.array_equal(tid, ids[ys, xs])
    np.testing.assert_allclose(out[:, 0], xs, atol=1e-4)
    np.testing.assert_allclose(out[:, 1], 2 * ys + 1, atol=1e-4)
    np.testing.assert_allclose(out[:, 2], 1.0, atol=1e-6)
    np.testing.assert_allclose(depth, 10 + 10 * ((xs - 2.3) + (ys - 2.3)) / 7.4, atol=1e-3)


def test_rasterize_orders_layers_before_depth() -> None:
    """A far part on a higher layer covers a near part on a lower one (torso < neck < head)."""
    k = np.array([[100.0, 0, 8], [0, 100.0, 8], [0, 0, 1]])
    quad = np.array([[-5.0, -5.0, 0], [5.0, -5.0, 0], [5.0, 5.0, 0], [-5.0, 5.0, 0]])
    tris = np.array([[0, 2, 1], [0, 3, 2]])  # facing the camera in the renderer's convention
    near = MeshPart(quad + [0, 0, 100], tris, np.zeros((4, 7), np.float32), 1, layer=0)
    far = MeshPart(quad * [2, 2, 1] + [0, 0, 200], tris, np.ones((4, 7), np.float32), 2, layer=1)  # same outline
    frags = rasterize([near, far], k, (16, 16))
    assert (frags.material == 2).all() and len(frags.ys) > 0
    frags = rasterize([far, MeshPart(near.verts, tris, near.attrs, 1, layer=1)], k, (16, 16))
    centre = frags.material[(frags.ys == 8) & (frags.xs == 8)]
    assert centre.tolist() == [1]  # same layer: the nearer part wins where both cover
    assert np.array_equal(frags.flat, frags.ys * 16 + frags.xs)


def _unit(a: np.ndarray) -> np.ndarray:
    return a / (np.linalg.norm(a, axis=-1, keepdims=True) + 1e-9)


def _light_reference(n, v, lt: Lighting, wrap, spec, shin, shadow):  # noqa: ANN001, ANN202
    """The lighting model as numpy statements (the renderer's version 1 implementation)."""
    nk = n @ lt.key_dir
    key = np.clip((nk + wrap) / (1 + wrap), 0, None)
    if shadow is not None:
        shadow = 1 - (1 - shadow) * np.clip(nk / 0.3, 0, 1)
        key = key * shadow
    diff = key[:, None] * lt.key + np.clip(n @ lt.fill_dir, 0, None)[:, None] * lt.fill
    up = np.clip(-n[:, 1] * 0.5 + 0.5, 0, 1)[:, None]
    amb = lt.sky * up + lt.ground * (1 - up)
    h = _unit(lt.key_dir - v)
    sp = (np.clip(np.sum(n * h, 1), 0, 1) ** shin * spec)[:, None] * lt.key
    facing = np.clip(nk / 0.25, 0, 1)
    sp *= (facing if shadow is None else facing * shadow)[:, None]
    return diff, amb, sp


@pytest.mark.parametrize("shadowed", [False, True])
def test_light_matches_the_numpy_model(shadowed: bool) -> None:
    rng = np.random.default_rng(3)
    lt = sample_lighting(rng)
    n = _unit(rng.normal(size=(500, 3))).astype(np.float32)
    v = _unit(rng.normal(size=(500, 3)) * [0.2, 0.2, 1] + [0, 0, 2]).astype(np.float32)
    shadow = rng.uniform(0, 1, 500).astype(np.float32) if shadowed else None
    got = light(n, v, lt, 0.3, 0.7, 20.0, shadow)
    for g, want in zip(got, _light_reference(n, v, lt, 0.3, 0.7, 20.0, shadow), strict=True):
        np.testing.assert_allclose(g, want, atol=2e-4)  # the specular power comes from a table (table_pow)


def test_table_pow_is_within_2e_4_of_pow() -> None:
    x = np.random.default_rng(9).uniform(0, 1, 5000)
    x[:3] = [0.0, 1.0, 0.999999]
    for shin in (1.0, 8.0, 12.0, 40.0):
        table = power_table(shin)
        got = np.array([table_pow(table, float(xi)) for xi in x])
        np.testing.assert_allclose(got, x**shin, atol=2e-4)
    assert table_pow(power_table(40.0), 1.0) == 1.0 and table_pow(power_table(40.0), 0.0) == 0.0


def test_surface_rays_normalise_and_turn_normals_toward_the_camera() -> None:
    k = np.array([[200.0, 0, 64], [0, 180.0, 50], [0, 0, 1]])
    xs, ys = np.array([0, 64, 127]), np.array([10, 50, 100])
    attrs = np.zeros((3, 7), np.float32)
    attrs[:, :3] = [[0, 0, -2.0], [0, 0, 3.0], [1.0, 1.0, -1.0]]  # toward the camera, away from it, oblique
    n, v, _ = surface_rays(attrs, xs, ys, np.ones(3, np.float32), 200.0, 180.0, 64.0, 50.0)
    want_v = _unit(np.column_stack([(xs - k[0, 2]) / k[0, 0], (ys - k[1, 2]) / k[1, 1], np.ones(3)]))
    np.testing.assert_allclose(v, want_v, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-6)
    assert (np.sum(n * v, 1) <= 0).all()  # every normal faces the viewer
    np.testing.assert_allclose(n[1], [0, 0, -1], atol=1e-6)  # the back face was flipped


def test_key_visibility_shadows_points_behind_an_occluder_only() -> None:
    """A plate of occluder points between the light and a surface: points under it are dark, points
    beside it lit. The plate is off-centre along one axis only, so a transposed shadow map fails."""
    key_dir = np.array([0.0, 0.0, -1.0])  # light from the camera side (toward -z)
    gx, gy = np.meshgrid(np.arange(20.0, 80.0, 1.0), np.arange(-6.0, 6.0, 1.0))
    plate = np.column_stack([gx.ravel(), gy.ravel(), np.full(gx.size, 100.0)])  # x 20..80, y -6..6, nearer the light
    points = np.array([[25.0, 0.0, 150.0], [75.0, 0.0, 150.0], [-40.0, 0.0, 150.0], [50.0, 30.0, 150.0], [50.0, 0.0, 90.0]])
    normals = np.tile([0.0, 0.0, -1.0], (len(points), 1))
    vis = key_visibility(plate, points, normals, key_dir)
    assert vis[0] == 0.0 and vis[1] == 0.0  # behind the plate, at both ends of its long axis
    assert vis[2] == 1.0 and vis[3] == 1.0  # beside it (either axis)
    assert vis[4] == 1.0  # in front of it


def test_paste_and_soften_blurs_the_silhouette_only() -> None:
    """Against the version 2 statements: paste, then a 3x3 Gaussian blur wherever dilate != erode of the mask."""
    import cv2

    rng = np.random.default_rng(6)
    ids = np.full((40, 50), -1, np.int32)
    ids[5:30, 0:20] = 1  # touches the image border
    ids[12:18, 30:45] = 2
    ys, xs = np.nonzero(ids >= 0)
    flat = ys * 50 + xs
    colour = rng.uniform(0, 1, (len(flat), 3)).astype(np.float32)
    bg = rng.uniform(0, 1, (40, 50, 3)).astype(np.float32)
    k1d = cv2.getGaussianKernel(3, 0.8).ravel()
    got = paste_and_soften(bg.copy(), flat, colour, ids, k1d)
    want = bg.copy()
    want.reshape(-1, 3)[flat] = colour
    fg = (ids >= 0).astype(np.uint8)
    edge = (cv2.dilate(fg, np.ones((3, 3), np.uint8)) - cv2.erode(fg, np.ones((3, 3), np.uint8))).astype(bool)
    assert edge.sum() > 100
    want[edge] = cv2.GaussianBlur(want, (3, 3), 0.8)[edge]
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_vertex_normals_are_area_weighted_face_normals() -> None:
    rng = np.random.default_rng(7)
    verts = rng.normal(0, 10, (30, 3))
    tris = rng.integers(0, 30, (50, 3))
    a, b, c = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
    fn = np.cross(c - a, b - a)
    want = np.zeros_like(verts)
    for j in range(3):
        np.add.at(want, tris[:, j], fn)
    want /= np.linalg.norm(want, axis=1, keepdims=True) + 1e-9
    np.testing.assert_allclose(vertex_normals(verts, tris), want, atol=1e-12)
    # a flat square in the z = 0 plane, wound so that cross(c - a, b - a) points to +z
    sq = np.array([[0.0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(vertex_normals(sq, np.array([[0, 1, 2], [0, 2, 3]])), np.tile([0, 0, 1.0], (4, 1)), atol=1e-12)


def test_blend_into_mixes_a_window_toward_the_colour_by_the_mask() -> None:
    rng = np.random.default_rng(8)
    tex = rng.uniform(0, 1, (20, 30, 3)).astype(np.float32)
    mask = rng.uniform(0, 1, (6, 9)).astype(np.float32)
    mask[0] = 0.0
    colour = np.array([0.2, 0.5, 0.9], np.float32)
    want = tex.copy()
    want[4:10, 7:16] += mask[..., None] * (colour - want[4:10, 7:16])
    blend_into(tex[4:10, 7:16], mask, colour)  # a strided window of the texture, written in place
    np.testing.assert_allclose(tex, want, atol=1e-6)
