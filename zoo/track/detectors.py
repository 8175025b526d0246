"""Face detectors for starting tracks, and the runners that call them off the tracking path.

The tracker detects rarely: a detection only starts a track (or confirms one); every later
frame re-crops the face from its own landmarks. So the detector may be slow, and it runs in a
background thread (``DetectorThread``) so that landmark tracking never waits for it.

Detectors, by ``--detector`` spec:

* ``hog`` (default): dlib's HOG frontal detector from the ``dlib-bin`` wheel; no model file.
  It finds frontal faces of about 80 px and up (in the frame scaled to 640 px wide), and
  misses turned or small ones, which is why the landmark model's face score, not the
  detector, decides when a track ends. ``hog:1`` upsamples once: ~40 px faces, 4x the time.
* ``mtcnn`` (``mtcnn:MIN_FACE_PX``): MTCNN from the ``mtcnn`` package (MIT; its weights ship inside
  the wheel), on TensorFlow: ``pip install 'zoo[mtcnn]'``. On real faces pasted at 30-120 px it finds
  99 % of those >= 40 px where HOG finds 85 % (``hog:1``: 95 %), at 1.6-2x the time of ``hog:1``
  (docs/tracking-real-video.md); not the default, because it needs TensorFlow (~1 GB, seconds to import).
* ``yunet:FILE``: OpenCV's YuNet (``cv2.FaceDetectorYN``) with its ONNX file.
* ``ultraface:FILE``: the UltraFace RFB-320 ONNX model fdfat used, on ONNX Runtime.

Each detector returns boxes in its own convention; ``crop_box`` turns one into the square
landmark-model crop the tracker would have made from the face's landmarks.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

DETECTOR_HELP = ("hog | hog:UPSAMPLE (1 finds ~40 px faces, 4x slower) | mtcnn[:MIN_FACE_PX] (zoo[mtcnn]) | yunet:FILE"
                 " | ultraface:FILE")


class DetectorError(ValueError):
    """A detector cannot be created (unknown name, missing or unreadable model file)."""


@dataclass
class Detection:
    """A detector box (x1, y1, x2, y2) in image pixels and its confidence."""

    box: np.ndarray
    score: float


class Detector(Protocol):
    name: str

    def detect(self, image_rgb: np.ndarray) -> list[Detection]: ...

    def crop_box(self, box: np.ndarray) -> np.ndarray: ...


def square_box(box: np.ndarray, scale: float, dy: float = 0.0) -> np.ndarray:
    """Square box of side ``scale * max(w, h)`` centred on ``box``, shifted down by ``dy * h``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 + dy * h
    half = scale * max(w, h) / 2
    return np.array([cx - half, cy - half, cx + half, cy + half], dtype=np.float64)


class HogDetector:
    """dlib's HOG + linear SVM frontal face detector, run on a grey, downscaled frame."""

    name = "hog"
    # dlib's box spans brows to chin: the landmark crop (1.5x the landmark box) is 1.5x it,
    # centred 0.11 of it lower (medians over 285 lfpw-train faces; 10-90%: 1.29-1.58).
    crop_scale, crop_dy = 1.5, 0.11

    def __init__(self, max_width: int = 640, upsample: int = 0, threshold: float = 0.0) -> None:
        import dlib

        self._det = dlib.get_frontal_face_detector()
        self.max_width, self.upsample, self.threshold = max_width, upsample, threshold

    def detect(self, image_rgb: np.ndarray) -> list[Detection]:
        import cv2

        grey = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
        f = min(1.0, self.max_width / grey.shape[1])
        if f < 1.0:
            grey = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        rects, scores, _ = self._det.run(grey, self.upsample, self.threshold)
        return [Detection(np.array([r.left(), r.top(), r.right(), r.bottom()], np.float64) / f, float(s))
                for r, s in zip(rects, scores, strict=True)]

    def crop_box(self, box: np.ndarray) -> np.ndarray:
        return square_box(box, self.crop_scale, self.crop_dy)


