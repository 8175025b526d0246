"""The landmark scheme every part of zoo agrees on.

70 points in FaceSynthetics order: the 68 iBUG/300-W points followed by the two pupils.
Indices are defined here and only here, so that flipping, per-part loss weights, NME
normalisation and drawing can never disagree about which point is which.
"""

from __future__ import annotations

import numpy as np

NUM_LANDMARKS = 70
NUM_LANDMARKS_68 = 68

#: Named parts as half-open index ranges (start, stop).
PARTS: dict[str, tuple[int, int]] = {
    "jaw": (0, 17),
    "brows": (17, 27),
    "nose": (27, 36),
    "eyes": (36, 48),
    "mouth": (48, 68),
    "pupils": (68, 70),
}

#: Outer eye corners; their distance normalises NME (inter-ocular).
OUTER_EYE_CORNERS: tuple[int, int] = (36, 45)

#: Pupils: 68 sits in the eye drawn from points 36-41 (the subject's right eye).
PUPILS: tuple[int, int] = (68, 69)

#: Contours drawn as polylines: (start, stop, closed).
CONTOURS: tuple[tuple[int, int, bool], ...] = (
    (0, 17, False),  # jaw
    (17, 22, False),  # right brow
    (22, 27, False),  # left brow
    (27, 31, False),  # nose bridge
    (31, 36, False),  # nostrils
    (36, 42, True),  # right eye
    (42, 48, True),  # left eye
    (48, 60, True),  # outer lips
    (60, 68, True),  # inner lips
)

_MIRROR_PAIRS_68: tuple[tuple[int, int], ...] = (
    *((i, 16 - i) for i in range(8)),  # jaw
    (17, 26), (18, 25), (19, 24), (20, 23), (21, 22),  # brows
    (31, 35), (32, 34),  # nostrils
    (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46),  # eyes
    (48, 54), (49, 53), (50, 52), (55, 59), (56, 58),  # outer lips
    (60, 64), (61, 63), (65, 67),  # inner lips
)


def mirror_pairs(num_points: int = NUM_LANDMARKS) -> tuple[tuple[int, int], ...]:
    """Index pairs that swap under a horizontal flip (left and right change names)."""
    _check_count(num_points)
    pairs = _MIRROR_PAIRS_68
    if num_points == NUM_LANDMARKS:
        pairs = (*pairs, PUPILS)
    return pairs


def flip_permutation(num_points: int = NUM_LANDMARKS) -> np.ndarray:
    """Permutation to apply to points after mirroring an image: ``flipped = pts[perm]``."""
    perm = np.arange(num_points)
    for a, b in mirror_pairs(num_points):
        perm[a], perm[b] = b, a
    return perm


def part_index(num_points: int = NUM_LANDMARKS) -> np.ndarray:
    """For each point, the index of its part in ``PARTS`` order (for per-part weights)."""
    _check_count(num_points)
    out = np.empty(num_points, dtype=np.int64)
    for k, (start, stop) in enumerate(PARTS.values()):
        if start < num_points:
            out[start:min(stop, num_points)] = k
    return out


def part_weights(weights: dict[str, float], num_points: int = NUM_LANDMARKS) -> np.ndarray:
    """Per-point weights from per-part weights; unnamed parts weigh 1."""
    unknown = set(weights) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown landmark part(s) {sorted(unknown)}; known parts: {list(PARTS)}")
    per_part = np.array([weights.get(name, 1.0) for name in PARTS], dtype=np.float32)
    return per_part[part_index(num_points)]


def interocular(points: np.ndarray) -> np.ndarray:
    """Outer-eye-corner distance for ``[..., K, 2]`` points (K >= 68)."""
    a, b = OUTER_EYE_CORNERS
    return np.linalg.norm(points[..., a, :] - points[..., b, :], axis=-1)


def eye_frame(points: np.ndarray, eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin [N,1,2], unit x axis [N,1,2], unit length [N,1,1]) of ``[N,P,2]`` points: origin between the
    outer eye corners, x along 36 -> 45, unit = their distance (``eps`` keeps it finite). The frame in which
    ``zoo adapt`` fits its maps and ``zoo data check --against`` compares shapes; ``zoo.architectures.adapter``
    is its torch twin inside the graph."""
    a, b = OUTER_EYE_CORNERS
    left, right = points[:, a:a + 1], points[:, b:b + 1]
    d = right - left
    unit = np.sqrt((d * d).sum(-1, keepdims=True) + eps)
    return (left + right) * 0.5, d / unit, unit


def to_frame(points: np.ndarray, frame: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """``[N,P,2]`` points in the eye ``frame`` of ``eye_frame``."""
    origin, axis, unit = frame
    q = points - origin
    cx, cy = axis[..., 0:1], axis[..., 1:2]
    return np.concatenate([(q[..., 0:1] * cx + q[..., 1:2] * cy) / unit, (q[..., 1:2] * cx - q[..., 0:1] * cy) / unit], -1)


def from_frame(local: np.ndarray, frame: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Inverse of ``to_frame``."""
    origin, axis, unit = frame
    cx, cy = axis[..., 0:1], axis[..., 1:2]
    u, v = local[..., 0:1] * unit, local[..., 1:2] * unit
    return np.concatenate([u * cx - v * cy, u * cy + v * cx], -1) + origin


def _check_count(num_points: int) -> None:
    if num_points not in (NUM_LANDMARKS, NUM_LANDMARKS_68):
        raise ValueError(f"zoo knows 68- and 70-point schemes, not {num_points} points")
