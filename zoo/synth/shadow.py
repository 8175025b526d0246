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

from zoo.synth.kernels import light_space, shadow_lookup, splat_max

CELL_MM = 2.0
_KERNEL = np.ones((3, 3), np.uint8)


def _basis(key_dir: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An orthonormal frame (u, v, w) with w toward the light."""
    w = key_dir / np.linalg.norm(key_dir)
    a = (0.0, 1.0, 0.0) if abs(w[1]) < 0.9 else (1.0, 0.0, 0.0)
    u = np.array([a[1] * w[2] - a[2] * w[1], a[2] * w[0] - a[0] * w[2], a[0] * w[1] - a[1] * w[0]])
    u /= np.linalg.norm(u)
    return u, np.array([w[1] * u[2] - w[2] * u[1], w[2] * u[0] - w[0] * u[2], w[0] * u[1] - w[1] * u[0]]), w


def key_visibility(occluders: np.ndarray, points: np.ndarray, normals: np.ndarray, key_dir: np.ndarray) -> np.ndarray:
    """Fraction (0..1) of the key light reaching each point, from occluder points (all camera space, mm)."""
    u, v, w = _basis(np.asarray(key_dir, np.float64))
    occ = light_space(occluders, u, v, w)
    ou, ov = occ[:, 0], occ[:, 1]  # (column reductions: .min(0) over a strided [N,2] view is ten times slower)
    lo = np.array([ou.min(), ov.min()]) - 2 * CELL_MM
    shape = np.ceil((np.array([ou.max(), ov.max()]) + 2 * CELL_MM - lo) / CELL_MM).astype(int) + 1
    if shape.max() > 512:  # degenerate light direction: do not shadow rather than allocate a huge map
        return np.ones(len(points), np.float32)
    height = np.full((shape[1], shape[0]), -1e9, np.float32)
    splat_max(height, occ, lo[0], lo[1], CELL_MM)
    for _ in range(2):  # close holes between splats without growing the casters' outlines
        height = np.where(height < -1e8, cv2.dilate(height, _KERNEL), height)
    return shadow_lookup(height, light_space(points, u, v, w), normals, w, lo[0], lo[1], CELL_MM)
