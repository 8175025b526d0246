"""Contact sheets: what a dataset looks like, one tile per face, sorted by yaw.

A reader judges a renderer (or a dataset) by looking at it: the sheet spreads its tiles evenly
over the yaw range the dataset covers, draws every landmark and contour on the same crop the
models see (the 1.5x inference crop) and writes the yaw under each tile, so a flipped index, a
drifting pupil or a missing profile shows at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from zoo.data.dataset import crop_and_resize, crop_box
from zoo.data.formats import Sample
from zoo.data.images import decode
from zoo.landmarks import CONTOURS, PUPILS

LABEL_H = 18
_CONTOUR = (80, 230, 120)
_POINT = (255, 255, 255)
_PUPIL = (255, 70, 70)
_RIGHT_EYE = (255, 200, 40)  # the subject's right eye (points 36-41): shows a bad flip at once


def sample_yaw(sample: Sample, image_size: tuple[int, int] | None = None) -> tuple[float | None, bool]:
    """(yaw in degrees, whether it was estimated): metadata first, else solvePnP on the 68 points."""
    pose = sample.pose
    if pose is not None:
        return pose[0], False
    if sample.landmarks is None or len(sample.landmarks) < 68:
        return None, False
    try:
        from zoo.pose import estimate_pose
    except ImportError:
        return None, False
    if image_size is None:
        image_size = tuple(decode(sample.image_path).shape[1::-1])
    return float(estimate_pose(np.asarray(sample.landmarks[:68], np.float64), image_size).yaw), True


def pick_by_yaw(yaws: Sequence[float], n: int) -> list[int]:
    """Indices of up to ``n`` items spread evenly over the yaw range (nearest unused to each target)."""
    order = np.argsort(yaws)
    if len(order) <= n:
        return order.tolist()
    values = np.asarray(yaws, dtype=np.float64)[order]
    chosen: list[int] = []
    used = np.zeros(len(order), bool)
    for target in np.linspace(values[0], values[-1], n):
        free = np.flatnonzero(~used)
        k = free[np.argmin(np.abs(values[free] - target))]
        used[k] = True
        chosen.append(int(order[k]))
    return sorted(chosen, key=lambda i: yaws[i])


def draw_tile(image_bgr: np.ndarray, landmarks: np.ndarray, size: int, label: str) -> np.ndarray:
    """The inference crop of one face with its points and contours, and ``label`` underneath (RGB)."""
    crop, m = crop_and_resize(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB), crop_box(landmarks), size)
    pts = landmarks @ m[:, :2].T + m[:, 2]
    shift = 4  # sub-pixel drawing
    fixed = np.round(pts * (1 << shift)).astype(np.int32)
    for start, stop, closed in CONTOURS:
        if stop <= len(pts):
            cv2.polylines(crop, [fixed[start:stop]], closed, _CONTOUR, 1, cv2.LINE_AA, shift)
    for k, p in enumerate(fixed):
        colour = _PUPIL if k in PUPILS else _RIGHT_EYE if 36 <= k < 42 else _POINT
        cv2.circle(crop, tuple(int(v) for v in p), 5 << (shift - 2), colour, -1, cv2.LINE_AA, shift)
    strip = np.full((LABEL_H, size, 3), 24, np.uint8)
    cv2.putText(strip, label, (4, LABEL_H - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (235, 235, 235), 1, cv2.LINE_AA)
    return np.vstack([crop, strip])


def contact_sheet(samples: Sequence[Sample], n: int = 48, tile: int = 128, cols: int = 8,
                  candidates: int = 10, seed: int = 0) -> tuple[np.ndarray, list[float | None]]:
    """(RGB sheet, yaws shown): up to ``n`` faces spread over the yaw range, in yaw order.

    Yaw comes from the metadata when the dataset has it; otherwise it is estimated for a random
    subset of ``candidates * n`` faces (solvePnP is the slow part) and the label says "(est.)".
    """
    faces = [s for s in samples if s.is_face and s.landmarks is not None]
    rng = np.random.default_rng(seed)
    if len(faces) > candidates * n:
        faces = [faces[i] for i in sorted(rng.choice(len(faces), candidates * n, replace=False))]
    yaws = [sample_yaw(s) for s in faces]
    known = [i for i, (y, _) in enumerate(yaws) if y is not None]
    unknown = [i for i, (y, _) in enumerate(yaws) if y is None]
    picked = [known[i] for i in pick_by_yaw([yaws[i][0] for i in known], n)] + unknown[: max(0, n - len(known))]
    tiles, shown = [], []
    for i in picked:
        yaw, estimated = yaws[i]
        label = "yaw ?" if yaw is None else f"yaw {yaw:+.0f}{' (est.)' if estimated else ''}"
        try:
            tiles.append(draw_tile(decode(faces[i].image_path), np.asarray(faces[i].landmarks, np.float64), tile, label))
        except Exception:  # an unreadable image is `zoo data check`'s to report; the sheet skips it
            continue
        shown.append(yaw)
    if not tiles:
        return np.zeros((0, 0, 3), np.uint8), []
    cols = min(cols, len(tiles))
    blank = np.zeros_like(tiles[0])
    tiles += [blank] * (-len(tiles) % cols)
    rows = [np.hstack(tiles[r:r + cols]) for r in range(0, len(tiles), cols)]
    return np.vstack(rows), shown
