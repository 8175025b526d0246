"""Multi-face landmark tracking: detect rarely, re-crop every face from its own landmarks.

Per frame, each live track crops the face from the box its previous landmarks give (shifted
by the face's recent motion), runs the landmark model, and is dropped once the model's face
score has stayed under ``min_score`` for ``patience`` frames; the detector never ends a
track, so ids survive the detector's misses. Detections (from a background thread, at a
capped rate, and promptly after a track is lost or while there is none) only start tracks:
they are associated with live tracks by IoU with the Hungarian method, and an unmatched one
becomes a new track when the model scores the face. Landmarks are smoothed per track and the
head pose comes from solvePnP seeded with the track's previous pose.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy.optimize import linear_sum_assignment

from zoo.pose import HeadPose, estimate_pose

from .detectors import DetectorThread, InlineDetector
from .filters import PointFilter, make_filter
from .schema import SCHEMA_VERSION

STAGES = ("crop", "landmarks", "filter", "pose")


class LandmarkPredictor(Protocol):
    """What the tracker needs: ``zoo.track.model.TrackingPredictor`` (wrapping ``zoo.predict.Predictor``)
    or a test double. It may also offer ``predict_stages(image, box) -> (prediction, {"crop": ms,
    "landmarks": ms})`` so the tracker can report the two stages apart."""

    def predict(self, image_rgb: np.ndarray, box: np.ndarray) -> Any:
        """Landmarks for the face in ``box``, the model's crop box itself (square, already 1.5x the
        landmark extent; not a detector box): an object with ``landmarks`` [K,2] px and ``face_score``."""


def crop_from_landmarks(landmarks: np.ndarray, scale: float = 1.5) -> np.ndarray:
    """The model's inference crop: a square ``scale`` times the landmark box, on its centre.

    The same box as ``zoo.data.dataset.crop_box(landmarks, None)`` (the crop the models are
    trained around), computed here without importing the training pipeline.
    """
    lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
    c, half = (lo + hi) / 2, scale * float(np.max(hi - lo)) / 2
    return np.array([c[0] - half, c[1] - half, c[0] + half, c[1] + half], dtype=np.float64)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes ``a`` [N,4] and ``b`` [M,4] (x1, y1, x2, y2)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda r: (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


@dataclass
class TrackerConfig:
    """Tracker knobs; the CLI exposes ``detect_hz``, ``min_score`` and ``filter``."""

    detect_hz: float = 5.0
    min_score: float = 0.5
    #: consecutive frames under ``min_score`` before a track ends ("stays under").
    patience: int = 3
    #: detection-to-track IoU needed to call a detection an existing face.
    iou_match: float = 0.3
    #: two tracks whose landmarks differ by less than this fraction of the box are one face.
    duplicate_distance: float = 0.06
    max_tracks: int = 8
    filter: str = "oneeuro"
    pose: bool = True
    #: shift each crop by the face's recent motion (helps fast motion; 0 disables).
    motion: float = 1.0
    #: landmark passes on a new detection (the first crop from a detector box is coarse).
    init_passes: int = 2
    #: a matched detection overlapping its track less than this (or a track scoring under
    #: ``min_score``) restarts the track's landmarks from the detection, keeping its id.
    reseed_iou: float = 0.6


@dataclass
class Track:
    id: int
    raw: np.ndarray  # unsmoothed landmarks: the next crop comes from these
    landmarks: np.ndarray  # smoothed landmarks: what is reported and drawn
    score: float | None
    filter: PointFilter
    start_frame: int
    pose: HeadPose | None = None
    score_ema: float | None = None  # the drop decision uses this, not one frame's score
    low: int = 0
    confirmed_t: float = -np.inf  # last time a detection matched this track
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))

    def next_box(self, motion: float) -> np.ndarray:
        box = crop_from_landmarks(self.raw)
        side = box[2] - box[0]
        shift = np.clip(self.velocity * motion, -0.5 * side, 0.5 * side)
        return box + np.concatenate([shift, shift])


@dataclass
class TrackedFace:
    """One face in one frame's output."""

    id: int
    box: np.ndarray
    score: float | None
    landmarks: np.ndarray
    pose: HeadPose | None
    age: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "box": [round(float(v), 2) for v in self.box],
            "score": None if self.score is None else round(float(min(max(self.score, 0.0), 1.0)), 4),
            "landmarks": np.round(self.landmarks, 2).tolist(),
            "pose": None if self.pose is None else _rounded(self.pose.to_dict()),
            "age": self.age,
        }


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: ([round(x, 4) for x in v] if isinstance(v, list) else round(v, 4)) for k, v in d.items()}


