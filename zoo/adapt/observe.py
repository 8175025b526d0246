"""Run a model on labelled faces with the crops it gets in use, once, and keep what it said.

The crop decides what a map learns. The annotators' points never place it: ``detector`` is
``zoo predict``'s path (dlib's HOG box, the training inference crop around it, one re-crop from
the model's own points, as the tracker re-crops from the previous frame); a face the detector
misses gets a ``jitter`` crop instead: training's random box (scale 1.4-1.6, shift up to 20%)
around the labels, then the same re-crop. The points go back to image pixels, so the map fit on
them holds for any crop. Results are cached per model, dataset and crop (``cache_dir()/adapt``):
fitting many maps reruns no network.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.fileio import atomic_write, sha256_file

from . import AdaptError
from .faces import LabelledFaces

CROPS = ("detector", "jitter")
MIN_IOU = 0.3  # a detection overlapping the labelled face less than this is someone else (or nothing)
CACHE_VERSION = 1


@dataclass
class ModelRef:
    """A network to adapt: its checkpoint, a label for tables and the checkpoint's sha256."""

    checkpoint: Path
    label: str
    sha256: str
    source: str


@dataclass
class Observations:
    """The model's points [N,P,2] and the annotators' [N,K,2] in image pixels, per face the crop used."""

    model: np.ndarray
    target: np.ndarray
    crop_kind: list[str]
    images: list[str]

    def subset(self, idx: np.ndarray) -> Observations:
        return Observations(self.model[idx], self.target[idx], [self.crop_kind[i] for i in idx], [self.images[i] for i in idx])

    def __len__(self) -> int:
        return len(self.images)


def resolve(model: str) -> ModelRef:
    """A variant with shipped weights, a zoo checkpoint or an fdfat ``best.pt`` (imported into the cache)."""
    from zoo.checkpoints.checkpoint import CheckpointError, load_checkpoint
    from zoo.data import cache_dir
    from zoo.weights import WEIGHTS_DIR, weights_for

    path = Path(model)
    if not path.is_file():
        if path.suffix == ".pt" or "/" in model:
            raise AdaptError(f"{model}: no such checkpoint; give a variant with shipped weights, a zoo checkpoint "
                             "or an fdfat best.pt")
        shipped = weights_for(model)
        if shipped is None:
            have = ", ".join(sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt"))) or "none"
            raise AdaptError(f"{model!r} has no shipped weights (zoo/weights has: {have}); adapting random weights "
                             "means nothing: give a trained checkpoint")
        path = shipped
    try:
        ckpt = load_checkpoint(path)
        ref = ModelRef(path, ckpt.spec.name, ckpt.sha256 or sha256_file(path), "zoo checkpoint")
    except CheckpointError as first:
        from zoo.checkpoints.fdfat_import import IMPORT_LAYOUT, import_fdfat

        sha = sha256_file(path)
        out = cache_dir() / "adapt" / "fdfat" / f"{sha[:16]}-layout{IMPORT_LAYOUT}.pt"
        if not out.is_file():
            try:
                import_fdfat(path, out)
            except CheckpointError:
                raise AdaptError(str(first)) from None
        ckpt = load_checkpoint(out)
        ref = ModelRef(out, f"fdfat-{ckpt.spec.family}", sha, f"fdfat {path}")
    if ckpt.adapter is not None:
        raise AdaptError(f"{path} is already adapted ({ckpt.adapter.get('info', {}).get('convention', '?')}); "
                         "adapt the checkpoint it was made from")
    net = ckpt.build()
    if "landmarks" not in getattr(net, "output_names", ()) or net.spec.num_points < 46:
        raise AdaptError(f"{path}: the network has no landmark head with the 68 iBUG points the eye frame needs")
    return ref


def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def start_boxes(faces: LabelledFaces, crop: str, seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """Per face the first crop box and which kind it is (``detector``, or ``jitter`` where the detector missed)."""
    from zoo.data.dataset import crop_box
    from zoo.predict import box_to_crop, detect_faces, read_image

    if crop not in CROPS:
        raise AdaptError(f"--crop {crop}: choose one of {', '.join(CROPS)}")
    boxes, kinds = [], []
    for i, (image, pts) in enumerate(zip(faces.images, faces.points, strict=True)):
        if crop == "detector":
            truth = np.concatenate([pts.min(axis=0), pts.max(axis=0)])
            found = [(b, _box_iou(b, truth)) for b in detect_faces(read_image(image))]
            best = max(found, key=lambda t: t[1], default=(None, 0.0))
            if best[0] is not None and best[1] >= MIN_IOU:
                boxes.append(box_to_crop(best[0]))
                kinds.append("detector")
                continue
        rng = np.random.default_rng([seed, i])
        boxes.append(crop_box(pts, rng))
        kinds.append("jitter")
    return boxes, kinds


def cached_boxes(faces: LabelledFaces, crop: str, seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """``start_boxes``, computed once per dataset: the detector's boxes do not depend on the model."""
    from zoo.data import cache_dir

    h = hashlib.sha256(json.dumps([CACHE_VERSION, crop, seed, [str(p.resolve()) for p in faces.images]]).encode())
    h.update(np.ascontiguousarray(faces.points).tobytes())
    path = cache_dir() / "adapt" / "boxes" / f"{h.hexdigest()[:20]}.npz"
    if path.is_file():
        with np.load(path) as z:
            return list(z["boxes"]), [str(k) for k in z["kinds"]]
    boxes, kinds = start_boxes(faces, crop, seed)
    atomic_write(path, lambda f: np.savez(f, boxes=np.stack(boxes), kinds=np.array(kinds)))
    return boxes, kinds


def _cache_key(ref: ModelRef, faces: LabelledFaces, crop: str, backend: str, refine: int, seed: int) -> str:
    h = hashlib.sha256(json.dumps([CACHE_VERSION, ref.sha256, crop, backend, refine, seed,
                                   [str(p.resolve()) for p in faces.images]]).encode())
    h.update(np.ascontiguousarray(faces.points).tobytes())
    return h.hexdigest()[:20]


def observe(ref: ModelRef, faces: LabelledFaces, crop: str = "detector", backend: str = "onnx", refine: int = 1,
            seed: int = 0, cache: bool = True, progress: Any = None) -> Observations:
    """The model's points on every face (cached by model, faces, crop, backend, refine and seed)."""
    from zoo.data import cache_dir
    from zoo.predict import Predictor, read_image

    path = cache_dir() / "adapt" / "observations" / f"{_cache_key(ref, faces, crop, backend, refine, seed)}.npz"
    if cache and path.is_file():
        with np.load(path) as z:
            return Observations(z["model"], faces.points.copy(), [str(k) for k in z["kinds"]], [str(p) for p in faces.images])
    boxes, kinds = cached_boxes(faces, crop, seed) if cache else start_boxes(faces, crop, seed)
    predictor = Predictor.from_spec(ref.checkpoint, backend=backend, threads=1)
    points = []
    for image, box in zip(faces.images, boxes, strict=True):
        # predict's crop, run, uncrop and ``refine`` re-crops from its own points, from this crop box
        points.append(predictor.predict(read_image(image), crop=box, refine=refine, with_pose=False).landmarks)
        if progress is not None:
            progress(1)
    model = np.stack(points).astype(np.float64)
    if cache:
        atomic_write(path, lambda f: np.savez(f, model=model, kinds=np.array(kinds)))
    return Observations(model, faces.points.copy(), kinds, [str(p) for p in faces.images])
