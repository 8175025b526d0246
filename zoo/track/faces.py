"""Face painters for rendered clips: a fast flat-shaded face, or the zoo renderer's faces.

Both draw one face (identity ``subject``) at a given pose, position and size into a video
frame and return its exact 70 landmarks, pose and mask, so ``zoo.track.clips`` can build any
scenario from them:

* ``flat``: polygons over the projected mean face (~1 ms). Fast enough for tests and the demo;
  cartoon-like, so trained models score it lower than real faces.
* ``synth``: ``zoo.synth.render`` (the training renderer: shaded head, eyes, mouth) rendered
  on a square tile with the pose fixed and composited through a mask around the face (jaw +
  forehead). The renderer's per-image camera effects (colour cast, blur, greyscale, JPEG) are
  drawn from a stream that changes with the pose, which would make a video flicker, so they are
  turned off here; the clip adds its own sensor noise to every frame instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from zoo.landmarks import CONTOURS, interocular
from zoo.pose import MEAN_FACE_68, HeadPose, project_points

MEAN_IOD_MM = float(np.linalg.norm(MEAN_FACE_68[36] - MEAN_FACE_68[45]))


@dataclass
class FaceState:
    """Where one face is in one frame: appearance id, identity, centre (px), size, angles."""

    id: int
    subject: int
    cx: float
    cy: float
    iod: float  # inter-ocular distance in pixels when frontal
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    depth: int = 0  # larger is nearer (drawn later)


Painter = Callable[[np.ndarray, FaceState], tuple[np.ndarray, HeadPose, np.ndarray]]


def face_points(state: FaceState, size: tuple[int, int]) -> tuple[np.ndarray, HeadPose]:
    """Ground-truth 70 landmarks (68 projected mean-face points + pupils) and the head pose."""
    f = float(size[0])
    z = f * MEAN_IOD_MM / state.iod
    tvec = np.array([(state.cx - size[0] / 2) * z / f, (state.cy - size[1] / 2) * z / f, z])
    pose = HeadPose.from_angles(state.yaw, state.pitch, state.roll, tvec)
    pts = project_points(pose, size)
    pupils = np.stack([pts[36:42].mean(0), pts[42:48].mean(0)])
    return np.concatenate([pts, pupils]).astype(np.float64), pose


def face_mask(pts: np.ndarray, shape: tuple[int, int], grow: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(mask uint8 0/255 of jaw + forehead, forehead points) for 68+ landmarks."""
    up = pts[27] - pts[8]  # chin -> nose bridge
    forehead = pts[17:27] + 0.45 * up
    hull = np.concatenate([pts[:17], forehead])
    if grow:
        c = hull.mean(0)
        hull = c + (hull - c) * (1.0 + grow)
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(hull).astype(np.int32)), 255, cv2.LINE_AA)
    return mask, forehead


def _palette(subject: int) -> dict[str, tuple[int, int, int]]:
    rng = np.random.default_rng(1000 + subject)
    tone = rng.uniform(0.35, 1.0)
    skin = tuple(int(v) for v in np.array([235, 190, 160]) * tone + np.array([20, 15, 10]))
    hair = tuple(int(v) for v in rng.integers(10, 90, 3))
    lips = tuple(int(v) for v in (np.array(skin) * np.array([0.85, 0.5, 0.5])).astype(int))
    return {"skin": skin, "hair": hair, "lips": lips, "shade": tuple(int(v * 0.75) for v in skin)}


