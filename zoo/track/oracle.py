"""Ground-truth stand-ins for the landmark model and the detector, on rendered clips.

``OraclePredictor`` answers like a landmark model that is exactly as good as its noise: the
ground-truth landmarks of the face its crop is on, plus Gaussian noise, with a high face
score while that face is mostly visible. ``GroundTruthDetector`` returns the ground-truth
boxes (optionally firing only every n-th frame). Together they test the tracking logic (ids, drops,
smoothing, association) independently of any model's quality, and they seed tracks on
rendered faces the HOG detector does not fire on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .detectors import Detection, square_box


@dataclass
class OraclePrediction:
    landmarks: np.ndarray
    face_score: float | None
    box: np.ndarray
    pose: Any = None


class OraclePredictor:
    """Ground truth + noise for the face whose landmarks best fill the crop box."""

    def __init__(self, noise_px: float = 1.0, seed: int = 0, min_visible: float = 0.5) -> None:
        self.noise_px, self.min_visible = noise_px, min_visible
        self.rng = np.random.default_rng(seed)
        self.faces: list[dict[str, Any]] = []

    def set_frame(self, gt_record: dict[str, Any]) -> None:
        self.faces = gt_record["faces"]

    def predict(self, image_rgb: np.ndarray, box: np.ndarray) -> OraclePrediction:
        box = np.asarray(box, np.float64)
        side = box[2] - box[0]
        centre = (box[:2] + box[2:]) / 2
        best, best_d = None, np.inf
        for face in self.faces:
            lm = np.asarray(face["landmarks"])
            d = np.linalg.norm(lm.mean(0) - centre) / side
            inside = np.mean((lm >= box[:2]).all(1) & (lm <= box[2:]).all(1))
            if inside >= 0.6 and d < 0.3 and d < best_d:
                best, best_d = face, d
        if best is None:  # background: a mean-shaped guess in the box and a low score
            lm = centre + (np.asarray(self.faces[0]["landmarks"]) - np.asarray(self.faces[0]["landmarks"]).mean(0)) \
                if self.faces else np.tile(centre, (70, 1))
            return OraclePrediction(lm, 0.05, box)
        lm = np.asarray(best["landmarks"]) + self.rng.normal(0, self.noise_px, (len(best["landmarks"]), 2))
        score = 0.95 if best.get("visible", 1.0) >= self.min_visible else 0.1
        return OraclePrediction(lm, score, box)


class GroundTruthDetector:
    """Detector that returns the ground-truth crop boxes of visible faces (``set_frame`` first)."""

    name = "gt"

    def __init__(self, fire_every: int = 1, min_visible: float = 0.6) -> None:
        self.fire_every, self.min_visible = max(1, fire_every), min_visible
        self.faces: list[dict[str, Any]] = []
        self.frame = 0

    def set_frame(self, gt_record: dict[str, Any]) -> None:
        self.faces, self.frame = gt_record["faces"], gt_record["frame"]

    def detect(self, image_rgb: np.ndarray) -> list[Detection]:
        if self.frame % self.fire_every:  # a detector that misses the frames in between
            return []
        return [Detection(np.asarray(f["box"], np.float64), 1.0) for f in self.faces if f.get("visible", 1.0) >= self.min_visible]

    def crop_box(self, box: np.ndarray) -> np.ndarray:
        return square_box(box, 1.0)
