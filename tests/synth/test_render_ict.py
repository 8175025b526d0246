"""The ICT head in the renderer (``RenderOptions(head="ict")``): labels where the drawn head's features are,
determinism, options recorded, and the compiled kernels equal to the numpy code they replace."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from zoo.pose import camera_matrix, rotation_matrix
from zoo.synth import head_parts as parts
from zoo.synth.head_scene import FLIP, View
from zoo.synth.ict_head import load_head, sample_camera, sample_expression, sample_identity
from zoo.synth.ict_kernels import facing, outer_crossings
from zoo.synth.ict_landmarks import AnnotatorLandmarks, _facing, _outer_crossing
from zoo.synth.ict_mesh import ict_mesh
from zoo.synth.options import RenderOptions
from zoo.synth.render import render_face, sample_params
from zoo.synth.render_ict import head_vertices, label_camera, labeller

ICT = RenderOptions(head="ict")
FRONTAL = {"yaw": 0.0, "pitch": 0.0, "roll": 0.0, "offset": (0.0, 0.0), "face_frac": 0.5, "occluded": False,
           "glasses": None, "identity": np.zeros(60), "expression": np.zeros(53)}


def _view(size: int = 256, focal: float = 4.0, face_frac: float = 0.5) -> View:
    """The renderer's camera for a frontal face at the image centre (as ``render_params`` builds it)."""
    k = camera_matrix((size, size))
    k[0, 0] = k[1, 1] = size * focal
    tz = k[0, 0] * 150.0 / (size * face_frac)
    t = np.array([0.0, 10.0, tz])
    rh = rotation_matrix(0.0, 0.0, 0.0)
    return View(k, t, rh, rh, rh @ (parts.NECK_PIVOT * FLIP) + t, (0.0, 0.0, 0.0))


def _pixels(view: View, head_pts: np.ndarray) -> np.ndarray:
    cam = view.to_cam(head_pts)
    return np.stack([view.k[0, 0] * cam[:, 0] / cam[:, 2] + view.k[0, 2], view.k[1, 1] * cam[:, 1] / cam[:, 2] + view.k[1, 2]], 1)


@pytest.mark.parametrize("labels", ["annotators", "raw"])
def test_frontal_neutral_labels_sit_on_the_drawn_nose_tip_and_eye_corners(labels: str) -> None:
    """Point 30 on the projection of the nose's most forward vertex, 36/45 on the eye openings' outer corners,
    in the renderer's own camera (the labels' camera must see the head exactly as the rasteriser does)."""
    m = ict_mesh()
    view = _view()
    cm = head_vertices(np.zeros(60), np.zeros(53))
    q = m.to_head(cm)
    pix = _pixels(view, q)
    pts = labeller(labels)(cm, label_camera(view, m.offset, 256))
    face = np.arange(9409)
    tip = face[np.argmax(q[face, 2])]  # head frame: z toward the camera
    assert np.linalg.norm(pts[30] - pix[tip]) < (0.5 if labels == "annotators" else 4.0)  # raw: ICT's vertex is 3 mm up
    loop = [lp for lp in _loops_near_eyes(m)]
    for k, eye, side in ((36, loop[0], -1.0), (45, loop[1], 1.0)):
        corner = eye[np.argmax(side * pix[eye, 0])]  # the opening's outermost vertex in the image
        assert np.linalg.norm(pts[k] - pix[corner]) < 2.0, (k, pts[k], pix[corner])
    if labels == "raw":  # and every raw label is its vertex's projection through the renderer's camera
        assert np.abs(pts - pix[m.head.landmarks68]).max() < 1e-6


def _loops_near_eyes(m) -> list[np.ndarray]:  # noqa: ANN001
    from zoo.synth.ict_mesh import _loops

    polys = m.head.polygons[np.all(m.head.polygons < m.n_surface, axis=1)]
    n = m.head.neutral
    eyes = [lp for lp in _loops(polys) if len(lp) < 60 and abs(n[lp, 0].mean()) > 1.0]
    return sorted(eyes, key=lambda lp: n[lp, 0].mean())  # subject's right eye (x < 0) first


