"""Rendered clips: files written, ground truth consistent with the drawn pose, deterministic per seed."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from zoo.landmarks import NUM_LANDMARKS
from zoo.pose import estimate_pose
from zoo.track.clips import SCENARIOS, iter_clip, read_ground_truth, render_clip


def test_render_clip_writes_video_and_ground_truth(tmp_path):
    video = render_clip(tmp_path / "c", 12, "crossing", 3)
    cap = cv2.VideoCapture(str(video))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape == (480, 640, 3) and n == 12
    truth = read_ground_truth(tmp_path / "c" / "frames.jsonl")
    assert len(truth) == 12 and {f["id"] for f in truth[0]["faces"]} == {0, 1}
    assert truth[0]["faces"][0]["landmarks"].shape == (NUM_LANDMARKS, 2)
    assert truth[1]["still"] and not truth[-1]["still"]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_scenario_renders_deterministically(scenario):
    a = [(img, gt) for _, _, img, gt in iter_clip(6, scenario, 7)]
    b = [(img, gt) for _, _, img, gt in iter_clip(6, scenario, 7)]
    assert all(np.array_equal(x[0], y[0]) and json.dumps(x[1]) == json.dumps(y[1]) for x, y in zip(a, b, strict=True))


def test_yaw_sweep_reaches_80_degrees_and_pose_is_recoverable():
    frames = list(iter_clip(40, "yaw_sweep", 0))
    yaws = [gt["faces"][0]["pose"]["yaw"] for *_, gt in frames]
    assert max(yaws) > 75 and min(yaws) < -75
    face = frames[15][3]["faces"][0]
    pose = estimate_pose(np.asarray(face["landmarks"]), (640, 480))
    assert abs(pose.yaw - face["pose"]["yaw"]) < 2.0


def test_leave_return_has_a_gap_and_a_new_id():
    ids = [[f["id"] for f in gt["faces"]] for *_, gt in iter_clip(60, "leave_return", 0)]
    assert ids[0] == [0] and ids[-1] == [1] and any(not x for x in ids)


def test_bad_scenario_and_length():
    with pytest.raises(ValueError, match="unknown scenario"):
        list(iter_clip(5, "moonwalk", 0))
    with pytest.raises(ValueError, match="at least 2 frames"):
        list(iter_clip(1, "crossing", 0))


def test_synth_faces_land_where_their_landmarks_say():
    pytest.importorskip("zoo.synth.render")
    frames = list(iter_clip(3, "crossing", 0, renderer="synth"))
    _, _, img, gt = frames[0]
    assert {f["id"] for f in gt["faces"]} == {0, 1}
    bg = next(iter(iter_clip(3, "leave_return", 0)))[2]  # same seed: same background, different scenario
    for face in gt["faces"]:
        x, y = np.round(np.asarray(face["landmarks"])[30]).astype(int)  # nose tip: face pixels, not background
        assert np.abs(img[y, x].astype(int) - bg[y, x].astype(int)).sum() > 30


def test_photo_clip_carries_the_annotation_through_the_motion(real_dir):
    from zoo.data.formats import read_300w
    from zoo.track.clips import iter_photo_clip

    sample = read_300w(real_dir / "lfpw-train")[0]
    frames = list(iter_photo_clip(sample.image_path, sample.landmarks, frames=30, seed=0))
    first, moved = frames[0][3]["faces"][0], frames[20][3]["faces"][0]
    assert first["iod"] == pytest.approx(70.0, rel=1e-6)
    assert np.allclose(np.asarray(first["landmarks"]).mean(0), (320, 240))
    assert not np.allclose(first["landmarks"], moved["landmarks"]) and frames[3][3]["still"]
