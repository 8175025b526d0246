"""The tracking benchmark: track rendered clips with ground truth, score the tracks.

Per sequence (one rendered scenario): NME per frame (mean and p95, % of the face's frontal
inter-ocular distance), jitter on still segments (mean frame-to-frame landmark motion, %
inter-ocular and px), ID switches, frames lost, and ms per frame by stage (crop, landmarks,
filter, pose; the detector separately, amortised over frames since it runs in the background).
Rows go to results/tracking.csv (``zoo.results`` schema plus these columns).

Timing scope: ``p50_frame_ms`` is the tracker's main-thread update (crop + landmarks + score +
filter + pose + association), without video decoding, drawing, or the detector itself;
``p50_frame_cpu_ms`` the same update in thread CPU time (robust to other processes on the
machine; ``load_avg`` records how busy it was). Frames without a face are left out of both.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from .clips import SCENARIOS, read_ground_truth, render_clip
from .detectors import Detector, InlineDetector
from .tracker import STAGES, FrameResult, Tracker, TrackerConfig, iou_matrix

#: Columns this benchmark adds to results/tracking.csv beyond ``zoo.results.TRACKING_COLUMNS``.
EXTRA_COLUMNS = ("scenario", "seed", "renderer", "filter", "nme_mean", "nme_p95", "jitter_iod", "id_switches", "frames_lost",
                 "face_frames", "ms_crop", "ms_landmarks", "ms_filter", "ms_pose", "p50_frame_cpu_ms", "detector_ms_per_frame",
                 "hog_recall", "load_avg", "recall", "id_errors", "relock_frames", "cuts_found", "tracks_started",
                 "false_tracks")
VISIBLE = 0.7  # a ground-truth face at least this visible must be tracked
#: after a cut, a face counts as re-locked on the first frame a new track id holds it within this NME (%).
RELOCK_NME = 10.0


@dataclass
class SequenceRun:
    """A tracked sequence: the tracker's output and the ground truth, frame by frame."""

    results: list[FrameResult] = field(default_factory=list)
    truth: list[dict[str, Any]] = field(default_factory=list)
    detector_calls: int = 0
    detector_ms: float = 0.0
    #: the tracker thread's CPU time per update (ms): unlike wall time, not inflated by other
    #: processes competing for the cores, so comparable across busy and quiet runs.
    cpu_ms: list[float] = field(default_factory=list)
    tracks_started: int = 0


def clip_frames(clip_dir: Path) -> Iterator[tuple[int, float, np.ndarray, dict[str, Any]]]:
    """(index, t, rgb, ground truth) from a rendered clip folder, decoding its mp4."""
    from .video import VideoSource

    truth = read_ground_truth(clip_dir / "frames.jsonl")
    source = VideoSource(str(clip_dir / "clip.mp4"))
    try:
        for frame, gt in zip(source, truth, strict=False):
            yield frame.index, frame.t, frame.rgb, gt
    finally:
        source.close()


def track_sequence(predictor: Any, detector: Detector | None, frames: Iterable[tuple[int, float, np.ndarray, dict]],
                   config: TrackerConfig | None = None) -> SequenceRun:
    """Run the tracker over (index, t, rgb, gt) frames; the detector runs inline (repeatable)."""
    tracker = Tracker(predictor, InlineDetector(detector) if detector is not None else None, config)
    run = SequenceRun()
    for i, t, rgb, gt in frames:
        for obj in (predictor, detector):
            if hasattr(obj, "set_frame"):
                obj.set_frame(gt)
        c0 = time.thread_time_ns()
        run.results.append(tracker.update(rgb, i, t))
        run.cpu_ms.append((time.thread_time_ns() - c0) / 1e6)
        run.truth.append(gt)
    run.detector_calls, run.detector_ms = tracker.stats["detector_calls"], tracker.stats["detector_ms"]
    run.tracks_started = tracker.stats["tracks_started"]
    return run


def _match(gt_faces: list[dict], faces: list) -> dict[int, Any]:
    """Ground-truth id -> tracked face, by IoU of the crop boxes (Hungarian, IoU >= 0.3)."""
    if not gt_faces or not faces:
        return {}
    iou = iou_matrix(np.array([g["box"] for g in gt_faces]), np.array([f.box for f in faces]))
    rows, cols = linear_sum_assignment(-iou)
    return {gt_faces[r]["id"]: faces[c] for r, c in zip(rows, cols, strict=True) if iou[r, c] >= 0.3}


