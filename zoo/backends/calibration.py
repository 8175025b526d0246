"""The calibration batch: crops that int8 quantisers calibrate on and that parity is measured on.

int8 activation ranges must come from what the model will see, so the batch is real crops made
with the inference crop of training (``crop_box(rng=None)`` + ``crop_and_resize`` + ``normalize``):
from a dataset YAML when one is given, else from the built-in renderer (``zoo.synth.generate.render_face``),
which also gives ground-truth landmarks so parity includes an NME difference.

Fallback, clearly marked in every manifest as ``source: "random-fallback"``: when neither is
available (a checkout without the renderer), a fixed smooth random batch (seeded). It still
measures parity against torch; it just says nothing about NME, and int8 ranges are less faithful.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_COUNT = 32
RENDER_SIZE = 256


@dataclass
class Calibration:
    """float32 NCHW normalised crops, and their landmarks in [-0.5, 0.5] crop units when known."""

    images: np.ndarray
    landmarks: np.ndarray | None = None
    source: str = "given"
    seed: int | None = None

    @property
    def input_size(self) -> int:
        return int(self.images.shape[-1])

    def describe(self) -> dict[str, Any]:
        """What goes into the manifest."""
        return {"source": self.source, "images": int(self.images.shape[0]), "seed": self.seed,
                "labelled": self.landmarks is not None}

    def nhwc(self) -> np.ndarray:
        return np.ascontiguousarray(self.images.transpose(0, 2, 3, 1))


def as_calibration(calib: Any, input_size: int, count: int = DEFAULT_COUNT) -> Calibration:
    """Whatever a caller passed (None, an NCHW array, a Calibration) as a Calibration of this size."""
    if calib is None:
        return calibration_set(input_size, count)
    if not isinstance(calib, Calibration):
        calib = Calibration(np.ascontiguousarray(np.asarray(calib, dtype=np.float32)), None, "given")
    if calib.images.ndim != 4 or calib.images.shape[1:] != (3, input_size, input_size):
        shape = tuple(calib.images.shape)
        raise ValueError(f"calibration batch has shape {shape}; the model takes [N,3,{input_size},{input_size}]")
    return calib


def calibration_set(input_size: int, count: int = DEFAULT_COUNT, seed: int = 0, dataset: Path | None = None) -> Calibration:
    """Deterministic calibration crops: the dataset's val faces, else rendered faces, else the fallback."""
    if dataset is not None:
        return _from_dataset(Path(dataset), input_size, count)
    try:
        images, landmarks = _rendered(input_size, count, seed)
        return Calibration(images.copy(), landmarks.copy(), "renderer", seed)
    except Exception as e:  # noqa: BLE001 - any renderer failure degrades to the documented fallback, never blocks export
        reason = str(e).strip().splitlines()[0][:120] if str(e).strip() else type(e).__name__
        return random_fallback(input_size, count, seed, reason=f"renderer unavailable: {type(e).__name__}: {reason}")


@functools.lru_cache(maxsize=8)
def _rendered(input_size: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The rendered batch, kept on disk per render version: rendering 32 faces costs ~2.5 s, which every
    ``zoo.load`` of a checkpoint paid before its cached export could be recognised (the cache key holds
    the calibration's description, and reuse needs the same crops)."""
    from zoo.data import cache_dir
    from zoo.fileio import atomic_write
    from zoo.synth import RENDER_VERSION

    path = cache_dir() / "calibration" / f"v{RENDER_VERSION}-{input_size}px-{count}-seed{seed}.npz"
    try:
        with np.load(path) as f:
            return f["images"], f["landmarks"]
    except (OSError, KeyError, ValueError):  # absent or unreadable: render it again
        pass
    images, marks = _render(input_size, count, seed)
    with contextlib.suppress(OSError):  # a read-only cache only costs the render next time
        atomic_write(path, lambda f: np.savez(f, images=images, landmarks=marks), durable=False)
    return images, marks


def _render(input_size: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from zoo.synth.generate import render_face

    rng = np.random.default_rng(seed)
    images, marks = [], []
    for _ in range(count):
        image, landmarks, _meta = render_face(rng, RENDER_SIZE)
        crop, points = crop_points(image, np.asarray(landmarks, np.float64), input_size)
        images.append(crop)
        marks.append(points)
    return np.stack(images), np.stack(marks)


def crop_points(image: np.ndarray, landmarks: np.ndarray, input_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(normalised CHW crop, landmarks in crop units) with the inference crop of training."""
    from zoo.data.dataset import crop_and_resize, crop_box, normalize

    box = crop_box(landmarks, None)
    crop, m = crop_and_resize(image, box, input_size)
    px = landmarks @ m[:, :2].T + m[:, 2]
    return normalize(crop), (px / input_size - 0.5).astype(np.float32)


def _from_dataset(path: Path, input_size: int, count: int) -> Calibration:
    from zoo.data.formats import load_dataset_yaml
    from zoo.data.images import decode

    samples = [s for s in load_dataset_yaml(path, "val") if s.is_face and s.landmarks is not None][:count]
    if not samples:
        raise ValueError(f"{path}: no labelled faces in the val split to calibrate on")
    crops, marks = [], []
    for s in samples:
        rgb = decode(s.image_path)[:, :, ::-1]
        crop, points = crop_points(np.ascontiguousarray(rgb), np.asarray(s.landmarks, np.float64), input_size)
        crops.append(crop)
        marks.append(points)
    return Calibration(np.stack(crops), np.stack(marks), f"dataset:{path}", None)


def random_fallback(input_size: int, count: int = DEFAULT_COUNT, seed: int = 0, reason: str = "") -> Calibration:
    """Smooth random images in [-1, 1] (seeded): blocky low-frequency noise, not white noise, so
    activations look more like a photo's than a TV's snow."""
    rng = np.random.default_rng(seed)
    low = rng.uniform(-1, 1, size=(count, 3, 8, 8)).astype(np.float32)
    reps = -(-input_size // 8)
    images = np.repeat(np.repeat(low, reps, axis=2), reps, axis=3)[:, :, :input_size, :input_size]
    source = "random-fallback" + (f" ({reason})" if reason else "")
    return Calibration(np.ascontiguousarray(images), None, source, seed)
