"""The ICT head as the renderer draws it: triangles, texture angles, occlusion, eyes, mouth and hair anchors.

Everything here depends only on the shipped model, so it is built once per process (``ict_mesh()``,
~1 s) and every face then only sums its modes and moves vertices (``zoo.synth.render_ict``).

- **Frame.** ICT's centimetres (y up) become the renderer's head frame: millimetres, y down, z toward
  the camera, tilted 5.2 degrees (``ict_head.PITCH_OFFSET``, so solvePnP reads back the drawn pose)
  and shifted so that ICT's eye and nose landmarks sit on ``zoo.pose.MEAN_FACE_68``'s on average.
- **Surface.** The face and head-and-neck quads, each split into two triangles, down to ``NECK_CUT``
  below the eyes (the torso covers the rest); the neck below ``NECK_BLEND[0]`` follows the body
  like the classic neck does. ICT's own ears replace the hand-built ones.
- **Texture.** The renderer's procedural skin lives in (longitude, latitude) seen from
  ``head_mesh.CENTRE``. Each vertex gets the angles it is seen at, warped by a thin-plate spline so
  that ICT's 68 landmark vertices land on the mean face's landmark angles: lips, brows, lids, the
  mouth and the eye labels of ``texture.face_texture`` then sit on ICT's features. The texture's
  brows are drawn on ICT's brow vertices moved ``BROW_DROP`` mm down (finding 3 of docs/real-faces.md:
  the annotators' brows, and real ones, sit below ICT's vertices).
- **Eyes.** ICT's eyeballs (the outer, sclera spheres) are drawn and fill the lid openings; their
  fragments are shaded by the renderer's ray-cast eye (iris, pupil, catchlight) on a sphere of the
  classic radius whose front is the ICT cornea's apex, looking along the eyeball's axis.
- **Mouth.** The compact model has no mouth socket: the inner-lip hole is closed by a fan pushed
  ``MOUTH_DEPTH`` mm back, shaded as the classic mouth (teeth, cavity, tongue).
- **Hair.** The classic hair shell's grid points are attached to ICT's surface: each grid direction's
  outermost crossing with the neutral mesh, kept as barycentric weights, so the shell follows every
  identity and expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from zoo.pose import MEAN_FACE_68
from zoo.synth.head_mesh import CENTRE, angles_of, head_grid
from zoo.synth.ict_head import _FIX, PART_RANGES, ICTHead, load_head
from zoo.synth.ict_kernels import attach_to_surface, gather
from zoo.synth.texture import landmark_angles

FLIP = np.array([1.0, 1.0, -1.0])
#: Head-frame y (mm, down; the eyes are near -38, the chin near 75) below which ICT's neck is not drawn:
#: there it widens into the shoulders, which the torso draws; the classic neck cylinder, fitted to ICT's
#: neck at the cut, carries on into the torso.
NECK_CUT = 100.0
#: Head-frame y range over which the neck turns from moving with the head to moving with the body
#: (the ICT neck and the cylinder below it alike; above it the labels' jaw contour lies).
NECK_BLEND = (100.0, 165.0)  # starts at the cut: ICT's own vertices stay rigid
#: Band above the cut (mm) whose vertices give the cylinder's width, depth and centre.
NECK_BAND = 14.0
MOUTH_DEPTH = 8.0
BROW_DROP = 6.5
#: The classic eye's shading radius (mm): its 30-degree iris is then 5.75 mm in radius, like a real one.
EYE_RADIUS = 11.5
_MAT_SCLERA = {"right": 6, "left": 4}  # ICT material ids: M_ScleraRight (x < 0, the subject's right) / Left


@dataclass(frozen=True)
class EyeRig:
    """Affine combinations of one eyeball's vertices (weights sum to 1, so they move with the eyeball)."""

    ids: np.ndarray  # eyeball vertex ids (ICT's numbering)
    centre_w: np.ndarray  # [len(ids)] weights of the eyeball's centre
    apex_w: np.ndarray  # [len(ids)] weights of the cornea's apex


