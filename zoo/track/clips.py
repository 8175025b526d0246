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

Faces are painted by ``zoo.track.faces``: ``renderer="flat"`` (fast, cartoon-like; tests and the
demo) or ``"synth"`` (the training renderer's faces, about 0.1-0.3 s a face; the benchmark).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .faces import FaceState, Painter, make_painter
from .geometry import crop_from_landmarks

FPS = 30.0
STILL_FRACTION = 0.2
RENDERERS = ("flat", "synth")


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
                 grain: list[tuple[np.ndarray, np.ndarray]], paint: Painter) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """One RGB frame of a scenario and its ground-truth faces (list of dicts, ``frames.jsonl``)."""
    h, w = background.shape[:2]
    canvas = background.copy()
    faces = []
    for st in sorted(SCENARIOS[scenario](i, n, (w, h)), key=lambda s: s.depth):
        pts, pose, mask = paint(canvas, st)
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


def iter_clip(frames: int, scenario: str, seed: int, size: tuple[int, int] = (640, 480), renderer: str = "flat"):
    """Yield (index, t, frame_rgb, ground-truth record) without writing anything."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if frames < 2:
        raise ValueError(f"a clip needs at least 2 frames, not {frames}")
    paint = make_painter(renderer, seed)
    rng = np.random.default_rng(seed)
    bg = _background(rng, size)
    grain = _grain(rng, bg.shape)
    still_end = int(frames * STILL_FRACTION)
    for i in range(frames):
        image, faces = render_frame(scenario, i, frames, bg, rng, grain, paint)
        yield i, i / FPS, image, {"frame": i, "t": round(i / FPS, 4), "still": 0 < i < still_end, "faces": faces}


def render_clip(out: str | Path, frames: int, scenario: str, seed: int, size: tuple[int, int] = (640, 480),
                renderer: str = "flat") -> Path:
    """Write ``out/clip.mp4`` (mp4v, 30 fps) and ``out/frames.jsonl``; returns the mp4 path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    video = out / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), FPS, size)
    if not writer.isOpened():
        raise OSError(f"cannot write video {video}: OpenCV has no mp4v encoder here")
    try:
        with open(out / "frames.jsonl", "w", encoding="utf-8") as f:
            for _, _, image, record in iter_clip(frames, scenario, seed, size, renderer):
                writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
                f.write(json.dumps({"scenario": scenario, "seed": seed, "renderer": renderer, **record}) + "\n")
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


def iter_photo_clip(image_path: str | Path, landmarks: np.ndarray, frames: int = 90, seed: int = 0,
                    size: tuple[int, int] = (640, 480), iod: float = 70.0, border: int = cv2.BORDER_REFLECT):
    """A real photo moved like a video: still, then panned, zoomed (+-15%) and rolled (+-12 degrees).

    Yields (index, t, frame_rgb, ground truth) like ``iter_clip``; the ground truth is the photo's
    own annotation carried through each frame's similarity transform, so tracking can be scored on
    real faces (``zoo.track.benchmark``). Nothing is written: the photos stay where they are.
    ``border``: how the frame is filled beyond the photo; the default mirrors it, which can mirror a
    face too (harmless when tracks start from ground truth; a real detector finds the mirrored face, so
    ``photos.iter_cut_clip`` replicates the edge pixels instead).
    """
    image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read photo {image_path}")
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    pts = np.asarray(landmarks, np.float64)
    centre = pts.mean(0)
    base = iod / max(float(np.linalg.norm(pts[36] - pts[45])), 1e-6)
    rng = np.random.default_rng(seed)
    w, h = size
    still_end = int(frames * STILL_FRACTION)
    for i in range(frames):
        q = _moving(i, frames)
        angle = 12 * math.sin(2 * math.pi * q)
        scale = base * (1 + 0.15 * math.sin(4 * math.pi * q))
        m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
        shift = (w / 2 + 0.19 * w * math.sin(2 * math.pi * q), h / 2 + 0.08 * h * math.sin(4 * math.pi * q))
        m[:, 2] += (shift[0] - centre[0], shift[1] - centre[1])
        frame = cv2.warpAffine(image, m, size, flags=cv2.INTER_LINEAR, borderMode=border)
        frame = np.clip(frame + rng.standard_normal(frame.shape, dtype=np.float32) * 2.0, 0, 255).astype(np.uint8)
        gt = pts @ m[:, :2].T + m[:, 2]
        face = {"id": 0, "subject": 0, "iod": float(np.linalg.norm(gt[36] - gt[45])), "landmarks": gt,
                "box": crop_from_landmarks(gt).tolist(), "visible": 1.0}
        yield i, i / FPS, frame, {"frame": i, "t": round(i / FPS, 4), "still": 0 < i < still_end, "faces": [face]}
