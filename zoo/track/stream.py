"""``zoo.track(source)``: the tracker as a Python generator, one ``TrackedFrame`` per video frame.

The same pipeline as ``zoo track`` (detector in a background thread, landmarks re-cropped from
the previous frame, smoothing, tracks ending under the face score), without writing files: the
caller gets each frame's image and faces and does what it likes with them. ``zoo.track`` (this
package) is callable and forwards here; ``zoo.api.track`` is the same function.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ModelNotFoundError, SourceError, first_line

from .tracker import TrackedFace


@dataclass
class TrackedFrame:
    """One video frame with the faces tracked in it (``faces[i].id`` persists across frames)."""

    index: int
    t: float  #: seconds from the start of the source
    image: np.ndarray  #: the frame, RGB uint8 [H,W,3]
    faces: list[TrackedFace]  #: each with ``.id``, ``.landmarks`` (image pixels), ``.score``, ``.pose``, ``.box``
    record: dict[str, Any]  #: the JSON-lines record ``zoo track --json`` writes (timings included)


def track_frames(source: str | Path, model: str | Path | None = None, backend: str = "onnx", threads: int = 1,
                 detector: str = "hog", detect_hz: float = 5.0, min_score: float = 0.5, filter: str = "oneeuro",  # noqa: A002
                 max_frames: int | None = None) -> Iterator[TrackedFrame]:
    """Track faces through a video file, a folder of frames or ``"camera:N"``, yielding each frame.

    ``model``: a variant with shipped weights, a zoo checkpoint or an exported artifact; None is
    the shipped default (``zoo/weights/DEFAULT``). Raises ``SourceError`` for a source or detector
    that cannot be opened and ``ModelNotFoundError`` for a model that cannot be loaded, before the
    first frame. The detector thread and the source are released when the loop ends or breaks off.
    """
    from .detectors import DetectorError, DetectorThread, make_detector
    from .model import ModelError, choose_model, load_predictor
    from .tracker import Tracker, TrackerConfig
    from .video import SourceError as VideoSourceError
    from .video import VideoSource

    try:
        config = TrackerConfig(detect_hz=detect_hz, min_score=min_score, filter=filter)
        det = make_detector(detector)
        src = VideoSource(str(source))
    except (DetectorError, VideoSourceError, ValueError) as e:
        raise SourceError(first_line(e)) from None
    if model is not None and not Path(model).exists() and "/" not in str(model):
        from zoo.weights import weights_for

        if weights_for(str(model)) is None:  # a bare variant would run random-init weights
            src.close()
            raise ModelNotFoundError(f"variant {model!r} has no shipped weights; give a trained checkpoint path, "
                                     "or leave model out for the shipped default")
    try:
        pick, _ = choose_model(None if model is None else str(model), None, backend)
        predictor = load_predictor(pick.spec, backend, threads)
    except ModelError as e:
        src.close()
        raise ModelNotFoundError(first_line(e)) from None
    tracker = Tracker(predictor, DetectorThread(det), config)
    try:
        for frame in src:
            if max_frames is not None and frame.index >= max_frames:
                break
            res = tracker.update(frame.rgb, frame.index, frame.t)
            yield TrackedFrame(frame.index, frame.t, frame.rgb, list(res.faces), res.to_record())
    finally:
        tracker.close()
        src.close()