@dataclass
class FrameResult:
    frame: int
    t: float
    width: int
    height: int
    faces: list[TrackedFace]
    detections: int | None
    timings: dict[str, float | None]

    def to_record(self) -> dict[str, Any]:
        """The JSON-lines record (``zoo.track.schema``)."""
        return {
            "schema": SCHEMA_VERSION, "frame": self.frame, "t": round(self.t, 4), "width": self.width,
            "height": self.height, "faces": [f.to_dict() for f in self.faces], "detections": self.detections,
            "timings_ms": {k: (None if v is None else round(v, 4)) for k, v in self.timings.items()},
        }


class Tracker:
    """Tracks faces through frames given a landmark predictor and a detector runner."""

    def __init__(self, predictor: LandmarkPredictor, detector: DetectorThread | InlineDetector | None,
                 config: TrackerConfig | None = None) -> None:
        self.predictor, self.runner = predictor, detector
        self.config = config or TrackerConfig()
        make_filter(self.config.filter)  # fail early on a bad name
        self.tracks: list[Track] = []
        self._next_id = 0
        self._last_submit = -np.inf
        self._need_detect = True
        self.stats = {"detections": 0, "detector_calls": 0, "detector_ms": 0.0, "tracks_started": 0, "tracks_dropped": 0}

    # ------------------------------------------------------------------ per-frame update
    def update(self, image_rgb: np.ndarray, frame: int, t: float) -> FrameResult:
        """Advance every track to this frame, fold in detections, return this frame's faces."""
        h, w = image_rgb.shape[:2]
        timings: dict[str, float | None] = dict.fromkeys(STAGES, 0.0)
        self._maybe_detect(image_rgb, frame, t)  # not timed: normally a hand-off to the background thread
        if not self.tracks and isinstance(self.runner, DetectorThread):
            # Nothing to track until the detector answers: waiting costs no tracking, and a file read
            # faster than real time would otherwise run past every face before the first detection.
            self.runner.wait_idle()
        t_start = time.perf_counter()
        for tr in list(self.tracks):
            if not self._step(tr, image_rgb, t, timings):
                self.tracks.remove(tr)
                self.stats["tracks_dropped"] += 1
                self._need_detect = True
        self._merge_duplicates()
        n_det, det_ms = self._fold_detections(image_rgb, frame, t, timings)
        if not self.tracks:
            self._need_detect = True
        faces = [TrackedFace(tr.id, crop_from_landmarks(tr.landmarks), tr.score, tr.landmarks, tr.pose,
                             frame - tr.start_frame) for tr in sorted(self.tracks, key=lambda tr: tr.id)]
        timings["total"] = (time.perf_counter() - t_start) * 1e3
        timings["detect"] = det_ms
        return FrameResult(frame, float(t), w, h, faces, n_det, timings)

    def seed(self, image_rgb: np.ndarray, box: np.ndarray, frame: int, t: float) -> Track | None:
        """Start a track from a crop box (e.g. ground truth when no detector fires), as a detection would.

        None when the landmarks are implausible (mostly outside the image, tiny), the face is already
        tracked, or ``max_tracks`` are live.
        """
        timings: dict[str, float | None] = dict.fromkeys(STAGES, 0.0)
        return self._start(image_rgb, np.asarray(box, np.float64), frame, t, timings)

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()

    # ------------------------------------------------------------------ internals
    def _maybe_detect(self, image: np.ndarray, frame: int, t: float) -> None:
        if self.runner is None or self.runner.busy:
            return
        due = (t - self._last_submit) >= 1.0 / max(self.config.detect_hz, 1e-6)
        if (due or self._need_detect) and self.runner.submit(frame, image.copy() if isinstance(self.runner, DetectorThread)
                                                             else image):
            self._last_submit, self._need_detect = t, False
            self.stats["detector_calls"] += 1

    def _predict(self, image: np.ndarray, box: np.ndarray, timings: dict) -> tuple[np.ndarray, float | None]:
        stages = getattr(self.predictor, "predict_stages", None)
        t0 = time.perf_counter()
        if stages is not None:  # a predictor that times crop and model separately
            pred, split = stages(image, box)
            timings["crop"] += split.get("crop", 0.0)
            timings["landmarks"] += split.get("landmarks", (time.perf_counter() - t0) * 1e3 - split.get("crop", 0.0))
        else:
            pred = self.predictor.predict(image, box)
            timings["landmarks"] += (time.perf_counter() - t0) * 1e3
        score = getattr(pred, "face_score", None)
        return np.asarray(pred.landmarks, np.float64), None if score is None else float(score)

    def _face_ok(self, lm: np.ndarray, score: float | None, w: int, h: int) -> bool:
        inside = np.mean((lm[:, 0] >= 0) & (lm[:, 0] < w) & (lm[:, 1] >= 0) & (lm[:, 1] < h))
        side = float(np.ptp(lm, axis=0).max())
        return inside >= 0.5 and side >= 8 and (score is None or score >= self.config.min_score)

    def _step(self, tr: Track, image: np.ndarray, t: float, timings: dict) -> bool:
        h, w = image.shape[:2]
        box = tr.next_box(self.config.motion)
        lm, score = self._predict(image, box, timings)
        tr.score = score
        if score is not None:
            tr.score_ema = score if tr.score_ema is None else 0.6 * tr.score_ema + 0.4 * score
        if not self._face_ok(lm, tr.score_ema, w, h):
            tr.low += 1
            # A face the detector found within the last detection interval (plus half of one for the
            # detector's own latency) is kept regardless, so a face the detector keeps finding keeps its id.
            return tr.low < self.config.patience or t - tr.confirmed_t <= 1.5 / self.config.detect_hz
        tr.low = 0
        centre_move = lm.mean(0) - tr.raw.mean(0)
        tr.velocity = 0.7 * centre_move + 0.3 * tr.velocity
        tr.raw = lm
        self._smooth_and_pose(tr, t, (w, h), timings)
        return True

    def _smooth_and_pose(self, tr: Track, t: float, size: tuple[int, int], timings: dict) -> None:
        t0 = time.perf_counter()
        tr.landmarks = tr.filter(tr.raw, t, scale=float(np.ptp(tr.raw, axis=0).max()))
        t1 = time.perf_counter()
        timings["filter"] += (t1 - t0) * 1e3
        if self.config.pose and tr.landmarks.shape[0] >= 68:
            try:
                tr.pose = estimate_pose(tr.landmarks, size, prev=tr.pose)
            except ValueError:
                tr.pose = None
            timings["pose"] += (time.perf_counter() - t1) * 1e3

    def _start(self, image: np.ndarray, box: np.ndarray, frame: int, t: float, timings: dict) -> Track | None:
        if len(self.tracks) >= self.config.max_tracks:
            return None
        h, w = image.shape[:2]
        lm, scores = None, []
        for _ in range(max(1, self.config.init_passes)):
            lm, score = self._predict(image, box, timings)
            scores.append(score)
            if not self._face_ok(lm, None, w, h):
                return None
            box = crop_from_landmarks(lm)
        # The detector starts tracks, whatever the model's score: a track holds its face at least
        # until the next detection, and from then on the score (or new detections) keeps it alive.
        best = None if scores[-1] is None else max(scores)
        tr = Track(self._next_id, lm, lm, scores[-1], make_filter(self.config.filter), frame, score_ema=best, confirmed_t=t)
        if self._duplicate_of_live(tr):
            return None
        self._next_id += 1
        self._smooth_and_pose(tr, t, (w, h), timings)
        self.tracks.append(tr)
        self.stats["tracks_started"] += 1
        return tr

    def _same_face(self, a: np.ndarray, b: np.ndarray) -> bool:
        side = max(float(np.ptp(a, axis=0).max()), 1.0)
        return float(np.mean(np.linalg.norm(a - b, axis=1))) < self.config.duplicate_distance * side

    def _duplicate_of_live(self, tr: Track) -> bool:
        return any(self._same_face(tr.raw, other.raw) for other in self.tracks)

    def _merge_duplicates(self) -> None:
        """Two tracks that converged onto one face (e.g. after an occlusion): keep the older."""
        keep: list[Track] = []
        for tr in sorted(self.tracks, key=lambda tr: tr.id):
            if any(self._same_face(tr.raw, k.raw) for k in keep):
                self.stats["tracks_dropped"] += 1
                continue
            keep.append(tr)
        self.tracks = keep

    def _fold_detections(self, image: np.ndarray, frame: int, t: float, timings: dict) -> tuple[int | None, float | None]:
        result = self.runner.poll() if self.runner is not None else None
        if result is None:
            return None, None
        self.stats["detections"] += len(result.detections)
        self.stats["detector_ms"] += result.ms
        boxes = [self.runner.detector.crop_box(d.box) for d in result.detections]
        new, matched = self._associate(boxes, t)
        stale = frame - result.frame > 1  # from the background thread, a few frames old
        for box, tr in matched:
            self._reseed(tr, image, box, t, timings, stale)
        for box in new:
            self._start(image, box, frame, t, timings)
        return len(result.detections), result.ms

    def _associate(self, boxes: list[np.ndarray], t: float) -> tuple[list[np.ndarray], list[tuple[np.ndarray, Track]]]:
        """Match detections to tracks (IoU, Hungarian): (unmatched boxes, matched (box, track) pairs).

        A detector hit confirms a track's face even when the model's score wavers, so a track holds
        its face on every frame the detector finds it.
        """
        if not boxes or not self.tracks:
            return boxes, []
        iou = iou_matrix(np.array(boxes), np.array([crop_from_landmarks(tr.raw) for tr in self.tracks]))
        rows, cols = linear_sum_assignment(-iou)
        matched = []
        for r, c in zip(rows, cols, strict=True):
            if iou[r, c] >= self.config.iou_match:
                tr = self.tracks[c]
                tr.low, tr.confirmed_t = 0, t
                matched.append((boxes[r], tr))
        done = {id(b) for b, _ in matched}
        # A detection overlapping any live track is that face seen again, even if Hungarian gave
        # the track to another detection; only clearly new boxes start tracks.
        return [b for i, b in enumerate(boxes) if id(b) not in done and iou[i].max() < self.config.iou_match], matched

    def _reseed(self, tr: Track, image: np.ndarray, box: np.ndarray, t: float, timings: dict, stale: bool = False) -> None:
        """A doubtful track (low score, or drifted off its detection) restarts its landmarks from the detection.

        A stale detection (computed on an older frame) only re-seeds a low-scoring track: on a moving
        face its box would pull a good track back to where the face was.
        """
        confident = tr.score_ema is None or tr.score_ema >= self.config.min_score
        if confident and (stale or iou_matrix(box, crop_from_landmarks(tr.raw))[0, 0] >= self.config.reseed_iou):
            return
        h, w = image.shape[:2]
        lm, score = self._predict(image, box, timings)
        for _ in range(max(1, self.config.init_passes) - 1):
            lm, score = self._predict(image, crop_from_landmarks(lm), timings)
        if not self._face_ok(lm, None, w, h):
            return
        tr.raw, tr.score, tr.velocity = lm, score, np.zeros(2)
        tr.filter.reset()  # do not smooth across the jump
        self._smooth_and_pose(tr, t, (w, h), timings)