def score_sequence(run: SequenceRun) -> dict[str, Any]:
    """NME (mean, p95), still-segment jitter, ID switches, frames lost and stage timings."""
    nmes, jitter_iod, jitter_px = [], [], []
    last_id: dict[int, int] = {}
    people: dict[int, set[int]] = {}  # track id -> ground-truth ids it was matched to
    prev: dict[int, tuple[int, np.ndarray]] = {}
    switches = lost = face_frames = 0
    for res, gt in zip(run.results, run.truth, strict=True):
        match = _match(gt["faces"], res.faces)
        for g in gt["faces"]:
            face = match.get(g["id"])
            if g.get("visible", 1.0) >= VISIBLE:
                face_frames += 1
                lost += face is None
            if face is None:
                prev.pop(g["id"], None)
                continue
            k = min(len(face.landmarks), len(g["landmarks"]))
            err = np.linalg.norm(face.landmarks[:k] - g["landmarks"][:k], axis=1)
            nmes.append(100.0 * float(err.mean()) / g["iod"])
            if g["id"] in last_id and last_id[g["id"]] != face.id:
                switches += 1
            last_id[g["id"]] = face.id
            people.setdefault(face.id, set()).add(g["id"])
            if gt.get("still") and g["id"] in prev and prev[g["id"]][0] == face.id:
                step = float(np.linalg.norm(face.landmarks[:k] - prev[g["id"]][1][:k], axis=1).mean())
                jitter_px.append(step)
                jitter_iod.append(100.0 * step / g["iod"])
            prev[g["id"]] = (face.id, face.landmarks)
    stage = {s: [float(r.timings[s] or 0.0) for r in run.results if r.faces] for s in STAGES}
    total = [float(r.timings["total"]) for r in run.results if r.faces] or [0.0]
    n = max(len(run.results), 1)
    return {
        "frames": len(run.results), "faces": max((len(g["faces"]) for g in run.truth), default=0),
        "nme_mean": float(np.mean(nmes)) if nmes else None, "nme_p95": float(np.percentile(nmes, 95)) if nmes else None,
        "nme_median": float(np.median(nmes)) if nmes else None,  # what a typical face-frame scores (zoo demo)
        # the share of face-frames beyond 10 % NME: the heavy tail that lifts the mean above the median
        "nme_over10": float(np.mean(np.asarray(nmes) > 10.0)) if nmes else None,
        "jitter_iod": float(np.mean(jitter_iod)) if jitter_iod else None,
        "jitter_px": float(np.mean(jitter_px)) if jitter_px else None,
        "id_switches": switches, "frames_lost": lost, "face_frames": face_frames,
        "recall": 1.0 - lost / face_frames if face_frames else None,
        # a track id that was two people (it crossed a cut onto someone else, or slid onto a neighbour)
        "id_errors": switches + sum(len(v) - 1 for v in people.values()),
        "relock_frames": relock_frames(run), "cuts_found": sum(bool(getattr(r, "cut", False)) for r in run.results),
        "tracks_started": run.tracks_started,
        # tracks that never held a ground-truth face (a detector's false alarm the model did not drop at once)
        "false_tracks": len({f.id for r in run.results for f in r.faces} - set(people)),
        **{f"ms_{s}": float(np.median(v)) if v else 0.0 for s, v in stage.items()},
        "p50_frame_ms": float(np.median(total)), "p90_frame_ms": float(np.percentile(total, 90)),
        "p50_landmark_ms": float(np.median(stage["landmarks"])) if stage["landmarks"] else 0.0,
        "fps": 1000.0 / max(float(np.mean(total)), 1e-6),
        "p50_frame_cpu_ms": float(np.median([c for c, r in zip(run.cpu_ms, run.results, strict=True) if r.faces]))
        if run.cpu_ms and any(r.faces for r in run.results) else None,
        "detector_ms": run.detector_ms / run.detector_calls if run.detector_calls else None,
        "detector_ms_per_frame": run.detector_ms / n,
    }


