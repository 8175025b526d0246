"""Rendered video clips with per-frame ground truth, for tracker tests and the tracking benchmark.

``render_clip(out, frames, scenario, seed)`` writes ``out/clip.mp4`` and ``out/frames.jsonl``
(one line per frame: every face's 70 landmarks in pixels, its pose, its box, how much of it is
visible, ``iod`` (its inter-ocular distance in pixels were it frontal: the NME normaliser that
does not collapse at profile), and whether the frame is part of a still segment). Every scenario starts with a still
segment, where only sensor noise changes, so landmark jitter can be measured on it.

Scenarios (``SCENARIOS``): ``yaw_sweep`` (a slow turn to +-80 degrees), ``fast_motion``,
``hand_pass`` (a hand passes in front of the face), ``crossing`` (two faces cross; the nearer
one hides part of the other), ``leave_return`` (the face walks out of frame and comes back;
the return is a new ``id`` in the ground truth, as a tracker should report it).

Faces are drawn by ``render_face_into``, the one place that talks to a face renderer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from zoo.landmarks import CONTOURS, interocular
from zoo.pose import MEAN_FACE_68, HeadPose, project_points

from .tracker import crop_from_landmarks

FPS = 30.0
STILL_FRACTION = 0.2
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


# ---------------------------------------------------------------------------- renderer adapter
def face_points(state: FaceState, size: tuple[int, int]) -> tuple[np.ndarray, HeadPose]:
    """Ground-truth 70 landmarks (68 projected mean-face points + pupils) and the head pose."""
    f = float(size[0])
    z = f * MEAN_IOD_MM / state.iod
    tvec = np.array([(state.cx - size[0] / 2) * z / f, (state.cy - size[1] / 2) * z / f, z])
    pose = HeadPose.from_angles(state.yaw, state.pitch, state.roll, tvec)
    pts = project_points(pose, size)
    pupils = np.stack([pts[36:42].mean(0), pts[42:48].mean(0)])
    return np.concatenate([pts, pupils]).astype(np.float64), pose


def _palette(subject: int) -> dict[str, tuple[int, int, int]]:
    rng = np.random.default_rng(1000 + subject)
    tone = rng.uniform(0.35, 1.0)
    skin = tuple(int(v) for v in np.array([235, 190, 160]) * tone + np.array([20, 15, 10]))
    hair = tuple(int(v) for v in rng.integers(10, 90, 3))
    lips = tuple(int(v) for v in (np.array(skin) * np.array([0.85, 0.5, 0.5])).astype(int))
    return {"skin": skin, "hair": hair, "lips": lips, "shade": tuple(int(v * 0.75) for v in skin)}


def render_face_into(canvas: np.ndarray, state: FaceState) -> tuple[np.ndarray, HeadPose, np.ndarray]:
    """Draw a face in place on an RGB canvas; returns (landmarks [70,2], pose, face mask).

    This is the adapter to the face renderer: until ``zoo.data.synth`` offers an entry point
    that renders a given identity at a given pose and position into a given background, it
    draws a flat-shaded face from the projected mean face, with the same landmark geometry.
    """
    h, w = canvas.shape[:2]
    pts, pose = face_points(state, (w, h))
    col = _palette(state.subject)
    up = pts[27] - pts[8]  # chin -> nose bridge
    forehead = pts[17:27] + 0.45 * up
    hull = cv2.convexHull(np.round(np.concatenate([pts[:17], forehead])).astype(np.int32))
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, hull, 255, cv2.LINE_AA)
    hair = cv2.convexHull(np.round(np.concatenate([forehead + 0.12 * up, pts[[0, 16]] + 0.35 * up])).astype(np.int32))
    cv2.fillConvexPoly(canvas, hair, col["hair"], cv2.LINE_AA)
    cv2.fillConvexPoly(canvas, hull, col["skin"], cv2.LINE_AA)
    cv2.fillConvexPoly(mask, hair, 255, cv2.LINE_AA)
    iod = max(float(interocular(pts)), 4.0)
    thick = max(1, round(iod * 0.05))
    draw = lambda a, b, closed, colour, t=thick: cv2.polylines(  # noqa: E731
        canvas, [np.round(pts[a:b] * 4).astype(np.int32)], closed, colour, t, cv2.LINE_AA, shift=2)
    cv2.polylines(canvas, [np.round(pts[:17] * 4).astype(np.int32)], False, col["shade"], thick, cv2.LINE_AA, shift=2)
    for a, b in ((36, 42), (42, 48)):
        cv2.fillPoly(canvas, [np.round(pts[a:b] * 4).astype(np.int32)], (235, 235, 230), cv2.LINE_AA, shift=2)
    for k in (68, 69):
        r = max(1, round(iod * 0.06))
        cv2.circle(canvas, tuple(np.round(pts[k]).astype(int)), r, (40, 30, 25), -1, cv2.LINE_AA)
    for a, b, closed in CONTOURS[1:5]:
        draw(a, b, closed, col["hair"] if a < 27 else col["shade"], thick * (2 if a < 27 else 1))
    cv2.fillPoly(canvas, [np.round(pts[48:60] * 4).astype(np.int32)], col["lips"], cv2.LINE_AA, shift=2)
    cv2.fillPoly(canvas, [np.round(pts[60:68] * 4).astype(np.int32)], (90, 30, 30), cv2.LINE_AA, shift=2)
    for a, b in ((36, 42), (42, 48)):
        draw(a, b, True, (60, 40, 30), max(1, thick // 2))
    return pts, pose, mask > 0


# ---------------------------------------------------------------------------- scenarios
def _ease(p: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * min(max(p, 0.0), 1.0))


def _moving(i: int, n: int) -> float:
    """Progress in [0, 1] through the part of the clip after the still segment (0 while still)."""
    s = int(n * STILL_FRACTION)
    return 0.0 if i < s else (i - s) / max(n - 1 - s, 1)


def _yaw_sweep(i: int, n: int, size: tuple[int, int]) -> list[FaceState]:
    p = _moving(i, n)
    yaw, pitch = 80 * math.sin(2 * math.pi * p), 5 * math.sin(4 * math.pi * p)
    return [FaceState(0, 0, size[0] / 2, size[1] / 2, 70, yaw=yaw, pitch=pitch)]


def _fast_motion(i: int, n: int, size: tuple[int, int]) -> list[FaceState]:
    p = _moving(i, n)
    w, h = size
    cx = w / 2 + 0.33 * w * math.sin(2 * math.pi * 2 * p)
    cy = h / 2 + 0.15 * h * math.sin(2 * math.pi * 3 * p)
    return [FaceState(0, 1, cx, cy, 60, yaw=25 * math.sin(2 * math.pi * p), roll=15 * math.sin(2 * math.pi * 2 * p))]


def _crossing(i: int, n: int, size: tuple[int, int]) -> list[FaceState]:
    p = _ease(_moving(i, n))
    w, h = size
    a = FaceState(0, 2, w * (0.25 + 0.5 * p), h * 0.42, 62, yaw=-20, depth=1)
    b = FaceState(1, 3, w * (0.75 - 0.5 * p), h * 0.58, 50, yaw=20, depth=0)
    return [a, b]


def _leave_return(i: int, n: int, size: tuple[int, int]) -> list[FaceState]:
    p = _moving(i, n)
    w, h = size
    if p < 0.4:  # walk out to the right
        cx, appearance = w / 2 + _ease(p / 0.4) * 0.85 * w, 0
    elif p < 0.6:
        return []
    else:  # come back in from the right and settle
        cx, appearance = w * 1.35 - _ease((p - 0.6) / 0.3) * 0.85 * w, 1
    return [FaceState(appearance, 4, cx, h / 2, 64, yaw=-15 if appearance else 15)]


def _hand_pass(i: int, n: int, size: tuple[int, int]) -> list[FaceState]:
    return [FaceState(0, 5, size[0] / 2, size[1] / 2, 66, yaw=10)]


def _hand(i: int, n: int, size: tuple[int, int]) -> tuple[float, float] | None:
    """Hand centre for ``hand_pass``: crosses the frame during the middle of the moving part."""
    p = _moving(i, n)
    if not 0.25 <= p <= 0.65:
        return None
    q = (p - 0.25) / 0.4
    return (-0.2 * size[0] + q * 1.4 * size[0], size[1] * 0.55)


SCENARIOS: dict[str, Callable[[int, int, tuple[int, int]], list[FaceState]]] = {
    "yaw_sweep": _yaw_sweep, "fast_motion": _fast_motion, "hand_pass": _hand_pass,
    "crossing": _crossing, "leave_return": _leave_return,
}


def _draw_hand(canvas: np.ndarray, centre: tuple[float, float], size: float) -> np.ndarray:
    mask = np.zeros(canvas.shape[:2], np.uint8)
    cx, cy = centre
    cv2.ellipse(mask, (int(cx), int(cy)), (int(size * 0.45), int(size * 0.55)), 10, 0, 360, 255, -1)
    for k in range(4):
        x = int(cx - size * 0.3 + k * size * 0.2)
        cv2.rectangle(mask, (x - int(size * 0.07), int(cy - size * 1.1)), (x + int(size * 0.07), int(cy - size * 0.3)), 255, -1)
    cv2.rectangle(mask, (int(cx - size * 0.25), int(cy + size * 0.4)), (int(cx + size * 0.25), int(cy + size * 1.6)), 255, -1)
    canvas[mask > 0] = (200, 150, 120)
    return mask > 0


def _background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    low = rng.uniform(40, 200, (6, 8, 3)).astype(np.float32)
    bg = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(12):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        colour = tuple(float(c) for c in rng.uniform(30, 220, 3))
        cv2.rectangle(bg, (x, y), (x + int(rng.integers(20, 120)), y + int(rng.integers(20, 120))), colour, -1)
    return np.clip(bg, 0, 255).astype(np.uint8)


def _grain(rng: np.random.Generator, shape: tuple[int, ...], count: int = 8) -> list[tuple[np.ndarray, np.ndarray]]:
    """A bank of sensor-noise frames (sigma 3) as (add, subtract) uint8 pairs: cheap per frame."""
    bank = []
    for _ in range(count):
        g = np.round(rng.standard_normal(shape, dtype=np.float32) * 3.0)
        bank.append((np.clip(g, 0, 255).astype(np.uint8), np.clip(-g, 0, 255).astype(np.uint8)))
    return bank


def render_frame(scenario: str, i: int, n: int, background: np.ndarray, noise: np.random.Generator,
                 grain: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """One RGB frame of a scenario and its ground-truth faces (list of dicts, ``frames.jsonl``)."""
    h, w = background.shape[:2]
    canvas = background.copy()
    faces = []
    for st in sorted(SCENARIOS[scenario](i, n, (w, h)), key=lambda s: s.depth):
        pts, pose, mask = render_face_into(canvas, st)
        for other in faces:  # nearer faces hide the points of those behind them
            other["_hidden"] |= _inside(mask, other["_pts"])
        faces.append({"id": st.id, "subject": st.subject, "iod": st.iod, "_pts": pts, "_pose": pose,
                      "_hidden": ~_in_frame(pts, w, h)})
    hand = _hand(i, n, (w, h)) if scenario == "hand_pass" else None
    if hand is not None:
        hmask = _draw_hand(canvas, hand, 150)
        for f in faces:
            f["_hidden"] |= _inside(hmask, f["_pts"])
    pos, neg = grain[int(noise.integers(len(grain)))]
    canvas = cv2.subtract(cv2.add(canvas, pos), neg)
    out = []
    for f in faces:
        pts, pose = f["_pts"], f["_pose"]
        out.append({"id": f["id"], "subject": f["subject"], "iod": f["iod"], "landmarks": np.round(pts, 3).tolist(),
                    "box": np.round(crop_from_landmarks(pts), 2).tolist(),
                    "pose": {"yaw": round(pose.yaw, 3), "pitch": round(pose.pitch, 3), "roll": round(pose.roll, 3)},
                    "visible": round(float(1.0 - f["_hidden"].mean()), 3)})
    return canvas, out


def _in_frame(pts: np.ndarray, w: int, h: int) -> np.ndarray:
    return (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)


def _inside(mask: np.ndarray, pts: np.ndarray) -> np.ndarray:
    h, w = mask.shape
    ok = _in_frame(pts, w, h)
    out = np.zeros(len(pts), bool)
    idx = np.round(pts[ok]).astype(int).clip(0, [w - 1, h - 1])
    out[ok] = mask[idx[:, 1], idx[:, 0]]
    return out


def iter_clip(frames: int, scenario: str, seed: int, size: tuple[int, int] = (640, 480)):
    """Yield (index, t, frame_rgb, ground-truth record) without writing anything."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if frames < 2:
        raise ValueError(f"a clip needs at least 2 frames, not {frames}")
    rng = np.random.default_rng(seed)
    bg = _background(rng, size)
    grain = _grain(rng, bg.shape)
    still_end = int(frames * STILL_FRACTION)
    for i in range(frames):
        image, faces = render_frame(scenario, i, frames, bg, rng, grain)
        yield i, i / FPS, image, {"frame": i, "t": round(i / FPS, 4), "still": 0 < i < still_end, "faces": faces}


def render_clip(out: str | Path, frames: int, scenario: str, seed: int, size: tuple[int, int] = (640, 480)) -> Path:
    """Write ``out/clip.mp4`` (mp4v, 30 fps) and ``out/frames.jsonl``; returns the mp4 path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    video = out / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), FPS, size)
    if not writer.isOpened():
        raise OSError(f"cannot write video {video}: OpenCV has no mp4v encoder here")
    try:
        with open(out / "frames.jsonl", "w", encoding="utf-8") as f:
            for _, _, image, record in iter_clip(frames, scenario, seed, size):
                writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
                f.write(json.dumps({"scenario": scenario, "seed": seed, **record}) + "\n")
    finally:
        writer.release()
    return video


def read_ground_truth(path: str | Path) -> list[dict[str, Any]]:
    """``frames.jsonl`` of a rendered clip, landmarks as arrays."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                for face in row["faces"]:
                    face["landmarks"] = np.asarray(face["landmarks"], np.float64)
                rows.append(row)
    return rows
