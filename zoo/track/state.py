"""The tracker's knobs (``TrackerConfig``), its per-face state (``Track``) and what it needs of a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from zoo.pose import HeadPose

from .filters import PointFilter
from .geometry import crop_from_landmarks

#: What settling a face from a box gives: its landmarks, the face score of each pass, and the reported points.
Settled = tuple[np.ndarray, list[float | None], np.ndarray | None]


class LandmarkPredictor(Protocol):
    """What the tracker needs: ``zoo.track.model.TrackingPredictor`` (wrapping ``zoo.predict.Predictor``)
    or a test double. It may also offer ``predict_stages(image, box) -> (prediction, {"crop": ms,
    "landmarks": ms})`` so the tracker can report the two stages apart."""

    def predict(self, image_rgb: np.ndarray, box: np.ndarray) -> Any:
        """Landmarks for the face in ``box``, the model's crop box itself (square, already 1.5x the
        landmark extent; not a detector box): an object with ``landmarks`` [K,2] px and ``face_score``."""


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
    #: shot-cut threshold (median grid-cell colour-histogram distance, ``zoo.track.cuts``); 0 turns it off.
    cut_threshold: float = 0.25
    #: re-verify a track whose crop differs from the previous frame's by more than this
    #: (``cuts.appearance_distance``: ~0.05 frame to frame, >= 0.3 between two people); 0 turns it off.
    crop_jump: float = 0.3
    #: re-verify a track whose yaw, pitch or roll changes by more than this in one frame (degrees).
    pose_jump: float = 40.0
    #: after a cut a face keeps its track's id only when it looks this much like it (appearance distance:
    #: a real face moved and turned a little scores <= 0.1, two people >= 0.2 in 120 LFPW pairs).
    #: Without a cut a face the detector confirms keeps its id: a crop that jumps there is far more
    #: often a hand passing or a quick turn, which changes the look, than another person.
    same_face: float = 0.2


@dataclass
class Track:
    id: int
    raw: np.ndarray  # unsmoothed landmarks: the next crop comes from these
    landmarks: np.ndarray  # smoothed landmarks: what is drawn and reported (unless ``reported`` is set), and posed
    score: float | None
    filter: PointFilter
    start_frame: int
    pose: HeadPose | None = None
    score_ema: float | None = None  # the drop decision uses this, not one frame's score
    low: int = 0
    confirmed_t: float = -np.inf  # last time a detection matched this track
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    look: np.ndarray | None = None  # appearance signature (``cuts.appearance``) of the last trusted frame
    event: str | None = None  # "new", "restarted" (new id after a re-verification) or "reverified"
    event_frame: int = 0
    suspect: bool = False  # waiting for a re-verification
    #: the points an adapted model reports in its target convention (``zoo adapt``), unsmoothed; ``raw``
    #: and ``landmarks`` then hold the network's own 70 points, which crops, filtering and pose follow.
    reported: np.ndarray | None = None

    def next_box(self, motion: float) -> np.ndarray:
        box = crop_from_landmarks(self.raw)
        side = box[2] - box[0]
        shift = np.clip(self.velocity * motion, -0.5 * side, 0.5 * side)
        return box + np.concatenate([shift, shift])


def reported_points(tr: Track) -> np.ndarray:
    """The points a track reports: its smoothed landmarks, or an adapted model's target points moved by
    the same smoothing.

    An adapted model's map works in the eye frame of the network's own points, so it commutes with any
    similarity transform of them: the similarity that takes this frame's raw points to their smoothed
    ones, applied to the target points, smooths those the same way without a filter of their own.
    """
    if tr.reported is None:
        return tr.landmarks
    a, b = tr.raw - tr.raw.mean(0), tr.landmarks - tr.landmarks.mean(0)
    za, zb = a[:, 0] + 1j * a[:, 1], b[:, 0] + 1j * b[:, 1]
    norm = float(np.vdot(za, za).real)
    s = complex(np.vdot(za, zb)) / norm if norm > 0 else 1.0  # least-squares scale-rotation (Umeyama in 2-D)
    zr = (tr.reported[:, 0] - tr.raw.mean(0)[0]) + 1j * (tr.reported[:, 1] - tr.raw.mean(0)[1])
    moved = s * zr
    return np.stack([moved.real, moved.imag], axis=1) + tr.landmarks.mean(0)
