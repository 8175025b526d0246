"""Tracking an adapted model (``zoo adapt``): crops, smoothing and pose follow the network's own 70 points,
and the tracker reports the target convention's points, smoothed the same way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from zoo.track.benchmark import track_sequence
from zoo.track.clips import iter_clip
from zoo.track.filters import make_filter
from zoo.track.oracle import GroundTruthDetector, OraclePredictor
from zoo.track.state import Track, TrackerConfig, reported_points

#: A 5-point target convention: outer eye corners, nose tip, mouth corners.
FIVE = [36, 45, 30, 48, 54]


def _similarity(points: np.ndarray, angle: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return points @ (scale * np.array([[c, -s], [s, c]])).T + np.asarray(shift)


def test_reported_points_follow_the_smoothing_similarity() -> None:
    rng = np.random.default_rng(0)
    raw = rng.uniform(50, 150, (70, 2))
    target = rng.uniform(60, 140, (5, 2))
    smoothed = _similarity(raw - 100, 0.05, 1.02, (101.5, 98.0))
    tr = Track(0, raw, smoothed, 0.9, make_filter("none"), 0, reported=target)
    np.testing.assert_allclose(reported_points(tr), _similarity(target - 100, 0.05, 1.02, (101.5, 98.0)), atol=1e-9)
    tr.reported = None
    assert reported_points(tr) is smoothed


@dataclass
class _Adapted:
    landmarks: np.ndarray
    face_score: float | None
    box: np.ndarray
    reported: np.ndarray | None = None


class _AdaptedOracle(OraclePredictor):
    """Ground truth + noise as the network's own points, and five of them as the adapted target."""

    def predict(self, image_rgb: np.ndarray, box: np.ndarray) -> _Adapted:
        p = super().predict(image_rgb, box)
        return _Adapted(p.landmarks, p.face_score, p.box, reported=p.landmarks[FIVE] + 0.0)


def test_tracker_reports_the_target_points_and_poses_from_its_own() -> None:
    frames = list(iter_clip(100, "fast_motion", 0))  # the clip the id test of test_tracker.py uses
    truth = {frame[0]: frame[3] for frame in frames}
    run = track_sequence(_AdaptedOracle(noise_px=1.0), GroundTruthDetector(fire_every=15), frames,
                         TrackerConfig(filter="oneeuro"))
    faces = [(r.frame, f) for r in run.results for f in r.faces]
    assert len(faces) == 100 and {f.id for _, f in faces} == {0}
    worst = 0.0
    for frame, face in faces:
        assert face.landmarks.shape == (5, 2)
        assert face.pose is not None  # solved from the network's own 70 points, which a 5-point target lacks
        want = np.asarray(truth[frame]["faces"][0]["landmarks"])[FIVE]
        worst = max(worst, float(np.abs(face.landmarks - want).max()))
    assert worst < 12.0  # the oracle's 1 px noise plus the filter's lag on fast motion


def test_tracking_predictor_splits_an_adapted_models_outputs(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from tests.adapt.test_adapt_export import adapted_checkpoint
    from zoo.track.model import load_predictor

    ckpt = adapted_checkpoint(tmp_path / "adapted.pt", 5, "ridge")
    predictor = load_predictor(str(ckpt), backend="torch")
    image = np.full((200, 200, 3), 127, np.uint8)
    pred = predictor.predict(image, np.array([40.0, 40.0, 160.0, 160.0]))
    assert pred.landmarks.shape == (70, 2) and pred.reported is not None and pred.reported.shape == (5, 2)


def test_json_schema_takes_k_points_only_with_a_convention() -> None:
    from zoo.track.schema import SchemaError, validate_frame

    face = {"id": 0, "box": [0, 0, 10, 10], "score": 0.9, "landmarks": [[1.0, 2.0]] * 5, "pose": None, "age": 0,
            "event": None}
    record = {"schema": "zoo.track/1", "frame": 0, "t": 0.0, "width": 20, "height": 20, "faces": [face],
              "detections": None, "cut": False,
              "timings_ms": dict.fromkeys(("crop", "landmarks", "filter", "pose", "total", "detect"), 0.0)}
    with pytest.raises(SchemaError, match="convention"):
        validate_frame(record)
    face["convention"] = "adapted:5"
    validate_frame(record)
