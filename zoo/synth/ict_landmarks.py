"""The 68 points as 300-W's annotators mean them, on an ICT head under a camera.

Why: ICT's landmark vertices are fixed points of the skin. Annotators of 300-W do not click
vertices: they put the jaw on the visible outline of cheek and chin (on a turned face the far
side's silhouette, not the hidden jaw bone) and the brows on the hair's edge. A model trained on
vertex labels learns the vertex definition and is off on photos by that difference (issue 25).

Jaw (landmark marching, as 3DDFA and HPEN do, done here on the mesh's occluding contour): every
jaw point is cast as a ray in the image from a point inside the head through the vertex's
projection; its label is where that ray last crosses the occluding contour (edges between a
polygon facing the camera and one facing away) between 0.6 and 1.6 times the vertex's distance.
Only contour edges of the cheeks, jaw and chin count (not the ears, neck or the back of the head);
without a crossing the vertex stays. Brows: each brow vertex moved by ``brow_lift`` centimetres
along the head's up axis (negative: down; the point rides with the vertex through expressions),
one number chosen by the shape gap against photos. Semi-landmarks (jaw 1-15, the lips' inner points): moved
along their chain's curve on the head to where the annotators put them (``ARCS``). Nose: point 30 on the tip as seen (the nose
vertex nearest the camera), 28 and 29 evenly between 27 and 30. Contours are not tested for occlusion by other
parts of the face (fine to about 45 degrees of yaw).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.landmarks import PARTS
from zoo.synth.ict_head import PART_RANGES, Camera, ICTHead, camera_points, project, to_pixels
from zoo.synth.ict_kernels import facing as facing_kernel
from zoo.synth.ict_kernels import outer_crossings

JAW = np.arange(*PARTS["jaw"])
BROWS = np.arange(*PARTS["brows"])
#: Ray parameters (in units of the vertex's own distance from the ray origin) searched for a contour.
T_RANGE = (0.6, 1.6)
#: Nose-tip candidates: face vertices within this many centimetres of ICT's point-30 vertex.
TIP_RADIUS = 1.2
#: How much of ``Definition.jaw_drop`` each jaw point takes: the upper four on each side, in proportion to how
#: far above the annotators' ICT's traced outline puts them (lfpw-train: 7.8, 5.4, 4.7, 4.2 % IOD for 0-3).
JAW_DROP_PROFILE = np.array([1.0, 0.7, 0.6, 0.55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.55, 0.6, 0.7, 1.0])
#: Rays per gap between neighbouring jaw vertices when the outline is traced for even spacing.
TRACE = 8
#: Semi-landmark chains whose inner points 300-W's annotators place by position along the contour between fixed
#: ends, not on a feature: the jaw between 0 and 16, each lip line between the mouth corners.
CHAINS: dict[str, tuple[int, ...]] = {
    "jaw": tuple(range(17)),
    "upper_lip": (48, 49, 50, 51, 52, 53, 54),
    "lower_lip": (54, 55, 56, 57, 58, 59, 48),
    "upper_inner": (60, 61, 62, 63, 64),
    "lower_inner": (64, 65, 66, 67, 60),
}
#: Where the annotators put each chain's points, as fractions of its chord length (polyline through the chain's
#: points) from its first point; fitted by ``zoo.synth.population.fit_arcs`` on half of lfpw-train's
#: near-frontal faces (docs/renderer.md). ``Definition.arcs`` moves the points there along the chain's smooth
#: curve on the head (through ICT's 3D vertices, so a turned face keeps them), before the jaw is marched.
ARCS: dict[str, tuple[float, ...]] = {
    "jaw": (0.0, 0.0581, 0.1189, 0.1795, 0.2407, 0.302, 0.3731, 0.4454,
            0.5006, 0.5541, 0.6256, 0.6968, 0.7586, 0.8199, 0.8817, 0.9424, 1.0),
    "upper_lip": (0.0, 0.239, 0.3993, 0.4977, 0.6087, 0.7724, 1.0),
    "lower_lip": (0.0, 0.2196, 0.3836, 0.5017, 0.6089, 0.7716, 1.0),
    "upper_inner": (0.0, 0.3668, 0.494, 0.6362, 1.0),
    "lower_inner": (0.0, 0.3573, 0.5053, 0.6379, 1.0),
}
#: Centimetres around the outer lip landmarks' box (as an ellipse) whose vertices are not jaw outline.
LIP_MARGIN = 0.4


@dataclass(frozen=True)
class Definition:
    """Which labels to make: the annotators' (the defaults) or ICT's raw vertices (``RAW``)."""

    jaw_outline: bool = True
    #: point 30 on the nose vertex nearest the camera (within 1.2 cm of ICT's tip vertex, which sits 3 mm
    #: above the most forward point), and 28/29 at thirds between 27 and 30 as 300-W spaces the bridge
    nose_tip: bool = True
    #: re-space points 1-15 evenly along the traced outline between 0 and 16 (semi-landmarks); tried and
    #: off: it better matches the photos' jaw spread but moves the mean jaw 1.5 % IOD further from theirs
    jaw_even: bool = False
    brow_lift: float = -0.5  # centimetres along the head's up axis; -0.5 is best on lfpw-train (docs/real-faces.md)
    #: centimetres down the head's up axis for the jaw's upper ends (points 0 and 16, tapering by ``JAW_DROP_PROFILE``)
    #: before the outline is traced: 300-W's annotators start the jaw lower, near the ear lobe, than ICT's vertices
    #: (7-8 % IOD too high on lfpw-train; 0.9 brings 0-3 and 13-16 within 1.5 and the jaw's mean gap from 4.8 to
    #: 3.2 % IOD, best of 0, 0.6, 0.9, 1.2: docs/real-faces.md finding 8)
    jaw_drop: float = 0.9
    #: (chain, fractions) pairs: move a chain's points (``CHAINS``) along its curve on the head to these positions
    #: (``ARCS`` holds the annotators'); the jaw's are then marched to the outline like ICT's vertices were
    arcs: tuple[tuple[str, tuple[float, ...]], ...] = tuple(ARCS.items())


#: ICT's own landmark vertices, unchanged.
RAW = Definition(jaw_outline=False, nose_tip=False, brow_lift=0.0, jaw_drop=0.0, arcs=())


class AnnotatorLandmarks:
    """Precomputed mesh topology of one ICT head model, to label many posed heads quickly."""

    def __init__(self, head: ICTHead, definition: Definition = Definition()):
        self.head, self.definition = head, definition
        face_end = PART_RANGES["head"][1]  # face and head-and-neck polygons
        polys = head.polygons[np.all(head.polygons < face_end, axis=1)]
        self.polys = polys
        self.is_tri = polys[:, 3] < 0
        self.edges, self.edge_faces = _shared_edges(polys)
        n = head.neutral
        self.zone = _jaw_zone(n, head.landmarks68)
        keep = self.zone[self.edges].all(axis=1)
        self.edges, self.edge_faces = self.edges[keep], self.edge_faces[keep]
        # only the polygons beside a jaw-zone edge need a facing test (half of them)
        used, self.edge_faces = np.unique(self.edge_faces, return_inverse=True)
        self.edge_faces = self.edge_faces.reshape(-1, 2)
        self.polys, self.is_tri = self.polys[used], self.is_tri[used]
        lm = head.landmarks68
        # ray origin: inside the head, at the height of the nose base, between the jaw's ends
        self.origin_ids = np.array([lm[0], lm[16], lm[33]])
        self.tip_ids = np.flatnonzero(np.linalg.norm(n[: PART_RANGES["face"][1]] - n[lm[30]], axis=1) < TIP_RADIUS)
        self.lift = np.zeros((68, 3))
        self.lift[BROWS, 1] = definition.brow_lift  # moves with the vertex (expressions), along the head's up axis
        self.lift[JAW, 1] = -definition.jaw_drop * JAW_DROP_PROFILE

    def __call__(self, vertices: np.ndarray, camera: Camera) -> np.ndarray:
        """[68, 2] pixel labels of a head (``ICTHead.vertices``) under ``camera``."""
        on_head = vertices[self.head.landmarks68] + self.lift
        for name, fractions in self.definition.arcs:  # along the chain's curve on the head: the same on a turned face
            chain = list(CHAINS[name])
            on_head[chain] = at_fractions(smooth_curve(on_head[chain]), fractions)
        pts = project(on_head, camera)
        if self.definition.nose_tip:
            depth = camera_points(vertices[self.tip_ids], camera)[:, 2]
            pts[30] = project(vertices[self.tip_ids[np.argmin(depth)]][None], camera)[0]
            pts[28], pts[29] = pts[27] + (pts[30] - pts[27]) / 3, pts[27] + 2 * (pts[30] - pts[27]) / 3
        if self.definition.jaw_outline:
            pts = self._trace_jaw(pts, vertices, camera)
        return pts

    def _trace_jaw(self, pts: np.ndarray, vertices: np.ndarray, camera: Camera) -> np.ndarray:
        """``pts`` with the jaw on the visible outline (landmark marching; see the module docstring)."""
        cam = camera_points(vertices, camera)
        facing = facing_kernel(cam, self.polys, self.is_tri)  # _facing in one compiled pass
        contour = self.edges[facing[self.edge_faces[:, 0]] != facing[self.edge_faces[:, 1]]]
        if not len(contour):
            return pts
        used = np.unique(contour)
        pix = np.zeros((len(vertices), 2))
        pix[used] = to_pixels(cam[used], camera)
        a, b = pix[contour[:, 0]], pix[contour[:, 1]]
        origin = project(vertices[self.origin_ids].mean(0, keepdims=True), camera)[0]
        jaw = pts[JAW]
        if self.definition.jaw_even:  # trace the outline densely: 8 rays per gap between jaw vertices
            f = np.linspace(0, len(JAW) - 1, (len(JAW) - 1) * TRACE + 1)
            jaw = np.stack([np.interp(f, np.arange(len(JAW)), jaw[:, c]) for c in (0, 1)], axis=1)
        t = outer_crossings(origin, jaw, a, b, *T_RANGE)  # _outer_crossing for every ray in one compiled pass
        hit = ~np.isnan(t)
        jaw[hit] = origin + t[hit, None] * (jaw[hit] - origin)
        pts[JAW] = at_fractions(jaw, np.linspace(0.0, 1.0, len(JAW))) if self.definition.jaw_even else jaw
        return pts


def chord_fractions(points: np.ndarray) -> np.ndarray:
    """[..., K] each point's chord length from the first along the polyline of ``points`` [..., K, 2], over the total."""
    seg = np.linalg.norm(np.diff(points, axis=-2), axis=-1)
    arc = np.concatenate([np.zeros(seg.shape[:-1] + (1,)), np.cumsum(seg, axis=-1)], axis=-1)
    return arc / np.maximum(arc[..., -1:], 1e-12)


