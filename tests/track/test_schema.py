"""The per-frame JSON-lines schema: tracker output validates, broken records are named precisely."""

from __future__ import annotations

import json

import pytest

from zoo.track.benchmark import track_sequence
from zoo.track.clips import iter_clip
from zoo.track.oracle import GroundTruthDetector, OraclePredictor
from zoo.track.schema import SchemaError, frame_errors, validate_frame, validate_lines


@pytest.fixture(scope="module")
def records() -> list[dict]:
    run = track_sequence(OraclePredictor(), GroundTruthDetector(), iter_clip(12, "crossing", 2))
    return [json.loads(json.dumps(r.to_record())) for r in run.results]


def test_tracker_output_validates(records):
    assert validate_lines(json.dumps(r) for r in records) == 12
    face = records[-1]["faces"][0]
    assert len(face["landmarks"]) == 70 and face["pose"] is not None and 0 <= face["score"] <= 1


@pytest.mark.parametrize("breakage, message", [
    (lambda r: r.pop("timings_ms"), "timings_ms"),
    (lambda r: r["faces"][0].update(box=[10, 10, 5, 5]), "faces[0].box"),
    (lambda r: r["faces"][0].update(score=1.5), "faces[0].score"),
    (lambda r: r["faces"][0]["landmarks"].pop(), "faces[0].landmarks"),
    (lambda r: r["faces"][0]["pose"].pop("rvec"), "faces[0].pose"),
    (lambda r: r["faces"].append(dict(r["faces"][0])), "duplicate track ids"),
    (lambda r: r.update(schema="other/1"), "schema"),
])
def test_broken_records_are_named(records, breakage, message):
    record = json.loads(json.dumps(records[-1]))
    breakage(record)
    assert any(message in e for e in frame_errors(record))
    with pytest.raises(SchemaError, match="."):
        validate_frame(record)


def test_frames_must_increase(records):
    lines = [json.dumps(records[3]), json.dumps(records[2])]
    with pytest.raises(SchemaError, match="line 2: frame 2 does not follow frame 3"):
        validate_lines(lines)
