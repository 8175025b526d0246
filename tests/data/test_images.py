"""The decoded-image cache: what it stores, and two trainers building it at the same moment."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from zoo.data.images import ImageStore, build_memmap


def write_images(folder: Path, n: int = 4) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = folder / f"{i:06d}.png"
        cv2.imwrite(str(path), rng.integers(0, 256, (20 + i, 30, 3), dtype=np.uint8))
        paths.append(path)
    return paths


def test_memmap_store_returns_the_decoded_images(tmp_path: Path) -> None:
    paths = write_images(tmp_path / "img")
    store = ImageStore(paths, cache="memmap", folder=tmp_path / "cache")
    for i, path in enumerate(paths):
        image, scale = store[i]
        assert scale == 1.0
        np.testing.assert_array_equal(image, cv2.imread(str(path)))


def test_two_builders_of_the_same_cache_both_succeed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs started together decode the same split; the one that renames second must not crash.

    The second build runs to completion at the moment the first one renames its first file into
    place, which is where fixed temp names collided (two `zoo train` started side by side died here).
    """
    paths = write_images(tmp_path / "img")
    folder = tmp_path / "cache"
    real_replace = os.replace
    interleaved = []

    def replace_after_the_other_build(src, dst):  # noqa: ANN001 - os.replace's arguments
        if not interleaved:
            interleaved.append(True)
            other = build_memmap(paths, folder, progress=False)
            interleaved.append(other)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_after_the_other_build)
    data, index = build_memmap(paths, folder, progress=False)
    assert len(interleaved) == 2, "the second build did not run inside the first"
    np.testing.assert_array_equal(index, interleaved[1][1])
    assert sorted(p.name for p in folder.iterdir()) == sorted([data.name, data.stem + ".index.npy", data.stem + ".json"])
    monkeypatch.undo()
    store = ImageStore(paths, cache="memmap", folder=folder)
    np.testing.assert_array_equal(store[3][0], cv2.imread(str(paths[3])))
