"""Tiny datasets written on the fly in every format the readers know, good and broken."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from zoo.pose import HeadPose, project_points


def face_points(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, size: int = 200) -> np.ndarray:
    """70 landmarks of the mean face seen at a pose: 68 projected points + the two eye centres as pupils."""
    pts = project_points(HeadPose.from_angles(yaw, pitch, roll, np.array([0.0, 0.0, 300.0 * size / 200])), (size, size))
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


@pytest.fixture
def good_dataset(tmp_path: Path) -> Path:
    """A mixed dataset YAML: FaceSynthetics train (with meta), 300-W val, inline test, negatives."""
    root = tmp_path / "good"
    pts = face_points()
    for i in range(4):
        write_fs(root / "fs", f"{i:06d}", pts, meta={"yaw": 10.0 * i, "pitch": 0.0, "roll": 0.0})
    for i in range(2):
        write_300w(root / "w300", f"image_{i:04d}", pts[:68])
    (root / "neg").mkdir()
    for i in range(2):
        cv2.imwrite(str(root / "neg" / f"bg{i}.png"), noise_image(seed=10 + i))
    (root / "train.txt").write_text("".join(f"fs/{i:06d}.png\n" for i in range(3)))
    (root / "val.txt").write_text("# 300-W faces\nw300/image_0000.jpg\nw300/image_0001.jpg\n")
    (root / "negatives.txt").write_text("neg/bg0.png\nneg/bg1.png\n")
    yaml_text = "base_path: .\ntrain: train.txt\nval: val.txt\ntest: [fs/000003.png]\nnegatives: negatives.txt\n"
    (root / "data.yaml").write_text(yaml_text)
    return root / "data.yaml"


@pytest.fixture
def broken_dataset(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A dataset YAML with one of each problem; returns (yaml, {file name: expected words})."""
    root = tmp_path / "broken"
    pts = face_points()
    write_fs(root, "ok", pts)
    trunc = write_fs(root, "truncated", pts)
    trunc.write_bytes(trunc.read_bytes()[: len(trunc.read_bytes()) // 2])
    write_fs(root, "short", pts[:69])
    nan = pts.copy()
    nan[5] = np.nan
    write_fs(root, "nan", nan)
    far = pts.copy()
    far[3] = (900.0, 40.0)
    write_fs(root, "far", far)
    write_fs(root, "gone", pts).unlink()
    garbage = write_fs(root, "garbage", pts)
    garbage.write_bytes(b"this is not an image at all" * 10)
    cv2.imwrite(str(root / "noann.png"), noise_image())
    write_300w(root, "badheader", pts[:68])
    (root / "badheader.pts").write_text((root / "badheader.pts").read_text().replace("n_points:  68", "n_points:  70"))
    names = ["ok", "truncated", "short", "nan", "far", "gone", "garbage", "noann", "ok"]
    (root / "train.txt").write_text("".join(f"{n}.png\n" for n in names) + "badheader.jpg\n")
    (root / "data.yaml").write_text("base_path: .\ntrain: train.txt\nval: [ok.png]\n")
    expected = {
        "truncated.png": "truncated", "short_ldmks.txt": "wrong point count: 69", "nan_ldmks.txt": "NaN",
        "far_ldmks.txt": "far outside", "gone.png": "missing image", "garbage.png": "unreadable",
        "noann.png": "no landmarks", "badheader.pts": "n_points 70", "train.txt:9": "duplicate",
        "data.yaml:val[0]": "duplicate",
    }
    return root / "data.yaml", expected
