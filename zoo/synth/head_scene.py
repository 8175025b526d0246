"""The head's part of a rendered scene: the camera's view of the head frame, the hair over a head, and the
classic hand-built head (``RenderOptions.head == "classic"``; the ICT head is in ``render_ict``).

Each head builder returns a ``HeadScene``: its mesh parts in camera space, shadow casters, the 70
landmarks in pixels, and what the shader needs to ray-cast the eyes. ``render.render_params`` adds
the torso, glasses, lighting, background, occluders and camera effects around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from zoo.pose import MEAN_FACE_68, rotation_matrix
from zoo.synth import head_parts as parts
from zoo.synth.head_deform import deform
from zoo.synth.head_mesh import HeadGrid, eye_geometry, grid_normals, head_grid, radial_surface
from zoo.synth.kernels import vertex_normals
from zoo.synth.raster import MeshPart, project
from zoo.synth.shade import MAT_EAR, MAT_HAIR, MAT_NECK, MAT_SKIN

FLIP = np.array([1.0, 1.0, -1.0])  # head frame (z toward the camera) -> camera-aligned axes
IRIS_DEG = 30.0
#: ``A_X`` tags of a tagged head's skin parts (the ICT head): face, mouth cavity, right and left eyeball.
TAG_FACE, TAG_MOUTH, TAG_EYE_R, TAG_EYE_L = 8.0, 100.0, 101.0, 102.0


@dataclass(frozen=True)
class View:
    """Camera matrix and the head's and body's poses: head-frame points to camera space (mm, z away)."""

    k: np.ndarray
    t: np.ndarray
    rh: np.ndarray  # head rotation
    rb: np.ndarray  # body rotation
    pivot: np.ndarray  # the neck's pivot in camera space
    angles: tuple[float, float, float] = (0.0, 0.0, 0.0)  # yaw, pitch, roll of rh (degrees)

    def to_cam(self, p: np.ndarray) -> np.ndarray:
        return (p * FLIP) @ self.rh.T + self.t

    def dir_cam(self, n: np.ndarray) -> np.ndarray:
        return (n * FLIP) @ self.rh.T

    def body_cam(self, p: np.ndarray) -> np.ndarray:
        return ((p - parts.NECK_PIVOT) * FLIP) @ self.rb.T + self.pivot


@dataclass
class HeadScene:
    """What a head builder hands the renderer."""

    parts: list[MeshPart]
    casters: list[np.ndarray]  # cast-shadow casters (camera space points)
    landmarks: np.ndarray  # [70, 2] pixels
    eye_landmarks: np.ndarray  # [12, 3] head frame, points 36-47 (glasses sit on them)
    eye_centres: np.ndarray  # [2, 3] camera space, subject's right eye first
    gaze: np.ndarray  # [2, 3] camera space unit vectors
    eye_radius: float
    #: fragments carry a part tag in the A_X column (``ict_mesh.TAG_*``) that decides eye and mouth labels
    tagged: bool = False
    meta: dict = field(default_factory=dict)  # identity and expression as written to _meta.json


def gaze_vector(gx: float, gy: float) -> np.ndarray:
    """Head-frame unit gaze vector (z toward the camera); gx > 0 looks to the subject's left, gy > 0 up."""
    return (rotation_matrix(gx, gy, 0.0) @ np.array([0.0, 0.0, -1.0])) * FLIP


