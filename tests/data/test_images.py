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


def test_two_processes_building_the_same_cache_both_succeed(tmp_path: Path) -> None:
    """The same race as above between real processes (started together, not interleaved by hand): both
    finish, read identical images, and one set of cache files is left."""
    import subprocess
    import sys

    paths = write_images(tmp_path / "img", n=60)
    folder = tmp_path / "cache"
    script = ("import sys, numpy as np; from pathlib import Path; from zoo.data.images import ImageStore\n"
              "paths = sorted(Path(sys.argv[1]).glob('*.png')); s = ImageStore(paths, 'memmap', Path(sys.argv[2]))\n"
              "print(sum(int(s[i][0].sum()) for i in range(len(s))))")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "img"), str(folder)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    want = sum(int(cv2.imread(str(p)).sum()) for p in paths)
    assert [int(out) for out, _ in outs] == [want, want]
    assert len(list(folder.glob("*.u8"))) == 1 and not list(folder.glob(".*.tmp"))


@pytest.mark.slow
def test_two_trainers_sharing_the_cache_both_finish(tmp_path: Path) -> None:
    """Two ``zoo train`` runs started side by side on one dataset and one ZOO_CACHE (issue 24): both exit 0 and
    write their checkpoints (the second used to die renaming a temp file the first had moved)."""
    import subprocess
    import sys

    from datafiles import face_points, noise_image, write_fs

    for i in range(12):
        write_fs(tmp_path / "faces", f"{i:06d}", face_points(yaw=5.0 * i - 30), noise_image(seed=i))
    (tmp_path / "data.yaml").write_text("base_path: faces\ntrain: [" + ", ".join(f"{i:06d}.png" for i in range(8))
                                        + "]\nval: [" + ", ".join(f"{i:06d}.png" for i in range(8, 12)) + "]\n")
    env = {**os.environ, "ZOO_CACHE": str(tmp_path / "cache")}
    args = ["train", "lw-relu6-w0.5", "--data", str(tmp_path / "data.yaml"), "--epochs", "1", "--batch", "4",
            "--workers", "0", "--threads", "1", "--no-progress", "--cache", "memmap"]
    procs = [subprocess.Popen([sys.executable, "-m", "zoo", *args, "--out", str(tmp_path / f"run{k}")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for k in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[-2000:] for o in outs]
    for k in range(2):
        assert (tmp_path / f"run{k}" / "last.pt").is_file() and (tmp_path / f"run{k}" / "best.pt").is_file()
    assert len(list((tmp_path / "cache" / "decoded").glob("*.u8"))) == 2  # train and val, each built once for both
