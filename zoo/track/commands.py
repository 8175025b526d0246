"""``zoo track`` and ``zoo demo``; ``zoo.cli`` calls ``register(app)``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .detectors import DETECTOR_HELP
from .filters import FILTERS


def _fail(message: str) -> None:
    from zoo.console import fail

    fail(message)


def _check_backend_and_model(backend: str, model: str | None) -> None:
    """Refuse an unknown backend or a model that is neither a file nor a registered variant, in a fraction
    of a second: loading a model for a backend may export it first, and the benchmark renders clips."""
    from zoo.backends.commands import check_backend, check_model_ref

    check_backend(backend)
    if model is not None:
        check_model_ref(model, "--model")


def track(
    source: Annotated[str, typer.Argument(help="Video file, folder of frames, or camera:N.")],
    out: Annotated[Path | None, typer.Option("--out", help="Annotated video to write (mp4).")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Per-frame JSON lines (schema: zoo.track.schema).")] = None,
    show: Annotated[bool, typer.Option("--show", help="Show a window (needs a GUI build of OpenCV).")] = False,
    model: Annotated[str | None, typer.Option("--model", help="Variant, zoo checkpoint or exported artifact.")] = None,
    budget_ms: Annotated[float | None, typer.Option("--budget-ms", help="Most accurate model whose p50 fits (results/).")] = None,
    backend: Annotated[str, typer.Option("--backend", help="Runtime backend (onnx, torch, openvino, tflite).")] = "onnx",
    threads: Annotated[int, typer.Option("--threads", min=1, help="Runtime threads.")] = 1,
    detector: Annotated[str, typer.Option("--detector", help=DETECTOR_HELP)] = "hog",
    detect_hz: Annotated[float, typer.Option("--detect-hz", min=0.1, help="Detector runs per second of video (cap).")] = 5.0,
    min_score: Annotated[float, typer.Option("--min-score", min=0.0, max=1.0, help="Drop tracks whose score stays under.")] = 0.5,
    filter_name: Annotated[str, typer.Option("--filter", help=" | ".join(FILTERS))] = "oneeuro",
    max_frames: Annotated[int | None, typer.Option("--max-frames", min=1, help="Stop after this many frames.")] = None,
) -> None:
    """Track faces in a video: landmarks, face score and 6DoF pose per face, every frame."""
    # arguments first: the imports below (OpenCV, dlib, the tracker) take most of a second
    if filter_name not in FILTERS:
        _fail(f"unknown filter {filter_name!r}; choose one of {', '.join(FILTERS)}")
    _check_backend_and_model(backend, model)
    for option, path in (("--out", out), ("--json", json_path)):
        if path is not None and path.is_dir():
            _fail(f"{option} {path}: is a folder; give a file name to write")
    from rich.console import Console

    from zoo.results import ResultsError

    from .detectors import DetectorError, DetectorThread, make_detector
    from .model import ModelError, choose_model, load_predictor
    from .pipeline import check_show, summary_table
    from .tracker import Tracker, TrackerConfig
    from .video import SourceError, VideoSource

    console = Console(stderr=True)
    try:
        det = make_detector(detector)
        src = VideoSource(source)
        if show:
            check_show()
        pick, notes = choose_model(model, budget_ms, backend)
        for line in notes:
            console.print(line, highlight=False)
        from .demo import first_run_note

        if note := first_run_note(pick.spec, backend):  # say so before going quiet for half a minute
            console.print(note, highlight=False)
        predictor = load_predictor(pick.spec, backend, threads)
    except (SourceError, DetectorError, ModelError, ResultsError) as e:  # ResultsError: --budget-ms reads results/
        _fail(str(e))
        return
    console.print(f"model: {pick.reason}; backend {backend}, {threads} thread(s); detector {detector} at <= {detect_hz:g} Hz",
                  highlight=False)
    config = TrackerConfig(detect_hz=detect_hz, min_score=min_score, filter=filter_name)
    tracker = Tracker(predictor, DetectorThread(det), config)
    summary = _run_with_progress(src, tracker, out, json_path, show, max_frames, console)
    console.print(summary_table(summary, f"zoo track {source}"))
    for label, path in (("annotated video", out), ("frames", json_path)):
        if path:
            console.print(f"wrote {label} {path}", highlight=False)


def _run_with_progress(src, tracker, out, json_path, show, max_frames, console):  # noqa: ANN001, ANN202
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .pipeline import track_video

    total = src.frames if not src.is_camera else None
    if max_frames is not None and total is not None:
        total = min(total, max_frames)
    with Progress(TextColumn("tracking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                  disable=src.is_camera, transient=True) as progress:
        task = progress.add_task("track", total=total)
        return track_video(src, tracker, out, json_path, show, lambda _: progress.advance(task), max_frames)


def demo(
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Folder for the clip, annotated video and JSON "
                                                 "(default: $ZOO_CACHE/demo, outside any git checkout).")] = None,
    frames: Annotated[int, typer.Option("--frames", min=10, help="Clip length (30 fps).")] = 120,
    scenario: Annotated[str, typer.Option("--scenario", help="Rendered scenario (see zoo.track.clips).")] = "crossing",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    renderer: Annotated[str, typer.Option("--renderer", help="flat (fast cartoon) | synth (training renderer, slow)")] = "flat",
    model: Annotated[str | None, typer.Option("--model", help="Variant, checkpoint or artifact (default: shipped).")] = None,
) -> None:
    """Render a short clip, track it with the shipped default model, write video + JSON + summary (offline)."""
    from .demo import run_demo
    from .model import ModelError

    try:
        run_demo(out_dir, frames, scenario, seed, renderer=renderer, model=model)
    except (ModelError, ValueError) as e:
        _fail(str(e))


def track_bench(
    model: Annotated[str | None, typer.Option("--model", help="Variant, checkpoint or artifact (default: shipped).")] = None,
    oracle: Annotated[bool, typer.Option("--oracle", help="Ground truth + 1 px noise, no model.")] = False,
    backend: Annotated[str, typer.Option("--backend")] = "onnx",
    threads: Annotated[int, typer.Option("--threads", min=1)] = 1,
    detector: Annotated[str, typer.Option("--detector", help=f"gt (seed from ground truth) | {DETECTOR_HELP}")] = "gt",
    scenario: Annotated[list[str] | None, typer.Option("--scenario", help="Repeatable; default all.")] = None,
    frames: Annotated[int, typer.Option("--frames", min=10)] = 150,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    filter_name: Annotated[str, typer.Option("--filter", help=" | ".join(FILTERS))] = "oneeuro",
    renderer: Annotated[str, typer.Option("--renderer", help="synth (training renderer) | flat (cartoon)")] = "synth",
    photos: Annotated[int, typer.Option("--photos", min=0, help="Real LFPW photos moved like video (0: none).")] = 10,
    write: Annotated[bool, typer.Option("--write/--no-write", help="Upsert the rows into results/tracking.csv.")] = True,
) -> None:
    """Tracking benchmark on rendered clips with ground truth; rows for results/tracking.csv."""
    if not oracle:  # before importing the benchmark (renderer, tracker): a typo costs a fraction of a second
        _check_backend_and_model(backend, model)
    from .benchmark import benchmark_model

    try:
        benchmark_model(model=model, oracle=oracle, backend=backend, threads=threads, detector=detector,
                        scenarios=scenario, frames=frames, seed=seed, filter_name=filter_name, renderer=renderer,
                        photos=photos, write=write)
    except ValueError as e:  # ModelError and DetectorError are ValueErrors: bad arguments, one line
        _fail(str(e))


def register(app: typer.Typer) -> None:
    """Add ``zoo track``, ``zoo track-bench`` and ``zoo demo`` to the ``zoo`` app."""
    app.command("track")(track)
    app.command("track-bench")(track_bench)
    app.command("demo")(demo)
