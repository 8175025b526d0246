"""Real-photo video scenarios with ground truth: a cut between two people, a crowd, low light.

The faces come from annotated photos (``../shared/data/real/lfpw-train`` at run time; nothing is
copied into the project or written to disk). Each generator yields ``(index, t, rgb, ground truth)``
like ``clips.iter_clip``, so ``benchmark.track_sequence`` scores them the same way:

* ``iter_cut_clip``: one person's photo moved like video, then a hard cut to another person's photo
  at the same place in the frame. The ground-truth id changes at the cut (``"cut": true`` marks it):
  a tracker that keeps its id there has merged two people.
* ``iter_crowd_clip``: several faces from different photos pasted at 30-120 px wide into one frame,
  each drifting and breathing in scale; the detector has to find the small ones.
* ``lowlight``: any frame darkened (gamma 1.6, a third of the brightness) with sensor noise (sigma 6).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .clips import FPS, STILL_FRACTION, _background, _in_frame, _moving, iter_photo_clip
from .geometry import crop_from_landmarks

Frame = tuple[int, float, np.ndarray, dict[str, Any]]
#: paste a face this many times its landmark box (enough forehead and chin for the detectors).
PATCH_SCALE = 1.6


def real_folder() -> Path:
    """``../shared/data/real/lfpw-train`` beside the project (may not exist)."""
    from .model import FDFAT_LW

    return FDFAT_LW.parents[3] / "data" / "real" / "lfpw-train"


def pick_samples(folder: Path | None = None, count: int = 10, offset: int = 0) -> list[Any]:
    """``count`` annotated faces spread evenly over the folder (``zoo.data.formats.Sample``); [] without it."""
    from zoo.data.formats import read_300w

    folder = folder or real_folder()
    if not folder.is_dir():
        return []
    samples = read_300w(folder)
    step = max(1, len(samples) // max(count, 1))
    return [samples[(offset + k * step) % len(samples)] for k in range(min(count, len(samples)))]


def lowlight(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A dim, noisy version of a frame: what a phone camera gives indoors at night."""
    x = (rgb.astype(np.float32) / 255.0) ** 1.6 * (255.0 / 3.0)
    x += rng.standard_normal(x.shape, dtype=np.float32) * 6.0
    return np.clip(x, 0, 255).astype(np.uint8)


def iter_cut_clip(first: Any, second: Any, frames: int = 60, cut: int | None = None, seed: int = 0,
                  dark: bool = False) -> Iterator[Frame]:
    """``first``'s photo moved like video, then at frame ``cut`` (default: the middle) ``second``'s.

    Both photos are placed by the same motion, so right after the cut the new face sits where the
    old one was: the case where a tracker re-cropping from the last landmarks carries the old id on.
    """
    cut = frames // 2 if cut is None else cut
    a = iter_photo_clip(first.image_path, first.landmarks, frames, seed, border=cv2.BORDER_REPLICATE)
    b = iter_photo_clip(second.image_path, second.landmarks, frames, seed + 1, border=cv2.BORDER_REPLICATE)
    rng = np.random.default_rng(seed)
    for (i, t, img_a, gt_a), (_, _, img_b, gt_b) in zip(a, b, strict=True):
        img, gt = (img_a, gt_a) if i < cut else (img_b, gt_b)
        faces = [{**f, "id": 0 if i < cut else 1} for f in gt["faces"]]
        yield i, t, lowlight(img, rng) if dark else img, {**gt, "faces": faces, "cut": i == cut, "still": gt["still"] and i < cut}


