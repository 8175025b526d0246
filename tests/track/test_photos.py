"""Real-photo scenarios (issue 28 items 2-3): built from ../shared/data/real at run time; skipped without it."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.track.benchmark import run_tracking_benchmark
from zoo.track.clips import iter_photo_clip
from zoo.track.cuts import appearance, appearance_distance
from zoo.track.detector_eval import crowd_frames, evaluate, match
from zoo.track.detectors import Detection
from zoo.track.oracle import OraclePredictor
from zoo.track.photo_bench import run_photo_scenario
from zoo.track.photos import iter_crowd_clip, pick_samples, real_folder
from zoo.track.tracker import TrackerConfig

needs_photos = pytest.mark.skipif(not real_folder().is_dir(), reason="../shared/data/real/lfpw-train not present")


def test_match_counts_hits_once_and_the_rest_as_false():
    lm = np.array([[100.0, 100.0], [160.0, 170.0]])  # a 60 px wide landmark box
    faces = [{"landmarks": lm}, {"landmarks": lm + 300}]
    found, false = match([np.array([95, 95, 165, 175.0]), np.array([98, 98, 160, 170.0]), np.array([0, 0, 10, 10.0])], faces)
    assert found == [True, False] and false == 2  # the duplicate and the stray box are both false


@needs_photos
def test_crowd_clip_has_real_faces_at_30_to_120_px_inside_the_frame():
    frames = list(iter_crowd_clip(pick_samples(count=6), 6, seed=0))
    widths = sorted(f["width"] for f in frames[-1][3]["faces"])
    assert len(widths) == 6 and 27 <= widths[0] < 40 and 105 < widths[-1] <= 135
    for _, _, img, gt in frames:
        assert img.shape == (480, 640, 3)
        assert all(f["visible"] == 1.0 for f in gt["faces"])


@needs_photos
def test_appearance_separates_real_people_and_holds_for_one_person_moved():
    samples = pick_samples(count=8)
    clip = list(iter_photo_clip(samples[0].image_path, samples[0].landmarks, 40, 0))
    looks = [appearance(img, gt["faces"][0]["landmarks"]) for _, _, img, gt in clip]
    assert max(appearance_distance(looks[0], x) for x in looks) < 0.12
    firsts = [next(iter(iter_photo_clip(s.image_path, s.landmarks, 2, 0))) for s in samples]
    others = [appearance(img, gt["faces"][0]["landmarks"]) for _, _, img, gt in firsts]
    assert min(appearance_distance(a, b) for i, a in enumerate(others) for b in others[i + 1:]) > 0.2


@needs_photos
def test_a_cut_between_two_people_changes_the_id_and_relocks_within_2_frames():
    m = run_photo_scenario("photo_cut", OraclePredictor(seed=0), "gt", pairs=3, frames=30)
    assert m["cuts_found"] == 3 and m["id_errors"] == 0 and m["relock_frames"] <= 2 and m["recall"] == 1.0
    before = run_photo_scenario("photo_cut", OraclePredictor(seed=0), "gt", TrackerConfig(cut_threshold=0, crop_jump=0), pairs=3,
                                frames=30)
    assert before["id_errors"] == 3  # every cut merged two people under one id


@needs_photos
def test_benchmark_writes_real_photo_rows_with_recall_and_id_errors():
    rows = run_tracking_benchmark(OraclePredictor(seed=0), "oracle", scenarios=("photo_crowd_dark",), photos=2)
    by = {r["scenario"]: r for r in rows}
    assert set(by) == {"lfpw_pan", "photo_crowd_dark"}
    crowd = by["photo_crowd_dark"]
    assert crowd["video"].startswith("real:lfpw-train-crowd-dark:") and crowd["faces"] == 6
    assert crowd["recall"] == 1.0 and crowd["id_errors"] == 0 and crowd["tracks_started"] == 6


@needs_photos
def test_detector_evaluation_scores_the_ground_truth_detector_perfectly():
    frames = crowd_frames(3)

    class Truth:
        def detect(self, rgb):  # noqa: ANN001, ANN201
            truth = next(f for img, f in frames if img is rgb)
            return [Detection(np.r_[np.min(g["landmarks"], 0), np.max(g["landmarks"], 0)], 1.0) for g in truth]

    row = evaluate(Truth(), frames)
    assert row["faces"] == 18 and row["recall"] == 1.0 and row["false_per_frame"] == 0.0
