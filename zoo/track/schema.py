"""The per-frame JSON-lines schema that ``zoo track --json`` writes, and a validator for it.

One JSON object per line, one line per frame, in frame order::

    {
      "schema": "zoo.track/1",          # this document's version
      "frame": 12,                       # 0-based frame index in the source
      "t": 0.4,                          # seconds: video time for files, wall time for cameras
      "width": 640, "height": 480,       # frame size in pixels
      "faces": [                         # one entry per live track, in id order
        {
          "id": 3,                       # track id: unique within the run, never reused
          "box": [x1, y1, x2, y2],       # square box in pixels around the smoothed landmarks (the model's crop)
          "score": 0.97,                 # landmark model's face score in [0, 1], or null (no cls head)
          "landmarks": [[x, y], ...],    # K (68 or 70) smoothed points in pixels, zoo.landmarks order;
                                         # an adapted model's K points when "convention" is present
          "pose": {"yaw": .., "pitch": .., "roll": ..,   # degrees, zoo.pose conventions
                   "rvec": [3 floats], "tvec": [3 floats], "error": px} or null,
          "convention": "adapted:5",     # only for an adapted model (zoo adapt): its K target points
          "age": 40,                     # frames since the track started
          "event": null                  # on the frame it happens: "new" (a detection started the track),
                                         # "restarted" (a new id because, after a cut or a jump, the face
                                         # there is not the track's), "reverified" (checked, kept its id)
        }
      ],
      "detections": 1,                   # detector boxes that arrived this frame, or null (none ran)
      "cut": false,                      # a shot cut was detected on this frame (zoo.track.cuts)
      "timings_ms": {"crop": .., "landmarks": .., "filter": .., "pose": .., "total": .., "detect": ..}
    }

``timings_ms`` are this frame's main-thread stage times summed over faces (``total`` is the
whole tracker update, without video decoding or drawing); ``detect`` is the detector's own
time for a result that arrived this frame (it ran in the background), else null.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "zoo.track/1"
TIMING_KEYS = ("crop", "landmarks", "filter", "pose", "total", "detect")
POSE_KEYS = ("yaw", "pitch", "roll", "rvec", "tvec")
#: a face's ``event`` (optional; absent in files written before shot cuts were detected).
EVENTS = (None, "new", "restarted", "reverified")


class SchemaError(ValueError):
    """A frame record does not follow the documented schema."""


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _face_errors(face: Any, where: str) -> list[str]:
    if not isinstance(face, dict):
        return [f"{where}: not an object"]
    errs = []
    if not _int(face.get("id")) or face["id"] < 0:
        errs.append(f"{where}.id: not a non-negative integer")
    box = face.get("box")
    if not (isinstance(box, list) and len(box) == 4 and all(map(_num, box))) or box[2] <= box[0] or box[3] <= box[1]:
        errs.append(f"{where}.box: not [x1, y1, x2, y2] with x2 > x1 and y2 > y1")
    score = face.get("score")
    if score is not None and not (_num(score) and 0.0 <= score <= 1.0):
        errs.append(f"{where}.score: not null or a number in [0, 1]")
    lm = face.get("landmarks")
    adapted = face.get("convention")
    counts_ok = isinstance(lm, list) and (len(lm) in (68, 70) or (isinstance(adapted, str) and len(lm) >= 1))
    if not (counts_ok and all(isinstance(p, list) and len(p) == 2 and all(map(_num, p)) for p in lm)):
        errs.append(f"{where}.landmarks: not a list of 68 or 70 [x, y] pairs (or of K with a 'convention')")
    pose = face.get("pose")
    if pose is not None:
        if not isinstance(pose, dict) or any(k not in pose for k in POSE_KEYS):
            errs.append(f"{where}.pose: not null or an object with {', '.join(POSE_KEYS)}")
        elif not all(_num(pose[k]) for k in ("yaw", "pitch", "roll")) or not all(
                isinstance(pose[k], list) and len(pose[k]) == 3 and all(map(_num, pose[k])) for k in ("rvec", "tvec")):
            errs.append(f"{where}.pose: angles must be numbers and rvec/tvec lists of 3 numbers")
    if not _int(face.get("age")) or face["age"] < 0:
        errs.append(f"{where}.age: not a non-negative integer")
    if face.get("event") not in EVENTS:
        errs.append(f"{where}.event: not null or one of {', '.join(e for e in EVENTS if e)}")
    return errs


def frame_errors(record: Any) -> list[str]:
    """Every way ``record`` departs from the schema (empty when it is valid)."""
    if not isinstance(record, dict):
        return ["frame record is not a JSON object"]
    errs = []
    if record.get("schema") != SCHEMA_VERSION:
        errs.append(f"schema: expected {SCHEMA_VERSION!r}")
    if not _int(record.get("frame")) or record["frame"] < 0:
        errs.append("frame: not a non-negative integer")
    if not _num(record.get("t")):
        errs.append("t: not a number")
    for k in ("width", "height"):
        if not _int(record.get(k)) or record[k] <= 0:
            errs.append(f"{k}: not a positive integer")
    faces = record.get("faces")
    if not isinstance(faces, list):
        errs.append("faces: not a list")
    else:
        for i, face in enumerate(faces):
            errs += _face_errors(face, f"faces[{i}]")
        ids = [f.get("id") for f in faces if isinstance(f, dict)]
        if len(ids) != len(set(map(str, ids))):
            errs.append("faces: duplicate track ids in one frame")
    dets = record.get("detections")
    if dets is not None and (not _int(dets) or dets < 0):
        errs.append("detections: not null or a non-negative integer")
    if not isinstance(record.get("cut", False), bool):
        errs.append("cut: not true or false")
    timings = record.get("timings_ms")
    if not isinstance(timings, dict) or any(k not in timings for k in TIMING_KEYS):
        errs.append(f"timings_ms: not an object with {', '.join(TIMING_KEYS)}")
    else:
        for k in TIMING_KEYS:
            v = timings[k]
            if not ((v is None and k == "detect") or (_num(v) and v >= 0)):
                errs.append(f"timings_ms.{k}: not a non-negative number")
    return errs


def validate_frame(record: Any) -> None:
    """Raise ``SchemaError`` naming the first problems when ``record`` is not a valid frame."""
    errs = frame_errors(record)
    if errs:
        raise SchemaError("; ".join(errs[:3]) + (f" (+{len(errs) - 3} more)" if len(errs) > 3 else ""))


def validate_lines(lines: Iterable[str]) -> int:
    """Validate JSON lines (text); returns the frame count. Frames must be in increasing order."""
    last, n = -1, 0
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise SchemaError(f"line {lineno}: not JSON ({e.msg})") from None
        try:
            validate_frame(record)
        except SchemaError as e:
            raise SchemaError(f"line {lineno}: {e}") from None
        if record["frame"] <= last:
            raise SchemaError(f"line {lineno}: frame {record['frame']} does not follow frame {last}")
        last, n = record["frame"], n + 1
    return n


def validate_file(path: str | Path) -> int:
    """Validate a ``--json`` output file; returns its frame count."""
    with open(path, encoding="utf-8") as f:
        return validate_lines(f)
