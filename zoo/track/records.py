"""What the tracker reports per frame: ``FrameResult`` with one ``TrackedFace`` per live track.

``FrameResult.to_record`` is the JSON-lines record documented in ``zoo.track.schema``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.pose import HeadPose

from .schema import SCHEMA_VERSION


@dataclass
class TrackedFace:
    """One face in one frame's output."""

    id: int
    box: np.ndarray
    score: float | None
    landmarks: np.ndarray
    pose: HeadPose | None
    age: int
    #: the track's last event ("new", "restarted", "reverified") and how many frames ago it was.
    event: str | None = None
    event_age: int = 0
    #: set for an adapted model (``zoo adapt``): its landmarks are that convention's K points, not zoo's 68/70.
    convention: str | None = None

    def to_dict(self) -> dict[str, Any]:
        extra = {} if self.convention is None else {"convention": self.convention}
        return {
            "id": self.id,
            "box": [round(float(v), 2) for v in self.box],
            "score": None if self.score is None else round(float(min(max(self.score, 0.0), 1.0)), 4),
            "landmarks": np.round(self.landmarks, 2).tolist(),
            "pose": None if self.pose is None else _rounded(self.pose.to_dict()),
            "age": self.age,
            "event": self.event if self.event_age == 0 else None,
            **extra,
        }


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: ([round(x, 4) for x in v] if isinstance(v, list) else round(v, 4)) for k, v in d.items()}


@dataclass
class FrameResult:
    frame: int
    t: float
    width: int
    height: int
    faces: list[TrackedFace]
    detections: int | None
    timings: dict[str, float | None]
    cut: bool = False

    def to_record(self) -> dict[str, Any]:
        """The JSON-lines record (``zoo.track.schema``)."""
        return {
            "schema": SCHEMA_VERSION, "frame": self.frame, "t": round(self.t, 4), "width": self.width,
            "height": self.height, "faces": [f.to_dict() for f in self.faces], "detections": self.detections, "cut": self.cut,
            "timings_ms": {k: (None if v is None else round(v, 4)) for k, v in self.timings.items()},
        }