def relock_frames(run: SequenceRun) -> int | None:
    """Worst case over the ground truth's cuts (``"cut": true``) of the frames from the cut until every face
    after it is held by a track id not seen before the cut, with its landmarks settled: NME within
    ``RELOCK_NME`` or within 1.5x the face's median NME over the rest of the shot (re-locking is the
    tracker's latency; how close the model gets to a face is what NME reports). A face the model cannot
    fit at all (median NME over the shot above twice ``RELOCK_NME``) is left out: that is the model's
    failure, shown in the NME columns. None without cuts; a face never re-locked counts as the frames
    left in its shot."""
    worst, seen = None, set()
    n = len(run.results)
    for c, (res, gt) in enumerate(zip(run.results, run.truth, strict=True)):
        if not gt.get("cut"):
            seen.update(f.id for f in res.faces)
            continue
        end = next((j for j in range(c + 1, n) if run.truth[j].get("cut")), n)
        errs: list[dict[int, float]] = []  # per frame: ground-truth id -> NME of a new-id track on it
        for j in range(c, end):
            match = _match(run.truth[j]["faces"], run.results[j].faces)
            errs.append({g["id"]: 100.0 * float(np.linalg.norm(match[g["id"]].landmarks[:68] - g["landmarks"][:68],
                                                               axis=1).mean()) / g["iod"]
                         for g in run.truth[j]["faces"] if g["id"] in match and match[g["id"]].id not in seen})
        median = {g["id"]: float(np.median([e[g["id"]] for e in errs if g["id"] in e] or [np.inf])) for g in gt["faces"]}
        faces = {i for i, m in median.items() if not np.isfinite(m) or m <= 2 * RELOCK_NME}
        if not faces:
            seen.update(f.id for f in res.faces)
            continue
        bound = {i: max(RELOCK_NME, 1.5 * median[i]) for i in faces}
        frames = next((k for k, e in enumerate(errs) if all(i in e and e[i] <= bound[i] for i in faces)), end - c)
        worst = frames if worst is None else max(worst, frames)
        seen.update(f.id for f in res.faces)
    return worst


def merge_runs(runs: list[SequenceRun]) -> SequenceRun:
    """One run of several independent sequences: ground-truth and track ids made distinct per sequence."""
    merged = SequenceRun()
    for k, run in enumerate(runs):
        base = 1000 * k
        for res, gt in zip(run.results, run.truth, strict=True):
            faces = [replace(f, id=f.id + base) for f in res.faces]
            merged.results.append(replace(res, faces=faces))
            merged.truth.append({**gt, "faces": [{**g, "id": g["id"] + base} for g in gt["faces"]]})
        merged.cpu_ms += run.cpu_ms
        merged.detector_calls += run.detector_calls
        merged.detector_ms += run.detector_ms
        merged.tracks_started += run.tracks_started
    return merged


def bench_detector(spec: str) -> Any:
    """A fresh detector for one benchmark sequence: ``gt`` (tracks seeded from ground-truth boxes) or a ``--detector`` spec."""
    from .detectors import make_detector
    from .oracle import GroundTruthDetector

    return GroundTruthDetector() if spec == "gt" else make_detector(spec)


def photo_pans(predictor: Any, config: TrackerConfig | None = None, folder: Path | None = None, photos: int = 10,
               frames: int = 90, seed: int = 0) -> dict[str, Any] | None:
    """Track real photos moved like video (``clips.iter_photo_clip``), ``photos`` of them evenly spread
    over ``../shared/data/real/lfpw-train``; tracks seeded from the ground truth. None without the folder."""
    from .clips import iter_photo_clip
    from .oracle import GroundTruthDetector
    from .photos import pick_samples, real_folder

    folder = folder or real_folder()
    if not folder.is_dir():
        return None
    picks = pick_samples(folder, photos)
    runs = [track_sequence(predictor, GroundTruthDetector(), iter_photo_clip(s.image_path, s.landmarks, frames, seed + k), config)
            for k, s in enumerate(picks)]
    return score_sequence(merge_runs(runs))


def hog_recall(clip_dir: Path, every: int = 5) -> float | None:
    """How often dlib's HOG detector finds a clearly visible rendered face (every n-th frame)."""
    from .detectors import HogDetector

    hog, found, total = HogDetector(), 0, 0
    for i, _, rgb, gt in clip_frames(clip_dir):
        if i % every:
            continue
        faces = [g for g in gt["faces"] if g.get("visible", 1.0) >= VISIBLE]
        if not faces:
            continue
        boxes = [hog.crop_box(d.box) for d in hog.detect(rgb)]
        total += len(faces)
        if boxes:
            iou = iou_matrix(np.array([g["box"] for g in faces]), np.array(boxes))
            found += int((iou.max(axis=1) >= 0.3).sum())
    return found / total if total else None


