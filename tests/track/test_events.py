"""What a user sees of cuts and re-verification (issue 28 item 4): JSON events, the video's marks, the summary."""

from __future__ import annotations

import json

import numpy as np
from rich.console import Console

from zoo.track.benchmark import track_sequence
from zoo.track.clips import iter_clip
from zoo.track.oracle import GroundTruthDetector, OraclePredictor
from zoo.track.pipeline import TrackSummary, summary_table
from zoo.track.records import FrameResult, TrackedFace
from zoo.track.schema import frame_errors, validate_lines
from zoo.track.video import draw_result


def _spliced_run():
    a, b = list(iter_clip(24, "hand_pass", 0)), list(iter_clip(24, "yaw_sweep", 1))
    frames = [x if i < 12 else y for i, (x, y) in enumerate(zip(a, b, strict=True))]
    return track_sequence(OraclePredictor(seed=0), GroundTruthDetector(), frames)


def test_json_records_carry_cuts_and_events_and_validate():
    records = [json.loads(json.dumps(r.to_record())) for r in _spliced_run().results]
    assert validate_lines(json.dumps(r) for r in records) == 24
    assert [r["frame"] for r in records if r["cut"]] == [12]
    assert records[0]["faces"][0]["event"] == "new" and records[1]["faces"][0]["event"] is None
    assert records[12]["faces"][0]["event"] == "restarted"
    bad = json.loads(json.dumps(records[12]))
    bad["faces"][0]["event"] = "moved"
    bad["cut"] = "yes"
    errors = frame_errors(bad)
    assert any("event" in e for e in errors) and any(e.startswith("cut") for e in errors)


def test_annotated_frame_marks_a_restarted_track_and_the_cut():
    lm = np.stack([np.linspace(200, 300, 70), np.linspace(150, 260, 70)], axis=1)
    face = TrackedFace(3, np.array([180.0, 130, 320, 280]), 0.9, lm, None, 20)
    timings = {"total": 1.0}

    def drawn(event: str | None, age: int, cut: bool) -> np.ndarray:
        f = TrackedFace(face.id, face.box, face.score, face.landmarks, None, face.age, event, age)
        return draw_result(np.zeros((480, 640, 3), np.uint8), FrameResult(5, 0.2, 640, 480, [f], None, timings, cut), 30.0)

    plain, flagged, faded = drawn(None, 0, False), drawn("restarted", 0, True), drawn("restarted", 40, False)
    below_box = (slice(282, 300), slice(180, 320))  # the event's tag is written under the box
    assert not plain[below_box].any() and not faded[below_box].any() and flagged[below_box].any()
    assert (flagged[:30] != plain[:30]).any()  # the status line says CUT


def test_summary_table_reports_cuts_and_track_counts():
    run = _spliced_run()
    summary = TrackSummary()
    for r in run.results:
        summary.add(r)
    summary.tracker_stats = {"tracks_started": 2, "tracks_dropped": 1, "reverified": 0, "restarted": 1}
    console = Console(record=True, width=120)
    console.print(summary_table(summary, "t", {"recall (ground truth)": "1.000"}))
    text = console.export_text()
    assert "shot cuts found" in text and "2 / 1" in text and "0 / 1" in text and "recall" in text
