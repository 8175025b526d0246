"""Image + box -> landmarks, face score and head pose, the same way for every backend.

The crop is training's inference crop (``crop_box(rng=None)``: the box made square and scaled
1.5x, then ``crop_and_resize``), so a model sees at prediction what it saw in evaluation. The
model's [-0.5, 0.5] crop units go back to image pixels through the exact inverse of the crop's
affine matrix. A detector box is not a landmark box, so by default one refinement pass re-crops
from the first pass's landmarks (what the tracker does from the previous frame).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ARTIFACT_SUFFIXES = (".onnx", ".xml", ".tflite", ".mlpackage", ".json")


@dataclass
class Prediction:
    """One face: landmarks in image pixels, face score, head pose and the crop box used."""

    landmarks: np.ndarray
    face_score: float | None
    pose: Any | None  # zoo.pose.HeadPose
    box: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "box": [round(float(v), 3) for v in self.box],
            "landmarks": np.round(self.landmarks.astype(np.float64), 3).tolist(),
            "face_score": None if self.face_score is None else round(float(self.face_score), 5),
            "pose": _pose_dict(self.pose),
            **self.extra,
        }


def _pose_dict(pose: Any) -> dict[str, Any] | None:
    if pose is None:
        return None
    d = pose.to_dict() if hasattr(pose, "to_dict") else dict(pose)
    return {k: (np.asarray(v).round(5).tolist() if isinstance(v, (np.ndarray, list, tuple)) else
                round(float(v), 4) if isinstance(v, (float, np.floating)) else v) for k, v in d.items()}


def box_to_crop(box: np.ndarray) -> np.ndarray:
    """Training's inference crop around a face box: treat its corners as the landmark extent."""
    from zoo.data.dataset import crop_box

    x1, y1, x2, y2 = (float(v) for v in box)
    return crop_box(np.array([[x1, y1], [x2, y2]], dtype=np.float64), None)