def clip_source(renderer: str) -> str:
    """The renderer as named in clip folders and results' ``video``: ``synth-v<render version>`` for the
    training renderer, so a renderer change never reuses old clips or mixes their scores with new ones."""
    from zoo.synth import RENDER_VERSION

    return f"synth-v{RENDER_VERSION}" if renderer == "synth" else renderer


def ensure_clip(scenario: str, frames: int, seed: int, root: Path | None = None, renderer: str = "flat") -> Path:
    """The rendered clip folder for (scenario, frames, seed, renderer), rendering it once into the cache."""
    from zoo.data import cache_dir

    folder = (root or cache_dir() / "clips") / f"{clip_source(renderer)}-{scenario}-n{frames}-s{seed}"
    if not (folder / "frames.jsonl").is_file() or not (folder / "done").is_file():
        render_clip(folder, frames, scenario, seed, renderer=renderer)
        (folder / "done").write_text("ok\n")
    return folder


def run_tracking_benchmark(predictor: Any, variant: str, detector: str = "gt", scenarios: Iterable[str] = tuple(SCENARIOS),
                           frames: int = 150, seed: int = 0, backend: str = "onnx", precision: str = "fp32",
                           threads: int = 1, config: TrackerConfig | None = None, clips_root: Path | None = None,
                           with_hog_recall: bool = True, progress: Any = None, renderer: str = "synth",
                           photos: int = 10) -> list[dict[str, Any]]:
    """Track every scenario and return one results/tracking.csv row per sequence.

    ``detector`` is ``gt`` (tracks seeded from ground-truth boxes at ``detect_hz``: rendered faces
    are drawn, and HOG often misses them, reported as ``hog_recall``) or any ``--detector`` spec.
    ``renderer``: ``synth`` (the training renderer's faces; clips are rendered once into the cache,
    about 0.2-0.5 s a frame) or ``flat`` (fast cartoon faces). With the ``gt`` detector and
    ``../shared/data/real`` present, one more row tracks ``photos`` real LFPW photos moved like video.
    Names from ``photo_bench.PHOTO_SCENARIOS`` in ``scenarios`` (a cut between two people, a crowd, the
    crowd in low light) add real-photo rows with any detector, unless ``photos`` is 0.
    """
    from zoo import __version__
    from zoo.results import current_host

    from .photo_bench import PHOTO_SCENARIOS, photo_rows

    config = config or TrackerConfig()
    host = current_host()
    base = {"host": host.name, "cpu": host.cpu, "cores": host.cores, "os": host.os, "backend": backend, "variant": variant,
            "precision": precision, "threads": threads, "detector": detector, "seed": seed, "filter": config.filter,
            "zoo_version": __version__, "date": dt.date.today().isoformat()}
    rows = []
    for scenario in (s for s in scenarios if s in SCENARIOS):
        if progress is not None:
            progress(f"rendering/tracking {scenario}", None)
        clip = ensure_clip(scenario, frames, seed, clips_root, renderer)
        metrics = score_sequence(track_sequence(predictor, bench_detector(detector), clip_frames(clip), config))
        rows.append({
            **base, "video": f"{clip_source(renderer)}:{scenario}:n{frames}:s{seed}", "scenario": scenario,
            "renderer": renderer, **metrics,
            "hog_recall": hog_recall(clip) if with_hog_recall else None,
            "load_avg": round(os.getloadavg()[0], 2),
        })
        if progress is not None:
            progress(f"tracked {scenario}", rows[-1])
    if photos and detector == "gt":
        if progress is not None:
            progress("tracking real photos moved like video", None)
        metrics = photo_pans(predictor, config, photos=photos, seed=seed)
        if metrics is not None:
            rows.append({**base, **metrics, "video": f"real:lfpw-train-pan:p{photos}:n90:s{seed}", "scenario": "lfpw_pan",
                         "renderer": "photo", "hog_recall": None, "load_avg": round(os.getloadavg()[0], 2)})
    if photos:
        rows += photo_rows(base, predictor, detector, config, [s for s in scenarios if s in PHOTO_SCENARIOS], seed=seed,
                           progress=progress)
    return rows


