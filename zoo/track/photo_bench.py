"""Real-photo rows of the tracking benchmark: a cut between two people, a crowd, the crowd in low light.

Each scenario is built at run time from ``../shared/data/real/lfpw-train`` (``zoo.track.photos``) and
scored like the rendered clips (``benchmark.score_sequence``): NME, frames lost, recall, identity
errors (a track id that was two people counts too), and for the cut scenario the frames from the cut
until a new id holds the new face within 10 % NME (``relock_frames``; the goal is <= 2).

With the ``gt`` detector the tracks are started from ground-truth boxes (the tracker alone is measured);
with a real detector (``hog``, ...) the detector's misses show up as lost frames and lower recall.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from .benchmark import bench_detector, merge_runs, score_sequence, track_sequence
from .tracker import TrackerConfig

#: scenario name -> (video label stem, what it is)
PHOTO_SCENARIOS = {
    "photo_cut": ("lfpw-train-cut", "two people's photos, a hard cut between them at the same place"),
    "photo_crowd": ("lfpw-train-crowd", "six real faces at 30-120 px in one frame, drifting"),
    "photo_crowd_dark": ("lfpw-train-crowd-dark", "the crowd at a third of the light, gamma 1.6, noise sigma 6"),
}


def run_photo_scenario(name: str, predictor: Any, detector: str = "gt", config: TrackerConfig | None = None,
                       pairs: int = 4, faces: int = 6, frames: int = 60, seed: int = 0) -> dict[str, Any] | None:
    """Score one real-photo scenario; None when the photos are not there."""
    from .photos import iter_crowd_clip, iter_cut_clip, pick_samples

    if name == "photo_cut":
        samples = pick_samples(count=2 * pairs, offset=3)
        if len(samples) < 2:
            return None
        runs = [track_sequence(predictor, bench_detector(detector),
                               iter_cut_clip(samples[2 * k], samples[2 * k + 1], frames, seed=seed + k), config)
                for k in range(len(samples) // 2)]
        return score_sequence(merge_runs(runs))
    if name in ("photo_crowd", "photo_crowd_dark"):
        samples = pick_samples(count=faces, offset=7)
        if len(samples) < faces:
            return None
        clip = iter_crowd_clip(samples, frames, seed, dark=name.endswith("dark"))
        return score_sequence(track_sequence(predictor, bench_detector(detector), clip, config))
    raise ValueError(f"unknown photo scenario {name!r}; choose from {', '.join(PHOTO_SCENARIOS)}")


def photo_rows(base: dict[str, Any], predictor: Any, detector: str, config: TrackerConfig | None = None,
               scenarios: Iterable[str] = tuple(PHOTO_SCENARIOS), frames: int = 60, seed: int = 0,
               progress: Callable[[str, Any], None] | None = None) -> list[dict[str, Any]]:
    """results/tracking.csv rows for the real-photo scenarios, sharing ``base``'s host/model columns."""
    rows = []
    for name in scenarios:
        if progress is not None:
            progress(f"tracking real photos: {name}", None)
        metrics = run_photo_scenario(name, predictor, detector, config, frames=frames, seed=seed)
        if metrics is None:
            continue
        rows.append({**base, **metrics, "video": f"real:{PHOTO_SCENARIOS[name][0]}:n{frames}:s{seed}", "scenario": name,
                     "renderer": "photo", "hog_recall": None, "load_avg": round(os.getloadavg()[0], 2)})
    return rows