@dataclass(frozen=True)
class ICTMesh:
    head: ICTHead
    a: np.ndarray  # [3, 3]: head-frame mm = cm @ a + offset
    offset: np.ndarray  # [3]
    n_surface: int  # vertices 0..n_surface-1 are the face and head parts
    tris: np.ndarray  # [T, 3] face and head triangles (vertex ids < n_surface), outward winding
    mouth_loop: np.ndarray  # inner-lip hole vertex ids, in order
    mouth_tris: np.ndarray  # fan over [loop copies..., centre] (ids local to the mouth part)
    eye_tris: tuple[np.ndarray, np.ndarray]  # right, left eyeball triangles (ids local to each eye's vertices)
    eyes: tuple[EyeRig, EyeRig]  # right (points 36-41), left (42-47)
    uv: np.ndarray  # [V, 2] texture angles (phi, theta) of every ICT vertex
    ao: np.ndarray  # [n_surface] ambient occlusion
    neck_w: np.ndarray  # [n_surface] 0 = moves with the head, 1 = with the body
    neck_band: np.ndarray  # vertex ids just above the cut (the cylinder is fitted to them per face)
    shell_ids: np.ndarray  # [G, 3] hair-grid anchors: vertex triples ...
    shell_wts: np.ndarray  # [G, 3] ... and barycentric weights
    shell_fallback: np.ndarray  # [M, 3] grid points without an anchor: the classic neutral grid scaled to this head

    def to_head(self, cm: np.ndarray) -> np.ndarray:
        """ICT centimetres [N, 3] -> head frame millimetres."""
        return cm @ self.a + self.offset

    def shell_points(self, head_pts: np.ndarray) -> np.ndarray:
        """The hair grid's points (``head_grid`` order, poles included) on this head's surface."""
        return gather(np.vstack([head_pts[: self.n_surface], self.shell_fallback]), self.shell_ids, self.shell_wts)


def frame_matrix() -> np.ndarray:
    """ICT cm (y up) -> head frame mm (y down, z toward the camera) with ICT's 5.2-degree tilt, as row-vector matrix.

    Same as ``ict_head.camera_points`` before the pose: (p_pose * FLIP) @ FIX.T, flipped back."""
    return np.diag([10.0, -10.0, 10.0]) @ np.diag(FLIP) @ _FIX.T @ np.diag(FLIP)


def _loops(polys: np.ndarray) -> list[np.ndarray]:
    """Boundary loops (edges of one polygon only), each as an ordered vertex list."""
    corners = [polys[:, c] for c in range(4)]
    edges = np.concatenate([np.stack([corners[c], corners[(c + 1) % 4]], 1) for c in range(4)])
    key = np.sort(edges, axis=1)
    _, inverse, count = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    single = edges[count[inverse.ravel()] == 1]
    nxt = {int(a): int(b) for a, b in single}
    loops, seen = [], set()
    for start in nxt:
        if start in seen:
            continue
        loop, v = [], start
        while v not in seen:
            seen.add(v)
            loop.append(v)
            v = nxt[v]
        loops.append(np.array(loop))
    return loops