class MtcnnDetector:
    """MTCNN (the ``mtcnn`` package, on TensorFlow, one thread): finds small and dim faces HOG misses."""

    name = "mtcnn"
    # MTCNN's box runs from the brows to below the chin, taller than dlib's: medians over 179 lfpw-train
    # faces pasted at 30-120 px (``python -m zoo.track.detector_eval mtcnn --calibrate``; HOG gives 1.42, 0.09 there).
    crop_scale, crop_dy = 1.23, 0.13

    def __init__(self, min_face: int = 20, threshold: float = 0.9) -> None:
        with _quiet_native_stderr():  # TensorFlow's start-up lines (oneDNN, CUDA probing) are not the user's business
            try:
                import tensorflow as tf
                from mtcnn import MTCNN
            except ImportError:
                raise DetectorError("--detector mtcnn needs the mtcnn package and TensorFlow: pip install 'zoo[mtcnn]'") from None
            try:
                tf.config.threading.set_intra_op_parallelism_threads(1)
                tf.config.threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:  # TensorFlow already initialised by someone else: keep its threads
                pass
            self._det = MTCNN(device="CPU:0")
        self.min_face, self.threshold = min_face, threshold

    def detect(self, image_rgb: np.ndarray) -> list[Detection]:
        faces = self._det.detect_faces(image_rgb, min_face_size=self.min_face, threshold_onet=self.threshold)
        return [Detection(np.array([f["box"][0], f["box"][1], f["box"][0] + f["box"][2], f["box"][1] + f["box"][3]],
                                   np.float64), float(f["confidence"])) for f in faces]

    def crop_box(self, box: np.ndarray) -> np.ndarray:
        return square_box(box, self.crop_scale, self.crop_dy)


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence what native code writes to file descriptor 2 (Python exceptions still propagate)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no real stderr (embedded interpreters): nothing to silence
        yield
        return
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _model_file(kind: str, path: str) -> Path:
    p = Path(path).expanduser()
    if not path or not p.is_file():
        raise DetectorError(f"{kind} detector file {path!r} not found; give an existing ONNX file, "
                            f"e.g. --detector {kind}:model.onnx")
    return p