def test_frontal_render_puts_labels_inside_the_image_and_pupils_on_dark_irises() -> None:
    img, pts, meta = render_face(np.random.default_rng(4), 256, ICT, **FRONTAL)
    assert img.shape == (256, 256, 3) and pts.shape == (70, 2)
    assert np.all(pts > 0) and np.all(pts < 255)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)

    def lum(p: np.ndarray) -> float:
        x, y = int(round(p[0])), int(round(p[1]))
        return float(grey[y - 1:y + 2, x - 1:x + 2].mean())

    for pupil, (outer, inner) in ((68, (36, 39)), (69, (45, 42))):
        sclera = [lum(0.5 * (pts[pupil] + pts[c])) for c in (outer, inner)]
        assert lum(pts[pupil]) < max(sclera)
    # the eyes are open and symmetric about the face's midline in a frontal view
    assert abs((pts[36, 0] + pts[45, 0]) / 2 - pts[30, 0]) < 1.5 and pts[41, 1] > pts[37, 1]
    assert meta["options"] == ICT.to_dict() and len(meta["identity"]) == 60 and meta["expression"] == {}


@pytest.mark.parametrize("labels", ["annotators", "raw"])
def test_ict_renders_are_deterministic_per_seed_and_record_their_options(labels: str) -> None:
    opts = RenderOptions(head="ict", labels=labels)
    a = render_face(np.random.default_rng([8, 1]), 128, opts)
    b = render_face(np.random.default_rng([8, 1]), 128, opts)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and json.dumps(a[2]) == json.dumps(b[2])
    assert a[2]["options"] == opts.to_dict()
    c = render_face(np.random.default_rng([8, 2]), 128, opts)
    assert not np.array_equal(a[0], c[0])


def test_ict_params_are_identities_and_expressions_of_the_model() -> None:
    p = sample_params(np.random.default_rng(3), ICT)
    assert p.identity.shape == (60,) and p.expression.shape == (53,) and p.options == ICT
    assert p.expression.min() >= 0.0 and p.expression.max() <= 1.0
    ids = np.stack([sample_params(np.random.default_rng([3, i]), ICT).identity for i in range(200)])
    assert abs(ids.mean()) < 0.05 and abs(ids.std() - 1.0) < 0.05  # ~ N(0, 1)


def test_compiled_vertex_sum_and_label_kernels_equal_the_numpy_code() -> None:
    head = load_head()
    rng = np.random.default_rng(0)
    ident, expr = sample_identity(rng), sample_expression(rng, head.ex_names)
    ref = (head.neutral.reshape(-1).astype(np.float64) + ident @ head.id_modes.reshape(60, -1)
           + expr @ head.ex_modes.reshape(53, -1)).reshape(-1, 3)
    assert np.abs(head_vertices(ident, expr) - ref).max() < 1e-4  # cm: the compiled float32 sum vs float64 numpy
    label = AnnotatorLandmarks(head)
    cam = sample_camera(rng, yaw_range=(30, 50))
    from zoo.synth.ict_head import camera_points, to_pixels

    c = camera_points(head.vertices(ident, expr), cam)
    assert np.array_equal(facing(c, label.polys, label.is_tri), _facing(c, label.polys, label.is_tri))
    pix = to_pixels(c, cam)
    a, b = pix[label.edges[:, 0]], pix[label.edges[:, 1]]
    origin = pix[label.origin_ids].mean(0)
    rays = pix[head.landmarks68[:17]]
    t = outer_crossings(origin, rays, a, b, 0.6, 1.6)
    for j in range(17):
        ref = _outer_crossing(origin, rays[j], a, b)
        assert (ref is None and np.isnan(t[j])) or np.allclose(origin + t[j] * (rays[j] - origin), ref)