def crop_to_image(points_units: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """[-0.5, 0.5] crop units -> image pixels: ``pixel = (v + 0.5) * size``, then the inverse affine."""
    crop_px = (np.asarray(points_units, np.float64) + 0.5) * size
    a, t = matrix[:, :2], matrix[:, 2]
    return (crop_px - t) @ np.linalg.inv(a).T


class Predictor:
    """A Runtime plus the crop/uncrop/pose steps around it."""

    def __init__(self, runtime: Any, input_size: int | None = None, label: str = "") -> None:
        self.runtime = runtime
        self.input_size = int(input_size or runtime.input_size)
        self.label = label

    @classmethod
    def from_spec(cls, model: str | Path, backend: str = "onnx", threads: int = 1, precision: str = "fp32",
                  export_dir: Path | None = None) -> Predictor:
        """``model`` is an artifact (folder, manifest or model file), a zoo checkpoint or a variant name.

        Artifacts run on the backend their manifest names; checkpoints and variants are exported
        once into ``export_dir`` (default: the cache folder) and reused.
        """
        from zoo.backends import ensure_available, get_backend, load_artifact

        path = Path(model)
        if path.exists() and (path.is_dir() or path.suffix in ARTIFACT_SUFFIXES):
            art = load_artifact(path)
            return cls(get_backend(art.backend).load(art, threads), art.input_size, art.manifest.get("variant", path.name))
        from zoo.backends.sources import export_model, resolve_model

        ensure_available(backend)
        net = resolve_model(model)
        if backend == "torch":
            from zoo.backends.torch_backend import TorchRuntime

            return cls(TorchRuntime.from_model(net, threads), net.spec.input_size, net.spec.name)
        if export_dir is None:
            from zoo.data import cache_dir

            export_dir = cache_dir() / "exports" / net.zoo_source["sha256"][:16]
        art, _, _ = export_model(net, backend, precision, export_dir)
        return cls(get_backend(backend).load(art, threads), art.input_size, net.spec.name)

    @staticmethod
    def export_pending(model: str | Path, backend: str = "onnx", precision: str = "fp32") -> bool:
        """Whether ``from_spec(model, backend, precision)`` would export first (a zoo checkpoint whose export is not
        in the cache yet): the one-time work commands announce before they go quiet for it."""
        from zoo.data import cache_dir
        from zoo.fileio import sha256_file

        path = Path(model)
        if backend == "torch" or not path.is_file() or path.suffix != ".pt":
            return False
        folder = cache_dir() / "exports" / sha256_file(path)[:16]
        return not any(folder.glob(f"*/{backend}-{precision}/manifest.json"))

    def predict_batch(self, crops: np.ndarray) -> dict[str, np.ndarray]:
        """Raw named outputs for normalised NCHW crops."""
        return self.runtime.run(crops)

    def predict(self, image_rgb: np.ndarray, box: np.ndarray | None = None, landmarks_prev: np.ndarray | None = None,
                pose_prev: Any = None, refine: int = 0, with_pose: bool = True, crop: np.ndarray | None = None) -> Prediction:
        """Predict one face given a face box (``box``), the previous landmarks (``landmarks_prev``) or a crop box
        already made (``crop``, e.g. training's jittered box).

        ``refine`` extra passes each re-crop from the last landmarks. Pose comes from solvePnP on the
        landmarks (``zoo.pose.estimate_pose``), seeded with ``pose_prev`` when given.
        """
        from zoo.data.dataset import crop_and_resize, crop_box, normalize

        if crop is not None:
            crop = np.asarray(crop, np.float64)
        elif landmarks_prev is not None:
            crop = crop_box(np.asarray(landmarks_prev, np.float64), None)
        elif box is not None:
            crop = box_to_crop(np.asarray(box, np.float64))
        else:
            raise ValueError("predict needs a face box or the previous landmarks")
        for step in range(refine + 1):
            pixels, matrix = crop_and_resize(image_rgb, crop, self.input_size)
            out = self.runtime.run(normalize(pixels)[None])
            points = crop_to_image(out["landmarks"][0], matrix, self.input_size)
            # an adapted model (zoo adapt) also gives its own iBUG points: re-crops and pose follow those
            own = crop_to_image(out["source_landmarks"][0], matrix, self.input_size) if "source_landmarks" in out else points
            if step < refine:
                crop = crop_box(own, None)
        score = float(out["face_score"][0, 0]) if "face_score" in out else None
        pose = None
        if with_pose and own.shape[0] >= 68:
            from zoo.pose import estimate_pose

            h, w = image_rgb.shape[:2]
            try:
                pose = estimate_pose(own, (w, h), pose_prev)
            except ValueError:
                pose = None
        return Prediction(points.astype(np.float32), score, pose, np.asarray(crop, np.float64))


# --------------------------------------------------------------------------- image I/O, detection, drawing
class ImageError(ValueError):
    """An image that cannot be read; one line."""


def read_image(path: Path) -> np.ndarray:
    """RGB uint8 [H,W,3] of an image file."""
    import cv2

    from zoo.data.images import truncated

    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such image file")
    data = path.read_bytes()
    if truncated(data):  # OpenCV would fill the missing part with grey and predict on it
        raise ImageError(f"{path}: truncated image (the file ends before the image does); copy it again")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise ImageError(f"{path}: cannot decode it as an image (PNG, JPEG, BMP, WebP...)")
    return np.ascontiguousarray(image[:, :, ::-1])


@functools.cache
def _hog_detector() -> Any:
    """dlib's HOG detector, built once per process: building it costs 0.2-1 s, detecting ~60 ms."""
    import dlib

    return dlib.get_frontal_face_detector()


def detect_faces(image_rgb: np.ndarray, upsample: int = 1) -> list[np.ndarray]:
    """Face boxes (x1, y1, x2, y2) from dlib's HOG frontal detector, largest first."""
    import cv2

    gray = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
    rects = _hog_detector()(gray, upsample)
    boxes = [np.array([r.left(), r.top(), r.right(), r.bottom()], dtype=np.float64) for r in rects]
    return sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))


def draw(image_rgb: np.ndarray, predictions: list[Prediction]) -> np.ndarray:
    """A copy of the image with points, contour lines, pose axes, crop box and face score."""
    import cv2

    from zoo.landmarks import CONTOURS

    canvas = image_rgb.copy()
    scale = max(1, round(max(canvas.shape[:2]) / 400))
    for p in predictions:
        pts = p.landmarks.astype(np.float64)
        for start, stop, closed in CONTOURS:
            if stop <= len(pts):
                poly = np.round(pts[start:stop]).astype(np.int32).reshape(-1, 1, 2)
                cv2.polylines(canvas, [poly], closed, (80, 220, 255), scale, cv2.LINE_AA)
        for x, y in np.round(pts).astype(int):
            cv2.circle(canvas, (int(x), int(y)), scale + 1, (255, 60, 60), -1, cv2.LINE_AA)
        x1, y1, x2, y2 = (int(round(v)) for v in p.box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), (200, 200, 200), 1, cv2.LINE_AA)
        if p.pose is not None:
            from zoo.pose import draw_axes

            draw_axes(canvas, p.pose, thickness=scale + 1)
        if p.face_score is not None:
            cv2.putText(canvas, f"{p.face_score:.2f}", (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * scale,
                        (255, 255, 255), scale, cv2.LINE_AA)
    return canvas


def write_png(path: Path, image_rgb: np.ndarray) -> None:
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.ascontiguousarray(image_rgb[:, :, ::-1])):
        raise ImageError(f"{path}: cannot write the image (is the suffix .png/.jpg and the folder writable?)")
