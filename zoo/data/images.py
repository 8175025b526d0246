"""Decoded-image access for the training dataset, with optional caches.

PNG decoding costs more than everything else an item needs (a 256x256 PNG takes ~2-3 ms here,
the crop and augmentation ~1 ms), so a training run over a few thousand images decodes each one
once: ``"memmap"`` writes every decoded image (BGR uint8) into one file under the zoo cache,
keyed by the paths, sizes and modification times, and every DataLoader worker maps that file
(the OS page cache shares it); ``"ram"`` keeps decoded images in a per-process dict (small sets).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from zoo.data.formats import DatasetError


def decode(path: Path) -> np.ndarray:
    """BGR uint8 [H,W,3] of an image file; one-line DatasetError when it cannot be read."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f"{path}: missing or unreadable image; run `zoo data check` on the dataset YAML")
    return image


def cache_key(paths: Sequence[Path]) -> str:
    """Key of a decoded cache: changes when any file is added, removed, replaced or touched."""
    h = hashlib.sha1()
    for p in paths:
        st = os.stat(p)
        h.update(f"{Path(p).resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def build_memmap(paths: Sequence[Path], folder: Path, progress: bool = True) -> tuple[Path, np.ndarray]:
    """Decode ``paths`` into ``folder/KEY.u8`` + ``KEY.index.npy`` (offset, h, w) unless already there."""
    from concurrent.futures import ThreadPoolExecutor

    try:
        key = cache_key(paths)
    except OSError as e:
        raise DatasetError(f"{e.filename}: missing image; run `zoo data check` on the dataset YAML") from None
    folder.mkdir(parents=True, exist_ok=True)
    data, index_path = folder / f"{key}.u8", folder / f"{key}.index.npy"
    if data.is_file() and index_path.is_file():
        return data, np.load(index_path)
    index = np.zeros((len(paths), 3), dtype=np.int64)
    tmp = data.with_suffix(f".{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f, ThreadPoolExecutor(max_workers=2) as pool:  # cv2 decodes without the GIL
            images = pool.map(decode, paths)
            if progress:
                from rich.progress import track

                images = track(images, total=len(paths), description="decoding images into the cache", transient=True)
            offset = 0
            for i, image in enumerate(images):
                index[i] = (offset, image.shape[0], image.shape[1])
                f.write(np.ascontiguousarray(image).tobytes())
                offset += image.nbytes
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    np.save(index_path.with_suffix(".tmp.npy"), index)
    os.replace(index_path.with_suffix(".tmp.npy"), index_path)
    os.replace(tmp, data)  # the data file appears last: its presence means the cache is complete
    about = {"images": len(paths), "bytes": int(offset), "first": str(paths[0]) if paths else ""}
    (folder / f"{key}.json").write_text(json.dumps(about))
    return data, index


class ImageStore:
    """Index -> decoded BGR image, decoding on demand or from a cache (None, "ram" or "memmap")."""

    def __init__(self, paths: Sequence[Path], cache: str | None = None, folder: Path | None = None) -> None:
        if cache not in (None, "ram", "memmap"):
            raise ValueError(f"unknown image cache {cache!r}; use None, 'ram' or 'memmap'")
        self.paths, self.mode = [Path(p) for p in paths], cache
        self._ram: dict[int, np.ndarray] = {}
        self._map: np.memmap | None = None
        if cache == "memmap" and self.paths:
            if folder is None:
                from zoo.data import cache_dir

                folder = cache_dir() / "decoded"
            self._data, self._index = build_memmap(self.paths, folder)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> np.ndarray:
        if self.mode == "memmap" and self.paths:
            if self._map is None:  # opened lazily, so each worker maps the file itself
                self._map = np.memmap(self._data, dtype=np.uint8, mode="r")
            offset, h, w = (int(v) for v in self._index[i])
            return self._map[offset:offset + h * w * 3].reshape(h, w, 3)
        if self.mode == "ram":
            image = self._ram.get(i)
            if image is None:
                image = self._ram[i] = decode(self.paths[i])
            return image
        return decode(self.paths[i])

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_map"] = None  # never pickle a mapping into a worker
        return state
