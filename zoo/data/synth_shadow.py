"""Cast shadows of the key light (nose on the cheek, brow over the eye, chin on the neck, hair on
the forehead) without a second rasterisation pass.

The occluders' vertices are splatted into a light-space height map (the point nearest the light
wins per cell, holes closed by a max filter); a visible pixel is shadowed when something in its
cell lies clearly nearer the light. Percentage-closer filtering over the four nearest cells
softens the edges, like the penumbra of a real, not point-like, light.
"""

from __future__ import annotations

import cv2
import numpy as np

CELL_MM = 2.0


def _basis(key_dir: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = key_dir / np.linalg.norm(key_dir)
    a = np.array([0.0, 1.0, 0.0]) if abs(w[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(a, w)
    u /= np.linalg.norm(u)
    return u, np.cross(w, u), w


def key_visibility(occluders: np.ndarray, points: np.ndarray, normals: np.ndarray, key_dir: np.ndarray) -> np.ndarray:
    """Fraction (0..1) of the key light reaching each point, from occluder points (all camera space, mm)."""
    u, v, w = _basis(np.asarray(key_dir, np.float64))
    occ = np.stack([occluders @ u, occluders @ v, occluders @ w], 1)
    lo = occ[:, :2].min(0) - 2 * CELL_MM
    shape = np.ceil((occ[:, :2].max(0) + 2 * CELL_MM - lo) / CELL_MM).astype(int) + 1
    if shape.max() > 512:  # degenerate light direction: do not shadow rather than allocate a huge map
        return np.ones(len(points), np.float32)
    cx = ((occ[:, 0] - lo[0]) / CELL_MM).astype(int)
    cy = ((occ[:, 1] - lo[1]) / CELL_MM).astype(int)
    height = np.full((shape[1], shape[0]), -1e9, np.float32)
    np.maximum.at(height, (cy, cx), occ[:, 2].astype(np.float32))
    for _ in range(2):  # close holes between splats without growing the casters' outlines
        height = np.where(height < -1e8, cv2.dilate(height, np.ones((3, 3), np.uint8)), height)
    p = np.stack([points @ u, points @ v, points @ w], 1)
    fx = (p[:, 0] - lo[0]) / CELL_MM - 0.5
    fy = (p[:, 1] - lo[1]) / CELL_MM - 0.5
    x0, y0 = np.floor(fx).astype(int), np.floor(fy).astype(int)
    tx, ty = fx - x0, fy - y0
    cos = np.clip(np.abs(normals @ w), 0.05, 1.0)
    bias = 4.0 + np.minimum(5.0 * np.sqrt(1 - cos * cos) / cos, 15.0)  # slope-scaled: grazing surfaces need more
    lit = np.zeros(len(points))
    for dx, dy, wt in ((0, 0, (1 - tx) * (1 - ty)), (1, 0, tx * (1 - ty)), (0, 1, (1 - tx) * ty), (1, 1, tx * ty)):
        xi = np.clip(x0 + dx, 0, shape[0] - 1)
        yi = np.clip(y0 + dy, 0, shape[1] - 1)
        lit += wt * (height[yi, xi] <= p[:, 2] + bias)
    return lit.astype(np.float32)
