"""The accuracy harness: crop every face with the deterministic inference crop, run a model on any
backend, map its landmarks back to image pixels and score them.

Protocol (the one ../shared/data/real/README.md states for its reference figures): a square crop
1.5x the ground-truth landmark box, centred (``zoo.data.dataset.crop_box`` with no rng), resized to
the model's input size; NME in % of the distance between points 36 and 45 over the points the
ground truth has (the first 68 for 68-point data). Yaw comes from the sample's metadata when it
has it, else from solvePnP on the ground-truth landmarks (``zoo.pose.estimate_pose``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eval.metrics import box_over_iod, nme_per_face, yaw_bin

RunFn = Callable[[np.ndarray], dict[str, np.ndarray]]
#: Resampling of the crop: ``zoo`` is the deployed path (``crop_and_resize``: pyrDown while shrinking
#: more than 2x, then bilinear: anti-aliased); ``plain`` is one bilinear warp, the protocol under which
#: ../shared/data/real/README.md's reference figures were made.
RESAMPLE = ("zoo", "plain")


@dataclass
class FaceResult:
    image: str
    nme: float
    yaw: float
    yaw_source: str
    face_score: float | None = None
    scale: float = float("nan")  # landmark box size in inter-ocular distances: nme / scale is NME (box)


@dataclass
class EvalResult:
    faces: list[FaceResult] = field(default_factory=list)
    points: int = 0
    predictions: list[np.ndarray] = field(default_factory=list)

    @property
    def nme(self) -> np.ndarray:
        return np.array([f.nme for f in self.faces])

    @property
    def yaw(self) -> np.ndarray:
        return np.array([f.yaw for f in self.faces])

    @property
    def scale(self) -> np.ndarray:
        return np.array([f.scale for f in self.faces])

    @property
    def yaw_source(self) -> str:
        kinds = sorted({f.yaw_source for f in self.faces})
        return "+".join(kinds)


def read_image(path: Path) -> np.ndarray:
    """RGB uint8 image; a clear error for a missing or unreadable file."""
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"{path}: cannot read this image (missing or not an image)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def face_yaw(sample, image_size: tuple[int, int]) -> tuple[float, str]:
    """(yaw degrees, 'meta' | 'pnp') for a sample."""
    pose = sample.pose
    if pose is not None:
        return float(pose[0]), "meta"
    from zoo.pose import estimate_pose

    return float(estimate_pose(sample.landmarks, image_size).yaw), "pnp"


def crop_protocol(resample: str) -> str:
    """The value of accuracy.csv's ``crop`` column."""
    return "box1.5-centred" + ("" if resample == "zoo" else f"-{resample}")


def crop_face(image: np.ndarray, landmarks: np.ndarray, size: int, resample: str = "zoo") -> tuple[np.ndarray, np.ndarray]:
    """(normalised CHW float32 crop, 2x3 image->crop matrix) with the deterministic inference crop."""
    import cv2

    from zoo.data.dataset import box_matrix, crop_and_resize, crop_box, normalize

    box = crop_box(landmarks, None)
    if resample == "plain":
        m = box_matrix(box, size)[:2]
        return normalize(cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)), m
    crop, matrix = crop_and_resize(image, box, size)
    return normalize(crop), matrix


def to_image(units: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Model landmarks in [-0.5, 0.5] crop units -> image pixels through the inverse crop matrix."""
    crop_px = (np.asarray(units, dtype=np.float64) + 0.5) * size
    m = np.vstack([matrix, [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(m)
    return crop_px @ inv[:2, :2].T + inv[:2, 2]


def evaluate(samples: Sequence, run: RunFn, input_size: int, batch: int = 32, resample: str = "zoo",
             advance: Callable[[int], None] | None = None, keep_predictions: bool = False) -> EvalResult:
    """Score ``run`` (a batch NCHW float32 -> outputs dict) on the face samples."""
    faces = [s for s in samples if s.is_face and s.landmarks is not None]
    result = EvalResult()
    for start in range(0, len(faces), batch):
        chunk = faces[start:start + batch]
        crops, mats, yaws = [], [], []
        for s in chunk:
            image = read_image(s.image_path)
            crop, m = crop_face(image, s.landmarks, input_size, resample)
            crops.append(crop)
            mats.append(m)
            yaws.append(face_yaw(s, (image.shape[1], image.shape[0])))
        out = run(np.stack(crops).astype(np.float32))
        scores = out.get("face_score")
        for j, s in enumerate(chunk):
            pred = to_image(out["landmarks"][j], mats[j], input_size)
            gt = np.asarray(s.landmarks, dtype=np.float64)
            k = min(len(gt), len(pred))
            result.points = k
            score = float(np.ravel(scores[j])[0]) if scores is not None else None
            result.faces.append(FaceResult(str(s.image_path), float(nme_per_face(pred[:k], gt[:k])[0]),
                                           yaws[j][0], yaws[j][1], score, float(box_over_iod(gt[:k])[0])))
            if keep_predictions:
                result.predictions.append(pred)
        if advance:
            advance(len(chunk))
    return result


def write_per_image(path: Path, result: EvalResult) -> Path:
    """One line per face: image, NME %, NME (% box), yaw, where the yaw came from, its bin, face score."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["image", "nme", "nme_box", "yaw", "yaw_source", "yaw_bin", "face_score"])
        for r in result.faces:
            score = "" if r.face_score is None else f"{r.face_score:.4f}"
            w.writerow([r.image, f"{r.nme:.4f}", f"{r.nme / r.scale:.4f}", f"{r.yaw:.2f}", r.yaw_source, yaw_bin(r.yaw),
                        score])
    return path
