"""The ICT head in a rendered scene (``RenderOptions.head == "ict"``): one face's mesh parts and labels.

Per face: the morphable model's vertex sum (compiled, ``ict_kernels.mode_sum``), the head frame, normals,
the neck blended toward the body, the eyeballs and the mouth cavity as their own parts, the hair grid
anchored on this head, and the labels: ``labels="annotators"`` is ``ict_landmarks.AnnotatorLandmarks``
(jaw marching on the far side, brows 5 mm down, nose tip as seen), ``"raw"`` ICT's own vertices; the
pupils (68, 69) are the iris centres. What is fixed per model is in ``ict_mesh``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from zoo.synth import head_parts as parts
from zoo.synth.head_mesh import angles_of, grid_normals, head_grid
from zoo.synth.head_scene import FLIP, IRIS_DEG, TAG_EYE_L, TAG_EYE_R, TAG_FACE, TAG_MOUTH, HeadScene, View, attrs, hair_parts
from zoo.synth.ict_head import Camera, load_head, sample_expression, sample_identity
from zoo.synth.ict_landmarks import RAW, AnnotatorLandmarks, Definition
from zoo.synth.ict_mesh import EYE_RADIUS, MOUTH_DEPTH, ict_mesh, neck_weight
from zoo.synth.kernels import vertex_normals
from zoo.synth.population import population_mean
from zoo.synth.raster import MeshPart, project
from zoo.synth.shade import MAT_SKIN

_POLES = np.array([[0.0, -1.0, 0.0], [0.0, 1.0, 0.0]])


def sample_face(rng: np.random.Generator, population: str = "ict") -> tuple[np.ndarray, np.ndarray]:
    """Identity weights ~ N(mean of ``population``, 1) and an expression with realistic co-activation
    (``ict_head``). The population moves only the mean, so every population draws the same random stream."""
    head = load_head()
    return sample_identity(rng) + population_mean(population), sample_expression(rng, head.ex_names)


def labeller(labels: str | Definition) -> AnnotatorLandmarks:
    """The label maker of ``RenderOptions.labels`` or of an explicit ``Definition`` (topology precomputed once
    per process and definition)."""
    return _labeller(Definition() if labels == "annotators" else RAW if labels == "raw" else labels)


@lru_cache(maxsize=4)
def _labeller(definition: Definition) -> AnnotatorLandmarks:
    return AnnotatorLandmarks(load_head(), definition)


def head_vertices(identity: np.ndarray, expression: np.ndarray) -> np.ndarray:
    """[V, 3] ICT vertices (centimetres, ICT's frame) of a face (``ICTHead.vertices``: one compiled pass)."""
    return load_head().vertices(identity, expression)


def label_camera(view: View, offset: np.ndarray, size: int) -> Camera:
    """The ``ict_head.Camera`` that sees ICT's vertices exactly as ``view`` sees the head frame shifted by ``offset``."""
    yaw, pitch, roll = view.angles
    te = (offset * FLIP) @ view.rh.T + view.t
    f = float(view.k[0, 0])
    return Camera(yaw, pitch, roll, size, f, float(te[2]), (float(te[0] * f / te[2]), float(te[1] * f / te[2])))


def face_labels(identity: np.ndarray, expression: np.ndarray, view: View, size: int, labels: str | Definition) -> np.ndarray:
    """[68, 2] pixel labels of a face under ``view``, exactly as ``ict_head`` makes them, without building or
    rasterising the scene (about 1 ms: what fitting a population to photos' shapes needs)."""
    return labeller(labels)(head_vertices(identity, expression), label_camera(view, ict_mesh().offset, size))


def ict_head(identity: np.ndarray, expression: np.ndarray, hair: dict, rng: np.random.Generator, view: View, size: int,
             labels: str) -> HeadScene:
    """The ICT head's parts, casters, landmarks and eyes for one face under ``view``."""
    m = ict_mesh()
    cm = head_vertices(identity, expression)
    q = m.to_head(cm)  # head frame, mm
    ns = m.n_surface
    surf = q[:ns]
    w = m.neck_w[:, None]
    surf_cam = view.to_cam(surf) * (1 - w) + view.body_cam(surf) * w  # the neck turns toward the body below the jaw
    nrm_cam = vertex_normals(surf_cam * FLIP, m.tris) * FLIP
    scene = [MeshPart(surf_cam, m.tris, attrs(nrm_cam, m.ao, m.uv[:ns], TAG_FACE), MAT_SKIN, layer=2)]
    casters = [surf_cam]

    # the mouth cavity and the eyeballs: drawn before the head (layer 1), seen only through its openings
    loop = m.mouth_loop
    plug = np.vstack([surf[loop], surf[loop].mean(0) - [0.0, 0.0, MOUTH_DEPTH]])
    plug_uv = np.vstack([m.uv[loop], m.uv[loop].mean(0)])
    plug_n = view.dir_cam(np.tile([0.0, 0.0, 1.0], (len(plug), 1)))
    scene.append(MeshPart(view.to_cam(plug), m.mouth_tris, attrs(plug_n, np.full(len(plug), 0.6), plug_uv, TAG_MOUTH),
                          MAT_SKIN, layer=1))
    centres, gazes, pupils = [], [], []
    for rig, tris, tag in zip(m.eyes, m.eye_tris, (TAG_EYE_R, TAG_EYE_L), strict=True):
        p = q[rig.ids]
        apex, centre = rig.apex_w @ p, rig.centre_w @ p
        gaze = (apex - centre) / np.linalg.norm(apex - centre)
        centres.append(apex - gaze * EYE_RADIUS)  # the shading sphere: classic radius, front on ICT's cornea
        gazes.append(gaze)
        pupils.append(apex - gaze * EYE_RADIUS * (1 - np.cos(np.radians(IRIS_DEG))))
        en = vertex_normals(p, tris)
        scene.append(MeshPart(view.to_cam(p), tris, attrs(view.dir_cam(en), np.full(len(p), 0.8), m.uv[rig.ids], tag),
                              MAT_SKIN, layer=1))

    # below the cut, the classic neck cylinder fitted to this neck carries on into the torso
    band = surf[m.neck_band]
    lo, hi = band.min(0), band.max(0)
    nv, nt, _, _, _ = parts.neck(rng, ((hi[0] - lo[0]) / 2 - 1.0, (hi[2] - lo[2]) / 2 - 1.0, (hi[2] + lo[2]) / 2))
    nw = neck_weight(nv[:, 1])[:, None]
    ncam = view.to_cam(nv) * (1 - nw) + view.body_cam(nv) * nw
    # skin textured like ICT's neck above it (the texture's plain border), so the cut does not show
    na = attrs(vertex_normals(ncam * FLIP, nt) * FLIP, np.ones(len(nv)), angles_of(nv), TAG_FACE)
    scene.append(MeshPart(ncam, nt, na, MAT_SKIN, layer=1))

    grid = head_grid()
    rows, cols = grid.shape
    anchors = m.shell_points(surf)
    nrm = np.vstack([grid_normals(anchors, rows, cols), _POLES])
    hair_scene, hair_casters = hair_parts(rng, grid, anchors, nrm, hair, view, lambda p: p)
    scene += hair_scene
    casters += hair_casters

    lm68 = labeller(labels)(cm, label_camera(view, m.offset, size))
    pts = np.vstack([lm68, project(view.to_cam(np.array(pupils)), view.k)])
    expr = np.asarray(expression)
    meta = {"identity": np.round(np.asarray(identity), 4).tolist(),
            "expression": {n: round(float(x), 4) for n, x in zip(m.head.ex_names, expr, strict=True) if x > 0}}
    return HeadScene(scene, casters, pts, q[m.head.landmarks68[36:48]], view.to_cam(np.array(centres)),
                     view.dir_cam(np.array(gazes)), EYE_RADIUS, tagged=True, meta=meta)
