"""``zoo demo``: the quick start. Renders a clip, tracks it, writes what ``zoo track`` writes.

Offline and quick: a 4-second 640x480 clip of two rendered faces crossing (flat-shaded by
default, which renders in about a second), tracked with the shipped default model on ONNX
Runtime (1 thread) and dlib's HOG detector in the background, scored against the clip's ground
truth. The first run also exports the model to ONNX, which renders calibration faces and so
compiles the renderer's numba kernels (about 30 s on 2 cores; both are cached), and says so
before it starts; later runs take about 10 s. Output goes to the folder the user names, else to
``$ZOO_CACHE/demo`` (outside any checkout, so nothing lands in a git working tree).
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


def default_out_dir() -> Path:
    """``$ZOO_CACHE/demo`` (default ``~/.cache/zoo/demo``): where the demo writes when not told."""
    from zoo.data import cache_dir

    return cache_dir() / "demo"


def first_run_note(spec: str, backend: str = "onnx") -> str | None:
    """What the first load of ``spec`` will do that later loads skip, or None when its export is cached.

    ``Predictor.from_spec`` exports a checkpoint once into ``$ZOO_CACHE/exports/<sha256[:16]>``; that
    export renders calibration faces, which compiles the renderer's kernels on a fresh install.
    ``zoo track`` and ``zoo predict`` print the same line.
    """
    from zoo.predict import Predictor

    if not Predictor.export_pending(spec, backend):
        return None
    return (f"first run: exporting the model to {backend} with parity checked on rendered faces, which compiles "
            "the renderer's kernels once (about 30 s on 2 cores; cached for later runs)")


def run_demo(out_dir: Path | None = None, frames: int = 120, scenario: str = "crossing", seed: int = 0,
             console: Console | None = None, renderer: str = "flat", model: str | None = None) -> dict:
    """Run the demo; returns the ground-truth scores (NME, jitter, id switches, frames lost)."""
    console = console or Console()
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir()
    t0 = time.perf_counter()
    with console.status("rendering the clip"):
        clip = render_clip(out_dir / "clip", frames, scenario, seed, renderer=renderer)
    console.print(f"rendered {clip} ({frames} frames, scenario {scenario}) in {time.perf_counter() - t0:.1f} s", highlight=False)
    pick, _ = choose_model(model, None, "onnx")
    note = first_run_note(pick.spec)
    if note:
        console.print(note, highlight=False)
    t1 = time.perf_counter()
    with console.status("compiling kernels and exporting the model (first run only)" if note else "loading the model"):
        predictor = load_predictor(pick.spec, "onnx", 1)
    console.print(f"model: {pick.reason} (ready in {time.perf_counter() - t1:.1f} s)", highlight=False)
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
        "NME vs ground truth, median / p95 (*)": f"{fmt(scores['nme_median'], '%')} / {fmt(scores['nme_p95'], '%')}",
        "jitter on the still start (% inter-ocular)": fmt(scores["jitter_iod"], "%"),
        "id switches / face-frames lost": f"{scores['id_switches']} / {scores['frames_lost']} of {scores['face_frames']}",
        "recall (ground-truth face-frames tracked)": fmt(scores["recall"]),
        "total demo time": f"{time.perf_counter() - t0:.1f} s",
    }
    console.print(summary_table(summary, f"zoo demo: {scenario}, {pick.spec.split('/')[-1]}", extra))
    console.print(nme_note(scores), highlight=False, soft_wrap=True)
    console.print(f"wrote {out_dir / 'annotated.mp4'}, {out_dir / 'tracks.jsonl'}"
                  + (f", {snapshot['frame']}" if snapshot else ""), highlight=False)
    return scores


def nme_note(scores: dict) -> str:
    """The footnote that says how to read the NME line: per face and frame, median and 95th percentile."""
    text = ("(*) NME: a face's mean landmark error in % of its inter-ocular distance, once per face and frame; "
            "half of the face-frames are below the median, 95 % below the p95.")
    if scores.get("nme_mean") is not None and scores.get("nme_over10") is not None:
        text += (f" The mean, {scores['nme_mean']:.2f} %, is pulled up by the {100 * scores['nme_over10']:.0f} % of "
                 "face-frames beyond 10 % (a face turning away or passing behind the other), a heavy tail that can "
                 "even put it above the p95.")
    return text
