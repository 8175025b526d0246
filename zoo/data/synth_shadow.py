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

from zoo.data.synth_kernels import shadow_lookup, splat_max

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
    ou, ov, ow = occluders @ u, occluders @ v, occluders @ w
    lo = np.array([ou.min(), ov.min()]) - 2 * CELL_MM
    shape = np.ceil((np.array([ou.max(), ov.max()]) + 2 * CELL_MM - lo) / CELL_MM).astype(int) + 1
    if shape.max() > 512:  # degenerate light direction: do not shadow rather than allocate a huge map
        return np.ones(len(points), np.float32)
    cx = ((ou - lo[0]) / CELL_MM).astype(np.int64)
    cy = ((ov - lo[1]) / CELL_MM).astype(np.int64)
    height = np.full((shape[1], shape[0]), -1e9, np.float32)
    splat_max(height, cx, cy, ow.astype(np.float32))
    for _ in range(2):  # close holes between splats without growing the casters' outlines
        height = np.where(height < -1e8, cv2.dilate(height, np.ones((3, 3), np.uint8)), height)
    fx = (points @ u - lo[0]) / CELL_MM - 0.5
    fy = (points @ v - lo[1]) / CELL_MM - 0.5
    cos = np.clip(np.abs(normals @ w), 0.05, 1.0)
    bias = 4.0 + np.minimum(5.0 * np.sqrt(1 - cos * cos) / cos, 15.0)  # slope-scaled: grazing surfaces need more
    return shadow_lookup(height, fx, fy, points @ w, bias)