class YuNetDetector:
    """OpenCV's YuNet through ``cv2.FaceDetectorYN`` (needs its ONNX file)."""

    name = "yunet"
    crop_scale, crop_dy = 1.45, 0.05

    def __init__(self, path: str, threshold: float = 0.6) -> None:
        import cv2

        p = _model_file("yunet", path)
        try:
            self._det = cv2.FaceDetectorYN.create(str(p), "", (320, 320), threshold, 0.3, 50)
        except cv2.error as e:
            raise DetectorError(f"cannot load YuNet model {p}: {str(e).strip().splitlines()[-1]}") from None
        self._size: tuple[int, int] | None = None

    def detect(self, image_rgb: np.ndarray) -> list[Detection]:
        import cv2

        h, w = image_rgb.shape[:2]
        if self._size != (w, h):
            self._det.setInputSize((w, h))
            self._size = (w, h)
        _, faces = self._det.detect(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
        if faces is None:
            return []
        return [Detection(np.array([f[0], f[1], f[0] + f[2], f[1] + f[3]], np.float64), float(f[-1])) for f in faces]

    def crop_box(self, box: np.ndarray) -> np.ndarray:
        return square_box(box, self.crop_scale, self.crop_dy)


class UltraFaceDetector:
    """UltraFace RFB-320 (``version-RFB-320.onnx``, 320x240 input) on ONNX Runtime, one thread."""

    name = "ultraface"
    crop_scale, crop_dy = 1.35, 0.05

    def __init__(self, path: str, threshold: float = 0.7, nms: float = 0.3) -> None:
        import onnxruntime as ort

        p = _model_file("ultraface", path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        try:
            self._sess = ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            raise DetectorError(f"cannot load UltraFace model {p}: {str(e).strip().splitlines()[0]}") from None
        inp = self._sess.get_inputs()[0]
        self._input = inp.name
        self._hw = (int(inp.shape[2]), int(inp.shape[3])) if isinstance(inp.shape[2], int) else (240, 320)
        self.threshold, self.nms = threshold, nms

    def detect(self, image_rgb: np.ndarray) -> list[Detection]:
        import cv2  # lazily, like every cv2 use here: `zoo --help` reads DETECTOR_HELP from this module

        h, w = image_rgb.shape[:2]
        x = cv2.resize(image_rgb, (self._hw[1], self._hw[0])).astype(np.float32)
        x = ((x - 127.0) / 128.0).transpose(2, 0, 1)[None]
        scores, boxes = self._sess.run(None, {self._input: x})
        conf, boxes = scores[0, :, 1], boxes[0]
        keep = conf > self.threshold
        conf, boxes = conf[keep], boxes[keep] * np.array([w, h, w, h], np.float32)
        if not len(conf):
            return []
        xywh = [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes]
        idx = cv2.dnn.NMSBoxes(xywh, conf.tolist(), self.threshold, self.nms)
        return [Detection(boxes[i].astype(np.float64), float(conf[i])) for i in np.ravel(idx)]

    def crop_box(self, box: np.ndarray) -> np.ndarray:
        return square_box(box, self.crop_scale, self.crop_dy)


def make_detector(spec: str) -> Detector:
    """Build a detector from its CLI spec: ``hog[:UPSAMPLE]``, ``mtcnn[:MIN_FACE_PX]``, ``yunet:FILE`` or ``ultraface:FILE``."""
    kind, _, path = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "hog" and (not path or path.isdigit()):
        return HogDetector(upsample=int(path or 0))
    if kind == "mtcnn" and (not path or path.isdigit()):
        return MtcnnDetector(min_face=int(path or 20))
    if kind == "yunet":
        return YuNetDetector(path)
    if kind == "ultraface":
        return UltraFaceDetector(path)
    raise DetectorError(f"unknown detector {spec!r}; use {DETECTOR_HELP}")


@dataclass
class DetectionResult:
    frame: int
    detections: list[Detection]
    ms: float


def timed_detect(detector: Detector, frame: int, image_rgb: np.ndarray) -> DetectionResult:
    """Run ``detector`` on one frame: its detections, tagged with the frame and the time they took."""
    t0 = time.perf_counter()
    dets = detector.detect(image_rgb)
    return DetectionResult(frame, dets, (time.perf_counter() - t0) * 1e3)


class InlineDetector:
    """Runs the detector in the caller's thread: deterministic, for tests and benchmarks."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self._result: DetectionResult | None = None

    @property
    def busy(self) -> bool:
        return False

    def submit(self, frame: int, image_rgb: np.ndarray) -> bool:
        self._result = timed_detect(self.detector, frame, image_rgb)
        return True

    def poll(self) -> DetectionResult | None:
        out, self._result = self._result, None
        return out

    def detect_now(self, frame: int, image_rgb: np.ndarray) -> DetectionResult:
        """Detect on this frame and return the result directly (a re-verification); a pending result is dropped."""
        self._result = None
        return timed_detect(self.detector, frame, image_rgb)

    def close(self) -> None:
        pass


class DetectorThread:
    """Runs the detector in a daemon thread; ``submit`` never blocks (it refuses while busy).

    Results come back through ``poll`` tagged with the frame they were computed on, a few
    frames late; the tracker associates them with its tracks as they are then.
    """

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self._jobs: queue.Queue = queue.Queue(maxsize=1)
        self._results: queue.Queue = queue.Queue()
        self._busy = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="zoo-detector", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._busy.is_set()

    def submit(self, frame: int, image_rgb: np.ndarray) -> bool:
        if self._error is not None:
            raise RuntimeError(f"face detector failed: {self._error}") from self._error
        if self._busy.is_set():
            return False
        self._busy.set()
        self._jobs.put((frame, image_rgb))
        return True

    def poll(self) -> DetectionResult | None:
        try:
            return self._results.get_nowait()
        except queue.Empty:
            return None

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until the pending detection (if any) is done; for the last frames of a file."""
        end = time.monotonic() + timeout
        while self._busy.is_set() and time.monotonic() < end:
            time.sleep(0.001)

    def detect_now(self, frame: int, image_rgb: np.ndarray) -> DetectionResult:
        """Detect on this frame in the caller's thread, after the pending job; pending results are dropped.

        For re-verification at a cut: the answer is needed on this frame, and results computed on
        frames before it describe another shot. Only the tracker submits jobs, and it is here, so the
        detector is idle while this runs.
        """
        self.wait_idle()
        while self.poll() is not None:
            pass
        return timed_detect(self.detector, frame, image_rgb)

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=2.0)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            frame, image = job
            try:
                self._results.put(timed_detect(self.detector, frame, image))
            except BaseException as e:  # surfaced on the next submit
                self._error = e
            finally:
                self._busy.clear()