def at_fractions(line: np.ndarray, fractions: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """Points at the given fractions of a polyline's length (``line`` [N, D] dense enough to stand for the curve)."""
    arc = chord_fractions(line)
    return np.stack([np.interp(fractions, arc, line[:, c]) for c in range(line.shape[1])], axis=1)


def smooth_curve(points: np.ndarray, per_gap: int = TRACE) -> np.ndarray:
    """A dense Catmull-Rom curve through ``points`` [K, D] (ends kept), standing for the contour between them."""
    p = np.vstack([2 * points[0] - points[1], points, 2 * points[-1] - points[-2]])
    t = np.linspace(0.0, 1.0, per_gap, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        a, b, c, d = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t**2 + (3 * b - a - 3 * c + d) * t**3))
    return np.vstack(out + [points[-1:]])


def _shared_edges(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges shared by exactly two polygons: ([E, 2] vertex ids, [E, 2] polygon ids)."""
    corners = polys.shape[1]
    rows = []
    for c in range(corners):
        a, b = polys[:, c], polys[:, (c + 1) % corners]
        b = np.where(b < 0, polys[:, 0], b)  # a triangle's third edge closes on its first corner
        ok = a >= 0
        rows.append(np.stack([np.minimum(a, b), np.maximum(a, b), np.arange(len(polys))], axis=1)[ok])
    e = np.concatenate(rows)
    e = e[e[:, 0] != e[:, 1]]
    key = e[:, 0].astype(np.int64) * (int(e[:, 1].max()) + 1) + e[:, 1]
    order = np.argsort(key, kind="stable")
    e = e[order]
    _, start, count = np.unique(key[order], return_index=True, return_counts=True)
    first = start[count == 2]  # manifold edges: exactly two polygons
    return e[first, :2], np.stack([e[first, 2], e[first + 1, 2]], axis=1)


def _facing(cam: np.ndarray, polys: np.ndarray, is_tri: np.ndarray) -> np.ndarray:
    """True for polygons that face the camera (camera at the origin, points in camera coordinates)."""
    p0, p1, p2 = cam[polys[:, 0]], cam[polys[:, 1]], cam[polys[:, 2]]
    p3 = np.where(is_tri[:, None], p0, cam[np.maximum(polys[:, 3], 0)])
    normal = np.cross(p2 - p0, np.where(is_tri[:, None], p2 - p1, p3 - p1))
    centre = (p0 + p1 + p2 + p3) / 4
    return np.einsum("ij,ij->i", normal, centre) < 0


def _jaw_zone(neutral: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Vertices whose contour can be the jaw's outline: cheeks, jaw and chin of the face part, down to
    a little below the jaw line; not the ears, the neck or anything behind the ears."""
    n = neutral
    face = np.zeros(len(n), bool)
    face[: PART_RANGES["face"][1]] = True
    jaw = n[lm[JAW]]
    order = np.argsort(jaw[:, 0])
    jaw_y = np.interp(n[:, 0], jaw[order, 0], jaw[order, 1])
    below_eyes = n[:, 1] < n[lm[36], 1] + 1.0
    above_neck = n[:, 1] > jaw_y - 2.5
    in_front = n[:, 2] > n[lm[0], 2] - 1.5  # ahead of the ear's root
    # not the lips: an open mouth's lip outlines are contours too, and a near-side chin point's ray
    # crossed the lower lip's and was pulled onto it (seen on renders at 40 degrees of yaw)
    lips = n[lm[48:60]]
    centre, half = lips.mean(0), (lips.max(0) - lips.min(0)) / 2 + LIP_MARGIN
    on_lips = ((n[:, 0] - centre[0]) / half[0]) ** 2 + ((n[:, 1] - centre[1]) / half[1]) ** 2 < 1
    return face & below_eyes & above_neck & in_front & ~on_lips


def _outer_crossing(origin: np.ndarray, point: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """The outermost crossing of the ray origin -> point with a segment a-b within ``T_RANGE``; None if none.

    Outermost, not nearest the vertex: the visible outline is the last contour the ray leaves the
    face by (nearest-the-vertex picked creases above the chin: 1.5 % IOD worse on points 7-9)."""
    d = point - origin
    e = b - a
    denom = d[0] * e[:, 1] - d[1] * e[:, 0]
    ok = np.abs(denom) > 1e-12
    w = a - origin
    t = np.where(ok, (w[:, 0] * e[:, 1] - w[:, 1] * e[:, 0]) / np.where(ok, denom, 1.0), np.inf)
    s = np.where(ok, (w[:, 0] * d[1] - w[:, 1] * d[0]) / np.where(ok, denom, 1.0), -1.0)
    hit = ok & (s >= 0) & (s <= 1) & (t >= T_RANGE[0]) & (t <= T_RANGE[1])
    if not hit.any():
        return None
    t_best = t[hit].max()
    return origin + t_best * d
