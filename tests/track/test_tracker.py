"""Tracking logic on rendered clips, with a ground-truth + noise predictor standing in for a model."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from zoo.track.benchmark import score_sequence, track_sequence
from zoo.track.clips import iter_clip
from zoo.track.detectors import DetectorThread
from zoo.track.oracle import GroundTruthDetector, OraclePredictor
from zoo.track.tracker import Tracker, TrackerConfig, iou_matrix


@cache
def _clip(frames: int, scenario: str, seed: int) -> list:
    return list(iter_clip(frames, scenario, seed))


def _run(scenario: str, frames: int, filt: str = "oneeuro", noise: float = 1.0, fire_every: int = 1, seed: int = 0):
    predictor = OraclePredictor(noise_px=noise, seed=seed)
    detector = GroundTruthDetector(fire_every=fire_every)
    return track_sequence(predictor, detector, _clip(frames, scenario, seed), TrackerConfig(filter=filt))


def _ids(run) -> list[set[int]]:
    return [{f.id for f in r.faces} for r in run.results]


def test_one_face_keeps_one_id_for_100_frames():
    # The detector fires only every 15th frame: the id must survive its misses.
    run = _run("fast_motion", 100, fire_every=15)
    assert all(ids == {0} for ids in _ids(run))
    m = score_sequence(run)
    assert m["id_switches"] == 0 and m["frames_lost"] == 0
    assert m["nme_mean"] < 5.0


def test_two_faces_keep_two_ids_through_a_crossing():
    run = _run("crossing", 60, fire_every=5)
    ids = _ids(run)
    assert ids[0] == {0, 1} and ids[-1] == {0, 1}
    assert all(len(s) <= 2 for s in ids)
    m = score_sequence(run)
    assert m["id_switches"] == 0


def test_face_that_leaves_is_dropped_within_10_frames_and_returns_with_a_new_id():
    frames = 90
    run = _run("leave_return", frames)
    gone = [i for i, g in enumerate(run.truth) if not any(f["visible"] >= 0.5 for f in g["faces"])]
    first_gone = gone[0]
    assert all(not r.faces for r in run.results[first_gone + 10:gone[-1] + 1])
    before = set().union(*_ids(run)[:first_gone])
    after = set().union(*_ids(run)[gone[-1] + 1:])
    assert before == {0} and after and not (after & before)


def test_smoothing_reduces_jitter_on_a_still_face():
    raw = score_sequence(_run("yaw_sweep", 60, filt="none", noise=1.5))["jitter_iod"]
    for filt in ("oneeuro", "kalman"):
        smooth = score_sequence(_run("yaw_sweep", 60, filt=filt, noise=1.5))["jitter_iod"]
        assert smooth < 0.6 * raw, (filt, smooth, raw)


def test_tracks_end_on_low_score_not_on_detector_misses():
    predictor, detector = OraclePredictor(), GroundTruthDetector(fire_every=1000)
    clip = list(iter_clip(40, "hand_pass", 3))
    tracker = Tracker(predictor, None, TrackerConfig(patience=3))
    predictor.set_frame(clip[0][3])
    assert tracker.seed(clip[0][2], np.asarray(clip[0][3]["faces"][0]["box"]), 0, 0.0) is not None
    for i, t, rgb, gt in clip:
        predictor.set_frame(gt)
        detector.set_frame(gt)
        res = tracker.update(rgb, i, t)
        assert [f.id for f in res.faces] == [0]


def test_unknown_filter_is_refused():
    with pytest.raises(ValueError, match="unknown filter"):
        Tracker(OraclePredictor(), None, TrackerConfig(filter="median"))


def test_background_detector_thread_starts_a_track_without_blocking():
    predictor, detector = OraclePredictor(), GroundTruthDetector()
    tracker = Tracker(predictor, DetectorThread(detector), TrackerConfig())
    try:
        seen = False
        for i, t, rgb, gt in iter_clip(30, "yaw_sweep", 1):
            predictor.set_frame(gt)
            detector.set_frame(gt)
            tracker.runner.wait_idle()
            seen |= bool(tracker.update(rgb, i, t).faces)
        assert seen
    finally:
        tracker.close()


def test_iou_matrix():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    assert np.allclose(iou_matrix(a, b), [[1.0, 1 / 3, 0.0]])
