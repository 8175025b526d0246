"""Atomic file writes: checkpoints, result tables and manifests never exist half-written."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", durable: bool = True, **kwargs) -> Iterator[IO]:
    """Open a temp file beside ``path``; on success fsync and rename it over ``path``, on error remove it.

    A kill at any moment leaves either the old file or the new one, never a mix. ``durable=False``
    skips the fsync: still safe against a killed process (the rename is atomic), not against a power
    cut, and a millisecond cheaper per file, for files that can be regenerated (rendered images).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike, write: Callable[[IO], object], mode: str = "wb", durable: bool = True,
                 **kwargs) -> None:
    """``write(f)`` into ``path`` atomically (see ``atomic_open``)."""
    with atomic_open(path, mode, durable, **kwargs) as f:
        write(f)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (checkpoints, artifacts and results rows are keyed by it)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
