"""The training dataset: fdfat's crop, augmentation, horizontal flip and normalisation.

Speed is the point here (the trainer is bound by this pipeline, not by the model), so each item
costs one image read, one ``cv2.warpAffine`` from the original image straight to the input size
and a few cheap photometric transforms on that small crop:

- Crop: the landmark box made square, scaled 1.4-1.6 and shifted by up to 20% of its size
  (fdfat's recipe); at inference and evaluation the deterministic box: scale 1.5, centred.
- Geometry: the ``affine`` recipe (scale 0.85-1.15, translation 10%, rotation) and the mirror
  flip are folded into the crop's matrix, so there is one resampling and rotated corners show
  real image content instead of padding. Downscales beyond 2x go through ``cv2.pyrDown`` first
  (anti-aliased crops, the same at training and inference). The pose target follows the
  geometry: the rotation composes into the head rotation (``zoo.pose`` conventions) and a
  flip negates yaw and roll.
- Photometric: albumentations (colour, grey, blur, ISO noise, JPEG) on the crop, seeded per item.
- Determinism: every random choice of item ``i`` comes from ``(seed, epoch, i)``, so the number
  of DataLoader workers never changes a sample. Persistent workers hold their own copy of the
  dataset, where a ``set_epoch`` in the main process never arrives: index with ``(epoch, i)``
  keys instead (``zoo.engine.loader``'s sampler does).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import cv2
import numpy as np
import torch

from zoo.contract import PIXEL_MEAN, PIXEL_STD, POSE_SCALE_DEG
from zoo.data import PHOTOMETRIC
from zoo.data.formats import DatasetError, Sample, pose_from_meta
from zoo.data.images import ImageStore
from zoo.landmarks import flip_permutation

INFERENCE_SCALE = 1.5


def crop_box(landmarks: np.ndarray, rng: np.random.Generator | None = None,
             scale: tuple[float, float] = (1.4, 1.6), shift: float = 0.2) -> np.ndarray:
    """Square crop box (x1, y1, x2, y2) around the landmarks' bounding box.

    With ``rng`` the box is scaled by U(scale) and shifted by up to ``shift`` of its side in x and y
    (training); without, it is the deterministic inference crop: 1.5x, centred.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = (lo + hi) / 2
    side = float(max(hi - lo))
    if rng is None:
        side *= INFERENCE_SCALE
    else:
        side *= rng.uniform(*scale)
        centre = centre + rng.uniform(-shift, shift, size=2) * side
    half = side / 2
    return np.array([centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half], dtype=np.float64)


