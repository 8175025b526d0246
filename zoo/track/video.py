"""Video in and out for the tracker: sources (file, folder of frames, camera), mp4 writer, drawing.

Sources yield RGB frames with a time stamp: video time (index / fps) for files and folders,
so a run is repeatable whatever the machine's speed, and wall time for cameras.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from zoo.landmarks import CONTOURS
from zoo.pose import draw_axes

from .tracker import FrameResult

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class SourceError(ValueError):
    """A video source that cannot be opened or read."""


@dataclass
class Frame:
    index: int
    t: float
    rgb: np.ndarray


class VideoSource:
    """Frames from a video file, a folder of images, or ``camera:N``; iterate for ``Frame``s."""

    def __init__(self, spec: str, fps: float | None = None) -> None:
        self.spec = spec
        self.is_camera = spec.startswith("camera:")
        self._cap: cv2.VideoCapture | None = None
        self._files: list[Path] = []
        if self.is_camera:
            self._open_camera(spec)
        elif Path(spec).is_dir():
            self._files = sorted(p for p in Path(spec).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self._files:
                raise SourceError(f"folder {spec} has no image frames ({', '.join(IMAGE_SUFFIXES)})")
            self.fps = fps or 30.0
            self.frames = len(self._files)
        else:
            self._open_file(spec, fps)
        first = self._peek()
        self.size = (first.shape[1], first.shape[0])

    def _open_camera(self, spec: str) -> None:
        index = spec.split(":", 1)[1]
        if not index.isdigit():
            raise SourceError(f"camera source {spec!r} must be camera:N with N a device number, e.g. camera:0")
        _quiet_opencv()
        self._cap = cv2.VideoCapture(int(index))
        if not self._cap.isOpened():
            raise SourceError(f"cannot open camera {index} ({spec}); check the device exists and is not in use")
        self.fps, self.frames = 30.0, None

    def _open_file(self, spec: str, fps: float | None) -> None:
        if not Path(spec).is_file():
            raise SourceError(f"video {spec} not found; give a video file, a folder of frames or camera:N")
        _quiet_opencv()
        self._cap = cv2.VideoCapture(spec)
        if not self._cap.isOpened():
            raise SourceError(f"cannot read video {spec}: OpenCV cannot decode it (not a video, or a codec it lacks)")
        self.fps = fps or (self._cap.get(cv2.CAP_PROP_FPS) or 30.0)
        n = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frames = n if n > 0 else None

    def _read(self, i: int) -> np.ndarray | None:
        if self._files:
            if i >= len(self._files):
                return None
            img = cv2.imread(str(self._files[i]), cv2.IMREAD_COLOR)
            if img is None:
                raise SourceError(f"cannot read frame image {self._files[i]}")
            return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        ok, img = self._cap.read()
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB) if ok else None

    def _peek(self) -> np.ndarray:
        self._first = self._read(0)
        if self._first is None:
            what = ("camera gives no frames; check it is not in use" if self.is_camera else
                    "has no readable frames (empty, or cut before its first frame); re-copy or re-encode it")
            raise SourceError(f"{self.spec} {what}")
        return self._first

    def __iter__(self) -> Iterator[Frame]:
        t0 = time.perf_counter()
        i, img = 0, self._first
        while img is not None:
            t = time.perf_counter() - t0 if self.is_camera else i / self.fps
            yield Frame(i, t, img)
            i += 1
            img = self._read(i)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()


def _quiet_opencv() -> None:
    """OpenCV and its FFmpeg log their own lines for a missing camera or a cut file ("moov atom not found",
    "can't read header"); the one-line SourceError says it better, so both stay silent."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET; read when FFmpeg first opens a file
    with contextlib.suppress(AttributeError):
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


class VideoWriter:
    """mp4 (mp4v) writer taking RGB frames."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._w = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        if not self._w.isOpened():
            raise SourceError(f"cannot write video {self.path}: OpenCV has no mp4v encoder or the folder is not writable")

    def write(self, rgb: np.ndarray) -> None:
        self._w.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        self._w.release()


#: how long (frames) the annotated video flags a track's last event, and the flag's text.
EVENT_FRAMES = 15
EVENT_TAGS = {"new": "NEW", "restarted": "NEW ID", "reverified": "RE-VERIFIED"}
_ID_COLOURS = [(255, 80, 80), (80, 220, 80), (80, 160, 255), (255, 200, 40), (220, 80, 255), (40, 220, 220)]


def draw_result(image: np.ndarray, result: FrameResult, fps: float | None = None) -> np.ndarray:
    """Draw landmarks, box, track id, score, pose axes and FPS in place on an RGB image.

    For ``EVENT_FRAMES`` frames after a track starts, restarts with a new id or is re-verified, its box
    is drawn thick with the event's tag under it; a frame where a shot cut was found says "CUT".
    """
    for face in result.faces:
        colour = _ID_COLOURS[face.id % len(_ID_COLOURS)]
        x1, y1, x2, y2 = (int(round(v)) for v in face.box)
        flagged = face.event in EVENT_TAGS and face.event_age < EVENT_FRAMES
        cv2.rectangle(image, (x1, y1), (x2, y2), colour, 3 if flagged else 1, cv2.LINE_AA)
        if flagged:
            cv2.putText(image, EVENT_TAGS[face.event], (x1, y2 + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
        pts = np.round(face.landmarks * 4).astype(np.int32)
        for a, b, closed in CONTOURS:
            if b <= len(pts):
                cv2.polylines(image, [pts[a:b]], closed, colour, 1, cv2.LINE_AA, shift=2)
        for p in pts:
            cv2.circle(image, (int(p[0]), int(p[1])), 4, (255, 255, 255), -1, cv2.LINE_AA, shift=2)
        label = f"#{face.id}"
        if face.score is not None:
            label += f" {face.score:.2f}"
        if face.pose is not None:
            label += f" y{face.pose.yaw:+.0f} p{face.pose.pitch:+.0f} r{face.pose.roll:+.0f}"
            draw_axes(image, face.pose, length_mm=50.0, thickness=2)
        cv2.putText(image, label, (x1, max(12, y1 - 5)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    if fps is not None:
        text = f"{fps:.0f} FPS | tracker {result.timings.get('total') or 0:.1f} ms | frame {result.frame}"
        text += " | CUT" if result.cut else ""
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        cv2.rectangle(image, (4, 4), (12 + tw, 12 + th), (0, 0, 0), -1)
        cv2.putText(image, text, (8, 8 + th), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return image
