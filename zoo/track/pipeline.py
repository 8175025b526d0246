"""The ``zoo track`` loop: source -> tracker -> JSON lines, annotated video, window; and its summary."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .schema import validate_frame
from .tracker import STAGES, FrameResult, Tracker
from .video import SourceError, VideoSource, VideoWriter, draw_result

WINDOW = "zoo track"


@dataclass
class TrackSummary:
    """What a run did: frames, faces, ids, and per-stage timings (medians over frames with faces)."""

    frames: int = 0
    face_frames: int = 0
    ids: set[int] = field(default_factory=set)
    stage_ms: dict[str, list[float]] = field(default_factory=dict)
    wall_s: float = 0.0
    detector_calls: int = 0
    detector_ms: float = 0.0
    cuts: int = 0
    #: the tracker's counters: tracks started and ended, re-verified, restarted with a new id.
    tracker_stats: dict[str, Any] = field(default_factory=dict)

    def add(self, res: FrameResult) -> None:
        self.frames += 1
        self.cuts += bool(res.cut)
        self.face_frames += len(res.faces)
        self.ids.update(f.id for f in res.faces)
        if res.faces:
            for k in (*STAGES, "total"):
                self.stage_ms.setdefault(k, []).append(float(res.timings[k] or 0.0))

    def medians(self) -> dict[str, float]:
        return {k: float(np.median(v)) for k, v in self.stage_ms.items() if v}

    def percentile(self, key: str, q: float) -> float | None:
        v = self.stage_ms.get(key)
        return float(np.percentile(v, q)) if v else None


def check_show() -> None:
    """``--show`` needs an OpenCV with a GUI backend; the headless wheel has none."""
    import cv2

    try:
        cv2.namedWindow(WINDOW)
    except cv2.error:
        raise SourceError("--show needs an OpenCV build with a GUI (opencv-python); this one is headless, "
                          "write --out annotated.mp4 instead") from None


def track_video(source: VideoSource, tracker: Tracker, out: Path | None = None, json_path: Path | None = None,
                show: bool = False, on_frame: Callable[[FrameResult], None] | None = None,
                max_frames: int | None = None) -> TrackSummary:
    """Track every frame of ``source``; write what was asked; return the summary."""
    writer = VideoWriter(out, source.fps, source.size) if out else None
    jf = open(json_path, "w", encoding="utf-8") if json_path else None  # noqa: SIM115 - closed in finally
    summary, fps, t_start = TrackSummary(), None, time.perf_counter()
    try:
        for frame in source:
            if max_frames is not None and frame.index >= max_frames:
                break
            t0 = time.perf_counter()
            res = tracker.update(frame.rgb, frame.index, frame.t)
            summary.add(res)
            if jf is not None:
                record = res.to_record()
                validate_frame(record)
                jf.write(json.dumps(record, separators=(",", ":")) + "\n")
            if writer is not None or show:
                draw_result(frame.rgb, res, fps)
                if writer is not None:
                    writer.write(frame.rgb)
                if show and _show(frame.rgb):
                    break
            dt = time.perf_counter() - t0
            fps = 1.0 / max(dt, 1e-6) if fps is None else 0.9 * fps + 0.1 / max(dt, 1e-6)
            if on_frame is not None:
                on_frame(res)
    finally:
        summary.wall_s = time.perf_counter() - t_start
        summary.detector_calls, summary.detector_ms = tracker.stats["detector_calls"], tracker.stats["detector_ms"]
        summary.tracker_stats = dict(tracker.stats)
        tracker.close()
        source.close()
        if writer is not None:
            writer.close()
        if jf is not None:
            jf.close()
    return summary


def _show(rgb: np.ndarray) -> bool:
    import cv2

    cv2.imshow(WINDOW, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return (cv2.waitKey(1) & 0xFF) in (27, ord("q"))


def summary_table(summary: TrackSummary, title: str, extra: dict[str, Any] | None = None) -> Any:
    """A rich table of the run: counts, then ms per frame by stage (median, and p90 of the total)."""
    from rich.table import Table

    table = Table(title=title, show_header=True)
    table.add_column("what")
    table.add_column("value", justify="right")
    med = summary.medians()
    rows: list[tuple[str, str]] = [
        ("frames", str(summary.frames)),
        ("faces tracked (face-frames)", str(summary.face_frames)),
        ("track ids", ", ".join(map(str, sorted(summary.ids))) or "-"),
        ("shot cuts found", str(summary.cuts)),
    ]
    st = summary.tracker_stats
    if st:
        rows.append(("tracks started / ended", f"{st.get('tracks_started', 0)} / {st.get('tracks_dropped', 0)}"))
        rows.append(("re-verified (kept id) / restarted (new id)", f"{st.get('reverified', 0)} / {st.get('restarted', 0)}"))
    for k in STAGES:
        if k in med:
            rows.append((f"{k} ms/frame (p50)", f"{med[k]:.3f}"))
    if "total" in med:
        rows.append(("tracker ms/frame p50 / p90", f"{med['total']:.3f} / {summary.percentile('total', 90):.3f}"))
    if summary.detector_calls:
        rows.append(("detector calls, ms each (background)",
                     f"{summary.detector_calls}, {summary.detector_ms / summary.detector_calls:.1f}"))
    fps = summary.frames / max(summary.wall_s, 1e-6)
    rows.append(("wall time incl. decode + drawing", f"{summary.wall_s:.2f} s ({fps:.0f} FPS)"))
    for k, v in (extra or {}).items():
        rows.append((k, str(v)))
    for k, v in rows:
        table.add_row(k, v)
    return table