def box_matrix(box: np.ndarray, size: int) -> np.ndarray:
    """3x3 matrix from image pixels to crop pixels: the box's corners go to 0 and ``size``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    s = size / max(x2 - x1, 1e-6)
    return np.array([[s, 0, -x1 * s], [0, s, -y1 * s], [0, 0, 1]], dtype=np.float64)


def warp(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Resample ``image`` into a ``size`` square through a 3x3 image->crop matrix (zero padding).

    Only the source region the crop sees is touched, and it is halved with ``cv2.pyrDown`` while the
    crop would shrink it more than 2x, so a small crop of a big image is cheap and not aliased.
    """
    m = np.asarray(matrix, dtype=np.float64)
    inv = np.linalg.inv(m)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64) @ inv.T
    h, w = image.shape[:2]
    pad = 2 + math.ceil(4 / max(math.sqrt(abs(np.linalg.det(m[:2, :2]))), 1e-6))  # what pyrDown's 5-tap kernel reaches
    x0 = int(max(0, math.floor(corners[:, 0].min()) - pad))
    y0 = int(max(0, math.floor(corners[:, 1].min()) - pad))
    x1 = int(min(w, math.ceil(corners[:, 0].max()) + pad + 1))
    y1 = int(min(h, math.ceil(corners[:, 1].max()) + pad + 1))
    if x1 <= x0 or y1 <= y0:  # the crop lies wholly outside the image
        return np.zeros((size, size) + image.shape[2:], dtype=image.dtype)
    sub = np.ascontiguousarray(image[y0:y1, x0:x1])
    m = m @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], dtype=np.float64)
    while math.sqrt(abs(np.linalg.det(m[:2, :2]))) < 0.5 and min(sub.shape[:2]) >= 4:
        sub = cv2.pyrDown(sub)  # output pixel i is centred on input pixel 2i
        m = m @ np.diag([2.0, 2.0, 1.0])
    return cv2.warpAffine(sub, m[:2], (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def stored_to_original(scale: float) -> np.ndarray:
    """3x3 map from a ``cv2.resize``-shrunk image's pixels to the original's.

    resize centres pixels half a pixel in: stored pixel j shows original (j + 0.5) / scale - 0.5, not
    j / scale, which would shift every crop of a capped image by half a stored pixel against its labels.
    """
    c = 0.5 / scale - 0.5
    return np.array([[1 / scale, 0, c], [0, 1 / scale, c], [0, 0, 1]], dtype=np.float64)


def crop_and_resize(image: np.ndarray, box: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(crop [size,size,C], 2x3 image->crop matrix). Points map as ``pts @ M[:, :2].T + M[:, 2]``."""
    m = box_matrix(box, size)
    return warp(image, m, size), m[:2].copy()


def normalize(crop: np.ndarray) -> np.ndarray:
    """uint8 RGB HWC crop -> float32 CHW ``pixel / 127.5 - 1`` (the model I/O contract)."""
    chw = np.ascontiguousarray(crop.transpose(2, 0, 1), dtype=np.float32)
    chw -= PIXEL_MEAN
    chw /= PIXEL_STD
    return chw


def to_unit(points_px: np.ndarray, size: int) -> np.ndarray:
    """Crop pixels -> model units in [-0.5, 0.5] (inverse of ``pixel = (v + 0.5) * size``)."""
    return (points_px / size - 0.5).astype(np.float32)


def affine_matrix(rng: np.random.Generator, size: int, scale: tuple[float, float] = (0.85, 1.15),
                  translate: float = 0.1, rotate: float = 30.0) -> tuple[np.ndarray, float]:
    """Random crop->crop similarity about the crop centre: (3x3 matrix, rotation in degrees, clockwise)."""
    s = rng.uniform(*scale)
    angle = rng.uniform(-rotate, rotate)
    tx, ty = rng.uniform(-translate, translate, size=2) * size
    c, sn = math.cos(math.radians(angle)) * s, math.sin(math.radians(angle)) * s
    half = size / 2
    return np.array([[c, -sn, half + tx - c * half + sn * half], [sn, c, half + ty - sn * half - c * half], [0, 0, 1]]), angle


def flip_matrix(size: int) -> np.ndarray:
    """Mirror a crop left-right (pixel i -> size-1-i, OpenCV's pixel-centre convention)."""
    return np.array([[-1.0, 0, size - 1.0], [0, 1, 0], [0, 0, 1]])


def rotate_pose(pose: tuple[float, float, float], angle: float) -> tuple[float, float, float]:
    """Pose after rotating the image clockwise by ``angle`` degrees about the optical axis."""
    from zoo.pose import euler_from_matrix, rotation_matrix

    return euler_from_matrix(rotation_matrix(0.0, 0.0, angle) @ rotation_matrix(*pose))


class Photometric:
    """The colour/grey/blur/noise/compression recipe (albumentations), cheap on a 96 px crop.

    Every transform draws from one shared pair of generators reseeded per item, which is both
    ~10x cheaper than ``Compose.set_random_seed`` and right: that call seeds each transform with
    the same seed, so their ``p`` draws coincide (grey images would always be blurred too).
    """

    def __init__(self, recipe: str = "standard") -> None:
        self.compose = _photometric_compose(recipe)
        self._np = np.random.default_rng(0)
        self._py = random.Random(0)
        self.compose.set_random_state(self._np, self._py)

    def __call__(self, crop: np.ndarray, seed: int) -> np.ndarray:
        self._py.seed(seed)
        self._np.bit_generator.state = np.random.PCG64(seed).state
        return self.compose(image=crop)["image"]


def _photometric_compose(recipe: str = "standard"):
    import albumentations as A

    if recipe not in PHOTOMETRIC:
        raise ValueError(f"photometric recipe must be one of {PHOTOMETRIC}, not {recipe!r}")
    if recipe == "standard":
        return A.Compose([
            A.RandomBrightnessContrast(brightness_limit=0.3, contrast_limit=0.3, p=0.7),
            A.HueSaturationValue(hue_shift_limit=8, sat_shift_limit=30, val_shift_limit=0, p=0.4),
            A.ToGray(p=0.1),
            A.OneOf([A.GaussianBlur(blur_limit=(3, 5)), A.MotionBlur(blur_limit=(3, 7))], p=0.25),
            A.ISONoise(color_shift=(0.01, 0.04), intensity=(0.05, 0.3), p=0.2),
            A.ImageCompression(quality_range=(35, 95), p=0.3),
        ])
    return A.Compose([
        A.RandomBrightnessContrast(brightness_limit=0.35, contrast_limit=0.35, p=0.7),
        A.HueSaturationValue(hue_shift_limit=10, sat_shift_limit=40, val_shift_limit=0, p=0.5),
        A.OneOf([A.RandomGamma(gamma_limit=(60, 150)), A.RandomToneCurve(scale=0.2), A.CLAHE(clip_limit=3.0)], p=0.5),
        A.ToGray(p=0.15),
        A.Downscale(scale_range=(0.35, 0.8), p=0.3),
        A.OneOf([A.GaussianBlur(blur_limit=(3, 7)), A.MotionBlur(blur_limit=(3, 9)), A.Defocus(radius=(1, 3))], p=0.35),
        A.OneOf([A.Sharpen(alpha=(0.2, 0.6)), A.UnsharpMask(alpha=(0.2, 0.6))], p=0.2),
        A.OneOf([A.ISONoise(color_shift=(0.01, 0.05), intensity=(0.1, 0.35)), A.GaussNoise(std_range=(0.02, 0.08))], p=0.35),
        A.CoarseDropout(num_holes_range=(1, 3), hole_height_range=(0.08, 0.25), hole_width_range=(0.08, 0.25),
                        fill="random_uniform", p=0.25),
        A.ImageCompression(quality_range=(25, 95), p=0.4),
    ])


class LandmarkDataset(torch.utils.data.Dataset):
    """Crops, augments and normalises Samples for training (``train=True``) or evaluation.

    Items: ``image`` float32 [3,S,S], ``landmarks`` float32 [K,2] in [-0.5, 0.5] crop units
    (zeros for a non-face), ``is_face`` [1], ``pose`` [3] = (yaw, pitch, roll)/90, ``has_pose`` [1],
    ``index``. ``cache``: None (decode every time), "ram" (decoded images kept per process) or
    "memmap" (decoded once into a uint8 file under the zoo cache, shared by all workers);
    ``max_side`` caps the stored image resolution (see ``zoo.data.images``).
    """

    def __init__(self, samples: Sequence[Sample], input_size: int, num_points: int = 70, train: bool = True,
                 affine: bool = False, flip: bool = True, seed: int = 0, cache: str | None = None,
                 rotate: float = 30.0, photometric_aug: bool = True, max_side: int | None = None,
                 photometric: str = "standard") -> None:
        self.samples = list(samples)
        self.size, self.num_points, self.train = int(input_size), int(num_points), train
        self.affine, self.flip, self.seed, self.rotate = affine, flip, int(seed), float(rotate)
        self.photometric_aug = photometric_aug
        if photometric not in PHOTOMETRIC:
            raise ValueError(f"photometric recipe must be one of {PHOTOMETRIC}, not {photometric!r}")
        self.photometric = photometric
        for s in self.samples:
            if s.is_face and (s.landmarks is None or len(s.landmarks) < self.num_points):
                have = 0 if s.landmarks is None else len(s.landmarks)
                raise DatasetError(f"{s.image_path}: {have} landmarks, the model needs {self.num_points}; "
                                   "train a 68-point model or drop this sample")
        self.images = ImageStore([s.image_path for s in self.samples], cache, max_side=max_side)
        self._epoch = 0
        self._perm = flip_permutation(self.num_points)
        self._aug = None  # built lazily in each worker

    def set_epoch(self, epoch: int) -> None:
        """Pick the epoch whose augmentations ``dataset[i]`` draws (this process only; see the module doc)."""
        self._epoch = int(epoch)

    @property
    def epoch(self) -> int:
        return self._epoch

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: int | tuple[int, int]) -> dict:
        """Item ``key`` of the current epoch, or ``key = (epoch, index)``."""
        epoch, index = (int(key[0]), int(key[1])) if isinstance(key, tuple) else (self._epoch, int(key))
        sample = self.samples[index]
        image, scale = self.images[index]
        rng = np.random.default_rng([self.seed, epoch, index]) if self.train else None
        size = self.size
        if sample.is_face:
            points = np.asarray(sample.landmarks[: self.num_points], dtype=np.float64)
            m = box_matrix(crop_box(points, rng), size)
        else:
            points = None
            m = box_matrix(self._negative_box((image.shape[0] / scale, image.shape[1] / scale), rng), size)
        pose = pose_from_meta(sample.meta) if sample.is_face else None
        flipped = False
        if rng is not None:
            if self.affine:
                a, angle = affine_matrix(rng, size, rotate=self.rotate)
                m = a @ m
                if pose is not None and angle:
                    pose = rotate_pose(pose, angle)
            if self.flip and rng.random() < 0.5:
                m = flip_matrix(size) @ m
                flipped = True
        stored = m if scale == 1.0 else m @ stored_to_original(scale)  # the image may be stored smaller
        crop = cv2.cvtColor(warp(image, stored, size), cv2.COLOR_BGR2RGB)
        if rng is not None and self.photometric_aug:
            if self._aug is None:
                self._aug = Photometric(self.photometric)
            crop = self._aug(crop, int(rng.integers(2**63 - 1)))
        landmarks = np.zeros((self.num_points, 2), dtype=np.float32)
        if points is not None:
            px = points @ m[:2, :2].T + m[:2, 2]
            landmarks = to_unit(px[self._perm] if flipped else px, size)
        if pose is not None and flipped:
            pose = (-pose[0], pose[1], -pose[2])
        return {
            "image": torch.from_numpy(normalize(crop)),
            "landmarks": torch.from_numpy(landmarks),
            "is_face": torch.tensor([float(sample.is_face)]),
            "pose": torch.tensor(pose if pose is not None else (0.0, 0.0, 0.0), dtype=torch.float32) / POSE_SCALE_DEG,
            "has_pose": torch.tensor([float(pose is not None)]),
            "index": int(index),
        }

    @staticmethod
    def _negative_box(shape: tuple[float, ...], rng: np.random.Generator | None) -> np.ndarray:
        """A random square inside a non-face image (training), or its centred largest square."""
        h, w = shape[:2]
        side = min(h, w) * (rng.uniform(0.35, 1.0) if rng is not None else 1.0)
        x = rng.uniform(0, w - side) if rng is not None else (w - side) / 2
        y = rng.uniform(0, h - side) if rng is not None else (h - side) / 2
        return np.array([x, y, x + side, y + side])


def pipeline_speed(dataset: LandmarkDataset, workers: int, batch_size: int = 64, images: int = 1024) -> tuple[float, float]:
    """(images/s in steady state, start-up seconds) of a DataLoader over ``dataset``, collation included.

    Start-up (forking workers, opening caches, the first batch) is timed apart because a
    persistent-worker loader pays it once per run, not per epoch.
    """
    import time

    def init(_: int) -> None:
        cv2.setNumThreads(1)
        torch.set_num_threads(1)

    extra = {"persistent_workers": True, "prefetch_factor": 4} if workers else {}
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers,
                                         worker_init_fn=init, generator=torch.Generator().manual_seed(0), **extra)
    threads = cv2.getNumThreads(), torch.get_num_threads()
    if not workers:
        init(0)
    try:
        start = time.perf_counter()
        batches = iter(loader)
        next(batches)
        startup, start, done = time.perf_counter() - start, time.perf_counter(), 0
        while done < images:
            try:
                done += len(next(batches)["index"])
            except StopIteration:
                batches = iter(loader)
        return done / (time.perf_counter() - start), startup
    finally:
        cv2.setNumThreads(threads[0])
        torch.set_num_threads(threads[1])