def _tps(src: np.ndarray, dst: np.ndarray, at: np.ndarray) -> np.ndarray:
    """2D thin-plate spline through src -> dst displacements, evaluated at ``at``."""
    def kern(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        r2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return 0.5 * r2 * np.log(np.maximum(r2, 1e-12))

    n = len(src)
    k = kern(src, src) + np.eye(n) * 1e-3
    p = np.hstack([np.ones((n, 1)), src])
    a = np.zeros((n + 3, n + 3))
    a[:n, :n], a[:n, n:], a[n:, :n] = k, p, p.T
    sol = np.linalg.solve(a, np.vstack([dst - src, np.zeros((3, 2))]))
    return kern(at, src) @ sol[:n] + np.hstack([np.ones((len(at), 1)), at]) @ sol[n:]


def _texture_angles(head_pts: np.ndarray, control: np.ndarray) -> np.ndarray:
    """(phi, theta) of every point, warped so ``control`` lands on the mean face's landmark angles.

    The warp fades out 25 degrees beyond the landmarks' box: the back of the head keeps its plain angles."""
    ang = angles_of(head_pts)
    src = angles_of(control)
    lo, hi = src.min(0), src.max(0)
    out = np.abs(ang) > 150  # near the seam behind the head: never warped
    fade = np.clip(1 - np.max(np.maximum(lo - ang, ang - hi), axis=1, initial=0.0) / 25.0, 0, 1)
    fade[out.any(axis=1)] = 0
    near = fade > 0
    ang[near] += _tps(src, np.asarray(landmark_angles()), ang[near]) * fade[near, None]
    return ang


def _occlusion(pts: np.ndarray, tris: np.ndarray, normals: np.ndarray, n: int) -> np.ndarray:
    """Concavity as ambient occlusion: how far each vertex lies below the average of its surroundings."""
    import scipy.sparse as sp

    i = np.concatenate([tris[:, 0], tris[:, 1], tris[:, 2], tris[:, 1], tris[:, 2], tris[:, 0]])
    j = np.concatenate([tris[:, 1], tris[:, 2], tris[:, 0], tris[:, 0], tris[:, 1], tris[:, 2]])
    adj = sp.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    adj.data[:] = 1.0
    deg = np.asarray(adj.sum(1)).ravel()
    avg = sp.diags(1 / np.maximum(deg, 1)) @ adj
    ao = np.zeros(n)
    smooth = pts[:n].copy()
    for steps, weight in ((2, 0.05), (8, 0.03), (30, 0.015)):
        for _ in range(steps):
            smooth = avg @ smooth
        depth = np.einsum("ij,ij->i", smooth - pts[:n], normals[:n])  # > 0: the surroundings stand out
        ao += weight * np.clip(depth, 0, None)
    return np.clip(1 - ao, 0.45, 1.0)


def _eye_rig(head_pts: np.ndarray, polys: np.ndarray, material: np.ndarray, mat: int) -> tuple[EyeRig, np.ndarray]:
    sel = polys[material == mat]
    ids = np.unique(sel[sel >= 0])
    p = head_pts[ids]
    a = np.hstack([2 * p, np.ones((len(p), 1))])
    s = np.linalg.lstsq(a, (p ** 2).sum(1), rcond=None)[0]
    centre = s[:3]
    radius = np.sqrt(s[3] + centre @ centre)
    del radius
    front = p[np.argmax(p[:, 2])]  # the neutral eye looks along +z: its most forward vertex is the cornea's apex
    cap = np.linalg.norm(p - front, axis=1) < 3.0  # a small cap around it (symmetric about the eye's axis)
    mean_w = np.full(len(ids), 1 / len(ids))
    apex_w = np.where(cap, 1 / cap.sum(), 0.0)
    # centre = apex + lam * (mean - apex): an affine combination, so it moves with the eyeball
    axis = p.mean(0) - p[cap].mean(0)
    lam = float((centre - p[cap].mean(0)) @ axis / (axis @ axis))
    centre_w = apex_w + lam * (mean_w - apex_w)
    local = {int(v): k for k, v in enumerate(ids)}
    tris = _split(np.vectorize(lambda v: local.get(int(v), -1))(sel))
    return EyeRig(ids, centre_w, apex_w), tris


def _split(polys: np.ndarray) -> np.ndarray:
    """Quads (a, b, c, d) -> triangles (a, b, c), (a, c, d); triangles (d = -1) kept."""
    quads = polys[polys[:, 3] >= 0]
    tris = polys[polys[:, 3] < 0, :3]
    return np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]], tris]).astype(np.int32)


