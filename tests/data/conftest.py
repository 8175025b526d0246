"""Fixtures: tiny datasets written on the fly in every format the readers know, good and broken."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from datafiles import face_points, noise_image, write_300w, write_fs


@pytest.fixture
def zoo_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ZOO_CACHE (decoded images, check verdicts) for one test."""
    path = tmp_path / "zoo-cache"
    monkeypatch.setenv("ZOO_CACHE", str(path))
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