def vertex_noise(rng: np.random.Generator, uv: np.ndarray, cells: tuple[int, int] = (10, 20)) -> np.ndarray:
    field_ = rng.standard_normal(cells).astype(np.float32)
    mx = ((uv[:, 0] + 180) / 360 * (cells[1] - 1)).astype(np.float32)[None]
    my = ((uv[:, 1] + 90) / 180 * (cells[0] - 1)).astype(np.float32)[None]
    return cv2.remap(field_, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[0].astype(np.float64)


def attrs(normals: np.ndarray, ao: np.ndarray, uv: np.ndarray, extra: np.ndarray | float = 8.0) -> np.ndarray:
    """Per-vertex shading attributes: normal, ambient occlusion, texture (u, v), extra (``shade.A_X``)."""
    ex = np.broadcast_to(np.asarray(extra, np.float64), (len(normals),)).reshape(-1, 1)
    return np.hstack([normals, np.asarray(ao).reshape(-1, 1), uv, ex]).astype(np.float32)


def hair_parts(rng: np.random.Generator, grid: HeadGrid, head: np.ndarray, nrm: np.ndarray, hair: dict, view: View,
               curtain_move) -> tuple[list[MeshPart], list[np.ndarray]]:  # noqa: ANN001
    """Hair shell over the grid points ``head`` (head frame, normals ``nrm``) and, for long hair, a curtain
    (``curtain_move`` moves its points with the face); returns the parts and their shadow casters."""
    rows, cols = grid.shape
    out: list[MeshPart] = []
    casters: list[np.ndarray] = []
    noise = vertex_noise(rng, grid.uv) + 0.5 * vertex_noise(rng, grid.uv, (36, 90))  # clumps + ragged outline
    thick = parts.hair_thickness(grid.uv, hair, noise)
    if np.any(thick > 0):
        # the shell covers every triangle touching hair; its fringe lies on the skin and the shader
        # fades hair into skin there per pixel (the interpolated thickness is the coverage)
        shell = head + nrm * np.maximum(thick, 0.4)[:, None]
        keep = np.any(thick[grid.triangles] > 0, axis=1)
        snrm = np.vstack([grid_normals(shell, rows, cols), nrm[-2:]])
        hair_ao = np.clip(0.55 + thick / 25, 0.55, 1.0)
        a = attrs(view.dir_cam(snrm), hair_ao, grid.uv, np.maximum(thick, -3.0))
        shell_cam = view.to_cam(shell)
        casters.append(shell_cam[thick > 1.0])
        out.append(MeshPart(shell_cam, grid.triangles[keep], a, MAT_HAIR, layer=2, bias=3.0))
        if hair["style"] == "long":
            cv_, ct, cuv = parts.hair_curtain(hair, radial_surface().radius, rng)
            cv_ = curtain_move(cv_)
            cn = vertex_normals(cv_, ct)
            out.append(MeshPart(view.to_cam(cv_), ct, attrs(view.dir_cam(cn), np.full(len(cv_), 0.75), cuv), MAT_HAIR,
                                layer=1, two_sided=True))  # sorted with the neck: in front of it at the sides, behind at the back
    return out, casters


def classic_head(ident: dict, expr: dict, hair: dict, rng: np.random.Generator, view: View) -> HeadScene:
    """The hand-built head (RENDER_VERSION 3's): deformed grid, ears, neck, hair; landmarks exact by construction."""
    grid = head_grid()
    rows, cols = grid.shape
    ears = [parts.ear(side, rng) for side in (-1.0, 1.0)]
    centres0, radius = eye_geometry(MEAN_FACE_68)

    # geometry in the head frame: one deformation call for every point that moves with the face
    chunks = [grid.points, MEAN_FACE_68, centres0, ears[0][0], ears[1][0]]
    moved = np.split(deform(np.vstack(chunks), ident, expr), np.cumsum([len(c) for c in chunks])[:-1])
    head, lm, centres = moved[0], moved[1], moved[2]
    ears = [(moved[3], *ears[0][1:]), (moved[4], *ears[1][1:])]
    nrm = np.vstack([grid_normals(head, rows, cols), [[0.0, -1.0, 0.0], [0.0, 1.0, 0.0]]])
    gaze = gaze_vector(expr["gaze_x"], expr["gaze_y"])
    iris_c = centres + gaze * radius * np.cos(np.radians(IRIS_DEG))
    lm70 = np.vstack([lm, iris_c])

    scene: list[MeshPart] = []
    head_cam = view.to_cam(head)
    tri = grid.triangles
    centroids = (head_cam[tri[:, 0]] + head_cam[tri[:, 1]] + head_cam[tri[:, 2]]) / 3
    casters = [head_cam, centroids]  # cast-shadow casters: vertices + centroids
    scene.append(MeshPart(head_cam, grid.triangles, attrs(view.dir_cam(nrm), grid.ao, grid.uv), MAT_SKIN, layer=2))
    hair_scene, hair_casters = hair_parts(rng, grid, head, nrm, hair, view,
                                          lambda p: deform(p, ident, {**expr, "jaw_open": 0.0}))
    scene += hair_scene
    casters += hair_casters
    for ev, et, euv, eao in ears:
        scene.append(MeshPart(view.to_cam(ev), et, attrs(view.dir_cam(vertex_normals(ev, et)), eao, euv), MAT_EAR, layer=2,
                              two_sided=True))
    nv, nt, nuv, nao, nw = parts.neck(rng)
    nv = nv * np.array([ident["scale_x"], 1.0, ident["scale_z"]])
    ncam = view.to_cam(nv) * (1 - nw[:, None]) + view.body_cam(nv) * nw[:, None]
    scene.append(MeshPart(ncam, nt, attrs(vertex_normals(ncam * FLIP, nt) * FLIP, nao, nuv), MAT_NECK, layer=1))
    pts = project(view.to_cam(lm70), view.k)
    return HeadScene(scene, casters, pts, lm[36:48], view.to_cam(centres), view.dir_cam(np.tile(gaze, (2, 1))), radius,
                     meta={"identity": ident, "expression": expr})
