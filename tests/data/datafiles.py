"""Writers of tiny landmark datasets (each format the readers know) for the data tests."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from zoo.pose import HeadPose, project_points


def face_points(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, size: int = 200) -> np.ndarray:
    """70 landmarks of the mean face seen at a pose: 68 projected points + the two eye centres as pupils."""
    pts = project_points(HeadPose.from_angles(yaw, pitch, roll, np.array([0.0, 0.0, 300.0])), (size, size))
    pupils = np.stack([pts[36:42].mean(axis=0), pts[42:48].mean(axis=0)])
    return np.concatenate([pts, pupils]).astype(np.float32)


def noise_image(size: int = 200, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 200, (size, size, 3), dtype=np.uint8)


def write_fs(folder: Path, name: str, points: np.ndarray, image: np.ndarray | None = None, meta: dict | None = None) -> Path:
    """FaceSynthetics layout: NAME.png + NAME_ldmks.txt (+ NAME_meta.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    cv2.imwrite(str(path), noise_image() if image is None else image)
    (folder / f"{name}_ldmks.txt").write_text("".join(f"{x} {y}\n" for x, y in points))
    if meta is not None:
        (folder / f"{name}_meta.json").write_text(json.dumps(meta))
    return path


def write_300w(folder: Path, name: str, points0: np.ndarray, image: np.ndarray | None = None) -> Path:
    """300-W layout: NAME.jpg + NAME.pts with 1-based coordinates (``points0`` are 0-based)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.jpg"
    cv2.imwrite(str(path), noise_image() if image is None else image)
    body = "".join(f"{x + 1:.3f} {y + 1:.3f}\n" for x, y in points0)
    (folder / f"{name}.pts").write_text(f"version: 1\nn_points:  {len(points0)}\n{{\n{body}}}\n")
    return path