def paint_flat(canvas: np.ndarray, state: FaceState) -> tuple[np.ndarray, HeadPose, np.ndarray]:
    """Draw a flat-shaded face in place on an RGB canvas; returns (landmarks [70,2], pose, mask)."""
    h, w = canvas.shape[:2]
    pts, pose = face_points(state, (w, h))
    col = _palette(state.subject)
    mask, forehead = face_mask(pts, (h, w))
    up = pts[27] - pts[8]
    hair = cv2.convexHull(np.round(np.concatenate([forehead + 0.12 * up, pts[[0, 16]] + 0.35 * up])).astype(np.int32))
    cv2.fillConvexPoly(canvas, hair, col["hair"], cv2.LINE_AA)
    canvas[mask > 0] = col["skin"]
    cv2.fillConvexPoly(mask, hair, 255, cv2.LINE_AA)
    iod = max(float(interocular(pts)), 4.0)
    thick = max(1, round(iod * 0.05))
    q = np.round(pts * 4).astype(np.int32)  # quarter-pixel vertices (shift=2)
    cv2.polylines(canvas, [q[:17]], False, col["shade"], thick, cv2.LINE_AA, shift=2)
    for a, b in ((36, 42), (42, 48)):
        cv2.fillPoly(canvas, [q[a:b]], (235, 235, 230), cv2.LINE_AA, shift=2)
    for k in (68, 69):
        cv2.circle(canvas, tuple(np.round(pts[k]).astype(int)), max(1, round(iod * 0.06)), (40, 30, 25), -1, cv2.LINE_AA)
    for a, b, closed in CONTOURS[1:5]:
        brow = a < 27
        colour, t = (col["hair"], thick * 2) if brow else (col["shade"], thick)
        cv2.polylines(canvas, [q[a:b]], closed, colour, t, cv2.LINE_AA, shift=2)
    cv2.fillPoly(canvas, [q[48:60]], col["lips"], cv2.LINE_AA, shift=2)
    cv2.fillPoly(canvas, [q[60:68]], (90, 30, 30), cv2.LINE_AA, shift=2)
    for a, b in ((36, 42), (42, 48)):
        cv2.polylines(canvas, [q[a:b]], True, (60, 40, 30), max(1, thick // 2), cv2.LINE_AA, shift=2)
    return pts, pose, mask > 0


class SynthPainter:
    """Faces from ``zoo.synth.render``, one fixed identity per subject, composited on a mask."""

    #: frontal inter-ocular distance in pixels per unit of ``face_frac * tile``, measured on the renderer.
    IOD_PER_FACE = 0.65

    def __init__(self, seed: int = 0) -> None:
        from zoo.synth import render as synth_render

        self._r = synth_render
        self.seed = seed
        self._params: dict[int, Any] = {}

    def _base(self, subject: int) -> Any:
        if subject not in self._params:
            p = self._r.sample_params(np.random.default_rng(5000 + 97 * self.seed + subject))
            self._params[subject] = replace(p, occluded=False, glasses=None, offset=(0.0, 0.0), body=(0.0, 0.0, 0.0))
        return self._params[subject]

    def _render(self, params: Any, tile: int) -> tuple[np.ndarray, np.ndarray]:
        from unittest import mock

        def plain(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
            return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8), {}

        with mock.patch.object(self._r, "camera_effects", plain):
            img, pts, _ = self._r.render_params(params, tile)
        return img, pts.astype(np.float64)

    def __call__(self, canvas: np.ndarray, state: FaceState) -> tuple[np.ndarray, HeadPose, np.ndarray]:
        h, w = canvas.shape[:2]
        tile = int(max(160, round(state.iod * 3.6 / 2) * 2))
        params = replace(self._base(state.subject), yaw=state.yaw, pitch=state.pitch, roll=state.roll,
                         face_frac=state.iod / (self.IOD_PER_FACE * tile))
        img, pts = self._render(params, tile)
        x0, y0 = int(round(state.cx - tile / 2)), int(round(state.cy - tile / 2))
        pts = pts + (x0, y0)
        mask, _ = face_mask(pts - (x0, y0), (tile, tile), grow=0.06)
        alpha = cv2.GaussianBlur(mask, (0, 0), 1.5).astype(np.float32)[..., None] / 255.0
        # paste the tile's visible part
        fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x0 + tile, w), min(y0 + tile, h)
        full = np.zeros((h, w), bool)
        if fx1 > fx0 and fy1 > fy0:
            t = (slice(fy0 - y0, fy1 - y0), slice(fx0 - x0, fx1 - x0))
            region = canvas[fy0:fy1, fx0:fx1].astype(np.float32)
            a = alpha[t]
            canvas[fy0:fy1, fx0:fx1] = (region * (1 - a) + img[t].astype(np.float32) * a + 0.5).astype(np.uint8)
            full[fy0:fy1, fx0:fx1] = mask[t] > 127
        _, pose = face_points(state, (w, h))
        return pts, pose, full


def make_painter(name: str, seed: int = 0) -> Painter:
    """``flat`` or ``synth`` (see the module docstring)."""
    if name == "flat":
        return paint_flat
    if name == "synth":
        return SynthPainter(seed)
    raise ValueError(f"unknown face renderer {name!r}; use flat or synth")