def _patch(sample: Any, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The face of ``sample`` scaled so its landmark box is ``width`` px wide: (patch RGB, landmarks in it)."""
    image = cv2.imread(str(sample.image_path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read photo {sample.image_path}")
    pts = np.asarray(sample.landmarks, np.float64)
    box = crop_from_landmarks(pts, PATCH_SCALE)
    s = width / max(float(np.ptp(pts[:, 0])), 1e-6)
    side = int(round((box[2] - box[0]) * s))
    m = np.array([[s, 0, -box[0] * s], [0, s, -box[1] * s]], np.float64)
    patch = cv2.warpAffine(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), m, (side, side), flags=cv2.INTER_AREA,
                           borderMode=cv2.BORDER_REFLECT)
    return patch, pts * s + m[:, 2]


def _paste(canvas: np.ndarray, patch: np.ndarray, x0: int, y0: int) -> None:
    """Blend ``patch`` in at (x0, y0) through a soft ellipse (no hard square edge for a detector to key on)."""
    side = patch.shape[0]
    mask = np.zeros((side, side), np.float32)
    cv2.ellipse(mask, (side // 2, side // 2), (int(side * 0.42), int(side * 0.48)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), side * 0.04 + 0.5)[..., None]
    h, w = canvas.shape[:2]
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    sub = (slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0))
    region = canvas[cy0:cy1, cx0:cx1].astype(np.float32)
    canvas[cy0:cy1, cx0:cx1] = (region * (1 - mask[sub]) + patch[sub].astype(np.float32) * mask[sub]).astype(np.uint8)


def crowd_layout(count: int, size: tuple[int, int]) -> list[tuple[float, float]]:
    """Face centres on a loose grid (two rows), so faces up to 120 px wide never overlap."""
    w, h = size
    top = (count + 1) // 2
    centres = []
    for k in range(count):
        row, col = (0, k) if k < top else (1, k - top)
        n = top if row == 0 else count - top
        centres.append(((col + 0.5) * w / n, (0.3 + 0.42 * row) * h))
    return centres


def iter_crowd_clip(samples: Sequence[Any], frames: int = 60, seed: int = 0, size: tuple[int, int] = (640, 480),
                    widths: Sequence[float] | None = None, dark: bool = False, motion: float = 1.0) -> Iterator[Frame]:
    """``samples``' faces pasted into one frame at ``widths`` px (default: spread over 30-120), drifting.

    Ground truth per face: its landmarks carried through the paste, its box, ``iod`` and ``visible``
    (the share of its landmarks inside the frame). ``motion=0`` holds every face still.
    """
    rng = np.random.default_rng(seed)
    n = len(samples)
    widths = list(widths) if widths is not None else list(np.linspace(30, 120, n)[rng.permutation(n)])
    bg = _background(rng, size)
    base = [_patch(s, wd) for s, wd in zip(samples, widths, strict=True)]
    centres = crowd_layout(n, size)
    phase = rng.uniform(0, 2 * math.pi, (n, 3))
    still_end = int(frames * STILL_FRACTION)
    for i in range(frames):
        q = _moving(i, frames)
        canvas = bg.copy()
        faces = []
        for k, ((patch, pts), (cx, cy)) in enumerate(zip(base, centres, strict=True)):
            zoom = 1.0 + 0.12 * motion * math.sin(2 * math.pi * q + phase[k, 2])
            p = cv2.resize(patch, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA) if zoom != 1.0 else patch
            dx = 0.06 * size[0] * motion * math.sin(2 * math.pi * q + phase[k, 0])
            dy = 0.04 * size[1] * motion * math.sin(4 * math.pi * q + phase[k, 1])
            x0, y0 = int(round(cx + dx - p.shape[0] / 2)), int(round(cy + dy - p.shape[0] / 2))
            _paste(canvas, p, x0, y0)
            lm = pts * (p.shape[0] / patch.shape[0]) + (x0, y0)
            inside = _in_frame(lm, *size)
            faces.append({"id": k, "subject": k, "iod": float(np.linalg.norm(lm[36] - lm[45])), "landmarks": lm,
                          "box": crop_from_landmarks(lm).tolist(), "visible": float(inside.mean()),
                          "width": float(np.ptp(lm[:, 0]))})
        canvas = np.clip(canvas.astype(np.int16) + rng.integers(-3, 4, canvas.shape, dtype=np.int16), 0, 255).astype(np.uint8)
        if dark:
            canvas = lowlight(canvas, rng)
        yield i, i / FPS, canvas, {"frame": i, "t": round(i / FPS, 4), "still": 0 < i < still_end, "faces": faces}
