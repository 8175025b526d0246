"""``zoo demo``: the quick start. Renders a clip, tracks it, writes what ``zoo track`` writes.

Offline and quick (well under a minute here): a 4-second 640x480 clip of two rendered faces
crossing (flat-shaded by default, which renders in about a second), tracked with the shipped
default model on ONNX Runtime (1 thread) and dlib's HOG detector in the background, scored
against the clip's ground truth.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
from rich.console import Console

from .benchmark import SequenceRun, score_sequence
from .clips import read_ground_truth, render_clip
from .detectors import DetectorThread, HogDetector
from .model import choose_model, load_predictor
from .pipeline import summary_table, track_video
from .tracker import FrameResult, Tracker, TrackerConfig
from .video import VideoSource


def run_demo(out_dir: Path, frames: int = 120, scenario: str = "crossing", seed: int = 0,
             console: Console | None = None, renderer: str = "flat", model: str | None = None) -> dict:
    """Run the demo; returns the ground-truth scores (NME, jitter, id switches, frames lost)."""
    console = console or Console()
    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    with console.status("rendering the clip"):
        clip = render_clip(out_dir / "clip", frames, scenario, seed, renderer=renderer)
    console.print(f"rendered {clip} ({frames} frames, scenario {scenario}) in {time.perf_counter() - t0:.1f} s", highlight=False)
    pick, _ = choose_model(model, None, "onnx")
    predictor = load_predictor(pick.spec, "onnx", 1)
    console.print(f"model: {pick.reason}", highlight=False)
    tracker = Tracker(predictor, DetectorThread(HogDetector()), TrackerConfig())
    results: list[FrameResult] = []
    source = VideoSource(str(clip))
    mid = frames // 2
    snapshot: dict = {}

    def keep(res: FrameResult) -> None:
        results.append(res)

    with console.status("tracking"):
        summary = track_video(source, tracker, out_dir / "annotated.mp4", out_dir / "tracks.jsonl", on_frame=keep)
    cap = cv2.VideoCapture(str(out_dir / "annotated.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, mid)
    ok, img = cap.read()
    cap.release()
    if ok:
        cv2.imwrite(str(out_dir / "frame.png"), img)
        snapshot["frame"] = out_dir / "frame.png"
    truth = read_ground_truth(out_dir / "clip" / "frames.jsonl")
    scores = score_sequence(SequenceRun(results, truth[:len(results)]))
    fmt = lambda v, unit="": "-" if v is None else f"{v:.2f}{unit}"  # noqa: E731
    extra = {
        "NME vs ground truth, mean / p95": f"{fmt(scores['nme_mean'], '%')} / {fmt(scores['nme_p95'], '%')}",
        "jitter on the still start (% inter-ocular)": fmt(scores["jitter_iod"], "%"),
        "id switches / face-frames lost": f"{scores['id_switches']} / {scores['frames_lost']} of {scores['face_frames']}",
        "total demo time": f"{time.perf_counter() - t0:.1f} s",
    }
    console.print(summary_table(summary, f"zoo demo: {scenario}, {pick.spec.split('/')[-1]}", extra))
    console.print(f"wrote {out_dir / 'annotated.mp4'}, {out_dir / 'tracks.jsonl'}"
                  + (f", {snapshot['frame']}" if snapshot else ""), highlight=False)
    return scores
