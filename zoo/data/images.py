"""Decoded-image access for the training dataset, with optional caches and a resolution cap.

PNG decoding costs more than everything else an item needs (a 256x256 PNG takes ~1.5-2.5 ms
here, the crop and augmentation ~1.5 ms), so a training run decodes each image once:
``"memmap"`` writes every decoded image (BGR uint8) into one file under the zoo cache, keyed by
the paths, sizes and modification times, and every DataLoader worker maps that file (the OS
page cache shares it); ``"ram"`` keeps decoded images in a per-process dict (small sets).

``max_side`` caps the stored resolution (INTER_AREA), for sets such as FaceSynthetics' 512 px
images whose full-size cache would not fit: a 96 px model never needs more than a few hundred
pixels per face. The cap applies in every mode, so the cache never changes a sample.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from zoo.data.formats import DatasetError
from zoo.fileio import atomic_open, atomic_write

#: Refuse to build a decoded cache that would take more than this share of the free disk.
DISK_SHARE = 0.5


def truncated(data: bytes) -> bool:
    """True for a PNG or JPEG whose bytes end before the image does.

    OpenCV decodes a cut JPEG without complaint (grey below the cut, a libjpeg warning on stderr), so
    a half-copied file would otherwise train as a face with half a picture.
    """
    png_cut = data[:4] == b"\x89PNG" and b"IEND" not in data[-32:]
    return png_cut or (data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-64:])


def decode(path: Path) -> np.ndarray:
    """BGR uint8 [H,W,3] of an image file (any bit depth, grey, CMYK or a GIF's first frame are converted);
    one-line DatasetError when it is missing, empty, truncated or not an image."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise DatasetError(f"{path}: missing or unreadable image ({e.strerror or e}); run `zoo data check` on the "
                           "dataset YAML") from None
    if truncated(data):
        raise DatasetError(f"{path}: truncated image (the file ends before the image does); re-copy or re-render it")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise DatasetError(f"{path}: {'empty' if not data else 'unreadable'} image; run `zoo data check` on the dataset YAML")
    return image


def decode_capped(path: Path, max_side: int | None) -> tuple[np.ndarray, float]:
    """(BGR image, scale stored/original): shrunk with INTER_AREA when its longer side exceeds ``max_side``."""
    image = decode(path)
    h, w = image.shape[:2]
    if max_side is None or max(h, w) <= max_side:
        return image, 1.0
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), size[0] / w


def cache_key(paths: Sequence[Path], max_side: int | None = None) -> str:
    """Key of a decoded cache: changes when any file is added, removed, replaced or touched."""
    h = hashlib.sha1(f"max_side={max_side}\n".encode())
    for p in paths:
        st = os.stat(p)
        h.update(f"{Path(p).resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def build_memmap(paths: Sequence[Path], folder: Path, max_side: int | None = None,
                 progress: bool = True) -> tuple[Path, np.ndarray]:
    """Decode ``paths`` into ``folder/KEY.u8`` + ``KEY.index.npy`` rows (offset, h, w, scale) unless already there."""
    from concurrent.futures import ThreadPoolExecutor

    try:
        key = cache_key(paths, max_side)
    except OSError as e:
        raise DatasetError(f"{e.filename}: missing image; run `zoo data check` on the dataset YAML") from None
    folder.mkdir(parents=True, exist_ok=True)
    data, index_path = folder / f"{key}.u8", folder / f"{key}.index.npy"
    if data.is_file() and index_path.is_file():
        return data, np.load(index_path)
    estimate = decode_capped(paths[0], max_side)[0].nbytes * len(paths)
    free = shutil.disk_usage(folder).free
    if estimate > DISK_SHARE * free:
        need, have = estimate / 1e9, free / 1e9
        raise DatasetError(f"{folder}: a decoded-image cache of ~{need:.1f} GB would not fit ({have:.1f} GB free); "
                           "cap the resolution (max_side), set ZOO_CACHE to a bigger disk, or train without the cache")
    index = np.zeros((len(paths), 4), dtype=np.float64)  # offsets stay exact below 2**53
    # Temp files with unique names (atomic_open): two trainers started together build the same cache
    # side by side, and whichever finishes second simply replaces identical files.
    with atomic_open(data, "wb", durable=False) as f, ThreadPoolExecutor(max_workers=2) as pool:  # cv2 decodes without the GIL
        images = pool.map(lambda p: decode_capped(p, max_side), paths)
        if progress:
            from rich.progress import track

            images = track(images, total=len(paths), description="decoding images into the cache", transient=True)
        offset = 0
        for i, (image, scale) in enumerate(images):
            index[i] = (offset, image.shape[0], image.shape[1], scale)
            f.write(np.ascontiguousarray(image).tobytes())
            offset += image.nbytes
        atomic_write(index_path, lambda g: np.save(g, index), durable=False)
    # the data file is renamed into place last, on leaving the block: its presence means the cache is complete
    about = {"images": len(paths), "bytes": int(offset), "max_side": max_side, "first": str(paths[0]) if paths else ""}
    atomic_write(folder / f"{key}.json", lambda f: f.write(json.dumps(about)), mode="w", durable=False)
    return data, index


class ImageStore:
    """Index -> (decoded BGR image, scale stored/original), on demand or from a cache (None, "ram", "memmap")."""

    def __init__(self, paths: Sequence[Path], cache: str | None = None, folder: Path | None = None,
                 max_side: int | None = None) -> None:
        if cache not in (None, "ram", "memmap"):
            raise ValueError(f"unknown image cache {cache!r}; use None, 'ram' or 'memmap'")
        self.paths, self.mode, self.max_side = [Path(p) for p in paths], cache, max_side
        self._ram: dict[int, tuple[np.ndarray, float]] = {}
        self._map: np.memmap | None = None
        if cache == "memmap" and self.paths:
            if folder is None:
                from zoo.data import cache_dir

                folder = cache_dir() / "decoded"
            self._data, self._index = build_memmap(self.paths, folder, max_side)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[np.ndarray, float]:
        if self.mode == "memmap" and self.paths:
            if self._map is None:  # opened lazily, so each worker maps the file itself
                self._map = np.memmap(self._data, dtype=np.uint8, mode="r")
            offset, h, w, scale = self._index[i]
            offset, h, w = int(offset), int(h), int(w)
            return self._map[offset:offset + h * w * 3].reshape(h, w, 3), float(scale)
        if self.mode == "ram":
            hit = self._ram.get(i)
            if hit is None:
                hit = self._ram[i] = decode_capped(self.paths[i], self.max_side)
            return hit
        return decode_capped(self.paths[i], self.max_side)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_map"] = None  # never pickle a mapping into a worker
        return state