@lru_cache(maxsize=1)
def ict_mesh() -> ICTMesh:
    """The renderer's ICT head (cached per process)."""
    from zoo.synth.kernels import vertex_normals

    head = load_head()
    z = np.load(head_path())
    material = z["polygon_material"]
    a = frame_matrix()
    raw = head.neutral.astype(np.float64) @ a
    lm = head.landmarks68
    sel = np.r_[27:48]  # eyes and nose: the jaw's depth differs most between ICT and the mean face
    offset = (MEAN_FACE_68[sel] - raw[lm[sel]]).mean(0)
    pts = raw + offset
    n_surface = PART_RANGES["head"][1]

    polys = head.polygons
    surface = polys[np.all(polys < n_surface, axis=1)]  # face and head parts (all quads)
    tris = _split(surface)
    tris = tris[np.all(pts[tris, 1] <= NECK_CUT, axis=1)]  # per triangle: a finer edge than per quad
    normals = vertex_normals(pts[:n_surface], tris)
    outward = np.einsum("ij,ij->i", normals, pts[:n_surface] - CENTRE)
    if np.median(outward) < 0:  # vertex_normals' winding convention is the head frame's; make them outward
        tris = tris[:, [0, 2, 1]].copy()
        normals = -normals

    loops = _loops(surface)
    lip = lm[62]
    mouth_loop = min(loops, key=lambda loop: float(np.linalg.norm(pts[loop].mean(0) - pts[lip])))
    m = len(mouth_loop)
    ring = np.arange(m)
    mouth_tris = np.stack([ring, np.full(m, m), (ring + 1) % m], axis=1).astype(np.int32)
    plug = np.vstack([pts[mouth_loop], pts[mouth_loop].mean(0) - [0.0, 0.0, MOUTH_DEPTH]])
    if _winding(plug, mouth_tris) < 0:
        mouth_tris = mouth_tris[:, [0, 2, 1]].copy()

    control = pts[lm].copy()
    control[17:27, 1] += BROW_DROP
    uv = _texture_angles(pts, control)
    ao = _occlusion(pts, tris, normals, n_surface)
    neck_w = neck_weight(pts[:n_surface, 1])
    band = np.flatnonzero((pts[:n_surface, 1] > NECK_CUT - NECK_BAND) & (pts[:n_surface, 1] <= NECK_CUT))

    rigs, eye_tris = [], []
    for side in ("right", "left"):
        rig, et = _eye_rig(pts, polys, material, _MAT_SCLERA[side])
        ep = pts[rig.ids]
        if np.median(np.einsum("ij,ij->i", vertex_normals(ep, et), ep - ep.mean(0))) < 0:
            et = et[:, [0, 2, 1]].copy()
        rigs.append(rig)
        eye_tris.append(et)

    grid = head_grid()
    rel = pts[:n_surface] - CENTRE
    ang = angles_of(pts[:n_surface])
    radius = np.linalg.norm(rel, axis=1)
    ids, wts, hit = attach_to_surface(ang, radius, tris.astype(np.int64), grid.theta, grid.phi)
    n_grid = len(grid.theta) * len(grid.phi)
    g_rad = np.linalg.norm(grid.points[:n_grid] - CENTRE, axis=1)
    hit_rad = np.einsum("ij,ij->i", radius[ids], wts)
    scale = float(np.median(hit_rad[hit] / g_rad[hit]))
    # grid points without an anchor (rays through the neck's open end, the bottom pole) stay on the
    # classic neutral grid scaled to this head's size; hair never grows there
    ids = np.vstack([ids, np.zeros((2, 3), np.int64)])
    wts = np.vstack([wts, np.zeros((2, 3))])
    hit = np.concatenate([hit, [False, False]])
    top = int(np.argmin(pts[:n_surface, 1]))  # the top pole: the head's highest vertex
    ids[-2], wts[-2], hit[-2] = (top, top, top), (1.0, 0.0, 0.0), True
    missing = np.flatnonzero(~hit)
    ids[missing] = n_surface + np.arange(len(missing))[:, None]
    wts[missing] = (1.0, 0.0, 0.0)
    fallback = CENTRE + (grid.points[missing] - CENTRE) * scale
    return ICTMesh(head, a, offset, n_surface, tris, mouth_loop, mouth_tris, tuple(eye_tris), tuple(rigs), uv, ao,
                   neck_w, band, ids, wts, fallback)


def neck_weight(y: np.ndarray) -> np.ndarray:
    """0 = moves with the head, 1 = with the body, by head-frame height."""
    return np.clip((np.asarray(y) - NECK_BLEND[0]) / (NECK_BLEND[1] - NECK_BLEND[0]), 0, 1)


def _winding(pts: np.ndarray, tris: np.ndarray) -> float:
    """> 0 when triangles face toward +z (the camera, for a frontal head) by ``vertex_normals``' convention."""
    a, b, c = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    return float(np.cross(c - a, b - a)[:, 2].sum())


def head_path():  # noqa: ANN201
    from zoo.synth.ict_head import COMPACT

    return COMPACT
