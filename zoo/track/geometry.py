"""Box geometry the tracker, detectors, clips and benchmark share: the model's crop and IoU."""

from __future__ import annotations

import numpy as np


def crop_from_landmarks(landmarks: np.ndarray, scale: float = 1.5) -> np.ndarray:
    """The model's inference crop: a square ``scale`` times the landmark box, on its centre.

    The same box as ``zoo.data.dataset.crop_box(landmarks, None)`` (the crop the models are
    trained around), computed here without importing the training pipeline.
    """
    lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
    c, half = (lo + hi) / 2, scale * float(np.max(hi - lo)) / 2
    return np.array([c[0] - half, c[1] - half, c[0] + half, c[1] + half], dtype=np.float64)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes ``a`` [N,4] and ``b`` [M,4] (x1, y1, x2, y2)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda r: (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)