def write_rows(rows: list[dict[str, Any]], root: Path | None = None) -> Path:
    """Upsert benchmark rows into results/tracking.csv (keyed by host, backend, variant, ..., video)."""
    from zoo.results import write_table

    return write_table("tracking", rows, root)


def rows_table(rows: list[dict[str, Any]]) -> Any:
    """The benchmark rows as a rich table (what the README's tracking table shows)."""
    from rich.table import Table

    table = Table(title=f"tracking benchmark: {rows[0]['variant']}, detector {rows[0]['detector']}" if rows else "tracking")
    cols = [("scenario", "scenario", "{}"), ("NME mean %", "nme_mean", "{:.2f}"), ("NME p95 %", "nme_p95", "{:.2f}"),
            ("jitter % IOD", "jitter_iod", "{:.3f}"), ("ID sw.", "id_switches", "{}"),
            ("ID err.", "id_errors", "{}"), ("lost", "frames_lost", "{}"), ("recall", "recall", "{:.3f}"),
            ("re-lock fr.", "relock_frames", "{}"), ("cuts", "cuts_found", "{}"), ("tracks", "tracks_started", "{}"),
            ("false tracks", "false_tracks", "{}"),
            ("face-frames", "face_frames", "{}"), ("crop", "ms_crop", "{:.3f}"), ("landmarks", "ms_landmarks", "{:.3f}"),
            ("filter", "ms_filter", "{:.3f}"), ("pose", "ms_pose", "{:.3f}"), ("frame p50 ms", "p50_frame_ms", "{:.3f}"),
            ("CPU p50 ms", "p50_frame_cpu_ms", "{:.3f}"),
            ("det. ms/frame", "detector_ms_per_frame", "{:.2f}"), ("HOG recall", "hog_recall", "{:.2f}")]
    for title, _, _ in cols:
        table.add_column(title, justify="left" if title == "scenario" else "right")
    for r in rows:
        table.add_row(*("-" if r.get(k) is None else fmt.format(r[k]) for _, k, fmt in cols))
    return table


def benchmark_model(model: str | None = None, oracle: bool = False, backend: str = "onnx", threads: int = 1,
                    detector: str = "gt", scenarios: Iterable[str] | None = None, frames: int = 150, seed: int = 0,
                    filter_name: str = "oneeuro", renderer: str = "synth", photos: int = 10, write: bool = True,
                    console: Any = None) -> list[dict[str, Any]]:
    """The whole tracking benchmark for one model, printed as a table; what ``zoo track-bench`` and
    ``zoo bench --task track`` run. Bad arguments raise ``ValueError`` before any clip is rendered."""
    from rich.console import Console

    from .detectors import make_detector
    from .filters import FILTERS
    from .model import choose_model, load_predictor
    from .oracle import OraclePredictor

    console = console or Console()
    if renderer not in ("synth", "flat"):
        raise ValueError(f"unknown renderer {renderer!r}; use synth or flat")
    from .photo_bench import PHOTO_SCENARIOS

    unknown = [s for s in scenarios or [] if s not in SCENARIOS and s not in PHOTO_SCENARIOS]
    if unknown:
        raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join([*SCENARIOS, *PHOTO_SCENARIOS])}")
    if filter_name not in FILTERS:
        raise ValueError(f"unknown filter {filter_name!r}; choose one of {', '.join(FILTERS)}")
    if detector != "gt":
        make_detector(detector)
    if oracle:
        predictor, variant, source = OraclePredictor(noise_px=1.0, seed=seed), "oracle", "oracle"
    else:
        pick, _ = choose_model(model, None, backend)
        predictor = load_predictor(pick.spec, backend, threads)
        variant = getattr(predictor, "name", None) or getattr(getattr(predictor, "spec", None), "name", None) or pick.spec
        source = Path(str(pick.spec)).name  # which weights: the variant name alone cannot tell shipped from fdfat's
        console.print(f"model: {pick.reason}", highlight=False)
    with console.status("tracking rendered clips") as status:
        rows = run_tracking_benchmark(predictor, variant, detector, tuple(scenarios or (*SCENARIOS, *PHOTO_SCENARIOS)), frames,
                                      seed, backend,
                                      threads=threads, config=TrackerConfig(filter=filter_name),
                                      progress=lambda what, _: status.update(what), renderer=renderer, photos=photos)
    for row in rows:
        row["model"] = source
    console.print(rows_table(rows))
    if write:
        console.print(f"wrote {write_rows(rows)}", highlight=False)
    return rows
