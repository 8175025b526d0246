"""Shot cuts end identities; a crop or pose that jumps is re-verified (issue 28 item 1), on rendered clips."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from zoo.track.benchmark import relock_frames, score_sequence, track_sequence
from zoo.track.clips import iter_clip
from zoo.track.cuts import CutDetector, appearance, appearance_distance
from zoo.track.oracle import GroundTruthDetector, OraclePredictor
from zoo.track.tracker import TrackerConfig

NO_CHECKS = TrackerConfig(cut_threshold=0, crop_jump=0, pose_jump=1e9)


@cache
def _clip(frames: int, scenario: str, seed: int) -> list:
    return list(iter_clip(frames, scenario, seed))


def _spliced(first: list, second: list, cut: int, new_id: bool) -> list:
    """``first`` up to ``cut``, then ``second`` from there on (a hard cut); ground-truth ids renumbered."""
    out = []
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        k, t, img, gt = a if i < cut else b
        faces = [{**f, "id": 1 if (i >= cut and new_id) else 0} for f in gt["faces"]]
        out.append((k, t, img, {**gt, "faces": faces, "cut": i == cut}))
    return out


def _ids(run) -> list[set[int]]:
    return [{f.id for f in r.faces} for r in run.results]


def test_cut_detector_fires_on_a_cut_and_not_on_motion_or_a_passing_hand():
    frames = _spliced(_clip(40, "hand_pass", 0), _clip(40, "yaw_sweep", 1), 20, True)
    det = CutDetector()
    assert [i for i, (_, _, img, _) in enumerate(frames) if det.update(img)] == [20]
    for scenario in ("hand_pass", "fast_motion", "crossing"):
        det = CutDetector()
        assert not any(det.update(img) for _, _, img, _ in _clip(90, scenario, 0)), scenario


def test_appearance_tells_a_moving_face_from_another_face():
    # Flat cartoon faces change look when they turn (up to ~0.33 a frame at fast motion), so the test
    # uses a slowly moving one; real faces moved like video stay under 0.1 (tests/track/test_photos.py).
    same = _clip(40, "crossing", 0)
    front = [next(f for f in gt["faces"] if f["id"] == 0) for *_, gt in same]  # the face nearer the camera
    looks = [appearance(img, np.asarray(f["landmarks"])) for (_, _, img, _), f in zip(same, front, strict=True)]
    steps = [appearance_distance(a, b) for a, b in zip(looks, looks[1:], strict=False)]
    _, _, img, gt = _clip(40, "yaw_sweep", 1)[0]
    other = appearance(img, np.asarray(gt["faces"][0]["landmarks"]))
    assert max(steps) < 0.2 and appearance_distance(looks[0], other) > 0.3


def test_a_new_person_after_a_cut_gets_a_new_id_and_relocks_at_once():
    # The second face sits where the first was: re-cropping from the old landmarks lands on it.
    frames = _spliced(_clip(40, "hand_pass", 0), _clip(40, "yaw_sweep", 1), 20, True)
    run = track_sequence(OraclePredictor(seed=0), GroundTruthDetector(fire_every=30), frames)
    ids = _ids(run)
    assert ids[19] == {0} and ids[20] and 0 not in ids[20] and ids[-1] == ids[20]
    assert run.results[20].cut and [f.event for f in run.results[20].faces] == ["restarted"]
    m = score_sequence(run)
    assert m["id_errors"] == 0 and m["cuts_found"] == 1 and relock_frames(run) == 0
    # The same clip without the checks: the old id crosses the cut onto the other person.
    before = track_sequence(OraclePredictor(seed=0), GroundTruthDetector(fire_every=30), frames, NO_CHECKS)
    assert _ids(before)[-1] == {0} and score_sequence(before)["id_errors"] == 1


def test_the_same_person_after_a_cut_keeps_the_id():
    # Same face at the same place, another background (another seed): a cut, the same person.
    frames = _spliced(_clip(30, "hand_pass", 0), _clip(30, "hand_pass", 1), 15, False)
    run = track_sequence(OraclePredictor(seed=0), GroundTruthDetector(fire_every=30), frames)
    assert run.results[15].cut and all(ids == {0} for ids in _ids(run))
    assert [f.event for f in run.results[15].faces] == ["reverified"]


class _PoseGlitch:
    """The oracle, except that its first answer on one frame is a turned head's landmarks at the right place
    (a model fooled by one crop; the detector's box gives another crop, answered correctly)."""

    def __init__(self, glitch_frame: int, turned: np.ndarray) -> None:
        self.oracle, self.glitch, self.turned, self.frame = OraclePredictor(noise_px=0.5), glitch_frame, turned, -1

    def set_frame(self, gt: dict) -> None:
        self.oracle.set_frame(gt)
        self.frame = gt["frame"]

    def predict(self, image, box):  # noqa: ANN001, ANN201
        pred = self.oracle.predict(image, box)
        if self.frame == self.glitch:
            self.glitch = -1
            pred.landmarks = self.turned - self.turned.mean(0) + pred.landmarks.mean(0)
        return pred


@pytest.mark.parametrize("checks", [True, False])
def test_a_pose_jump_is_reverified_by_the_detector(checks: bool):
    sweep = _clip(60, "yaw_sweep", 0)
    yaws = [gt["faces"][0]["pose"]["yaw"] for *_, gt in sweep]
    turned = np.asarray(sweep[int(np.argmax(yaws))][3]["faces"][0]["landmarks"])
    assert max(yaws) > 70
    frames = _clip(30, "hand_pass", 0)[:12]  # the still start: a frontal face that does not move
    predictor = _PoseGlitch(8, turned)
    run = track_sequence(predictor, GroundTruthDetector(), frames, TrackerConfig() if checks else NO_CHECKS)
    events = [[f.event for f in r.faces if f.event_age == 0] for r in run.results]
    if checks:  # the glitch is caught on its own frame and the face re-seeded from the detector's box
        assert events[8] == ["reverified"] and abs(run.results[8].faces[0].pose.yaw) < 20
    else:
        assert events[8] == [] and abs(run.results[8].faces[0].pose.yaw) > 30


def test_the_background_detector_answers_at_the_cut_itself():
    # zoo track runs the detector in a thread; at a cut it must answer for the cut frame, not a later one.
    from zoo.track.detectors import DetectorThread
    from zoo.track.tracker import Tracker

    frames = _spliced(_clip(40, "hand_pass", 0), _clip(40, "yaw_sweep", 1), 20, True)
    predictor, detector = OraclePredictor(seed=0), GroundTruthDetector()
    tracker = Tracker(predictor, DetectorThread(detector), TrackerConfig())
    try:
        results = []
        for i, t, img, gt in frames:
            predictor.set_frame(gt)
            detector.set_frame(gt)
            results.append(tracker.update(img, i, t))
            tracker.runner.wait_idle()  # the oracle detector reads the frame set here: keep the thread in step
    finally:
        tracker.close()
    assert results[20].cut and [(f.event, f.id != 0) for f in results[20].faces] == [("restarted", True)]
    assert tracker.stats["cuts"] == 1 and tracker.stats["restarted"] == 1
