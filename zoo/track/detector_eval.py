"""How well a face detector starts tracks on real faces: recall by face width, false detections, time.

Test frames are built at run time from annotated photos (``photos.iter_crowd_clip`` with ``motion=0``:
several real faces pasted at 30-120 px wide into one 640x480 frame; nothing is copied or written).
A detection finds a face when its centre lies inside the face's landmark box and its width is within
half to twice the landmark box's; a detection that finds no face is a false detection, and since the
tracker starts a track from every unmatched detection, a false detection is a false track.

    python -m zoo.track.detector_eval hog hog:1 mtcnn --frames 40 [--dark] [--calibrate]

prints one row per detector (recall for faces >= 40 px and by width bin, false detections per frame,
median ms per frame). Timings are wall time on whatever machine runs it; compare rows of one run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

BINS = ((30, 40), (40, 60), (60, 90), (90, 121))


def crowd_frames(count: int = 40, faces: int = 6, seed: int = 0, dark: bool = False) -> list[tuple[np.ndarray, list[dict]]]:
    """``count`` still 640x480 frames, each with ``faces`` different real faces at widths spread over 30-120 px."""
    from .photos import iter_crowd_clip, pick_samples

    pool = pick_samples(count=max(count * faces // 2, faces))
    if not pool:
        return []
    out = []
    rng = np.random.default_rng(seed)
    for k in range(count):
        picks = [pool[i] for i in rng.choice(len(pool), faces, replace=False)]
        widths = rng.uniform(30, 120, faces)
        _, _, rgb, gt = next(iter(iter_crowd_clip(picks, 2, seed + k, widths=widths, dark=dark, motion=0.0)))
        out.append((rgb, gt["faces"]))
    return out


def match(boxes: Sequence[np.ndarray], faces: Sequence[dict]) -> tuple[list[bool], int]:
    """(found flag per face, false detections) for detector boxes (x1, y1, x2, y2) against ground truth."""
    found, false = [False] * len(faces), 0
    for b in boxes:
        cx, cy, bw = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0]
        hit = False
        for i, f in enumerate(faces):
            lm = np.asarray(f["landmarks"])
            (x0, y0), (x1, y1) = lm.min(0), lm.max(0)
            if x0 <= cx <= x1 and y0 <= cy <= y1 and 0.5 <= bw / max(x1 - x0, 1e-6) <= 2.0 and not found[i]:
                found[i] = hit = True
                break
        false += not hit
    return found, false


def compare(detectors: dict[str, Any], frames: Sequence[tuple[np.ndarray, list[dict]]]) -> dict[str, dict[str, Any]]:
    """Per detector: recall (all, >= 40 px, per width bin), false detections per frame, ms per frame.

    Round-robin: every frame goes through every detector before the next frame, so a busy machine
    slows them alike and the ratios of their times hold even when the absolute times do not.
    """
    widths = [float(np.ptp(np.asarray(g["landmarks"])[:, 0])) for _, faces in frames for g in faces]
    hits: dict[str, list[bool]] = {k: [] for k in detectors}
    false, ms = dict.fromkeys(detectors, 0), {k: [] for k in detectors}
    for det in detectors.values():
        det.detect(frames[0][0])  # warm-up (lazy initialisation, caches)
    for rgb, faces in frames:
        for name, det in detectors.items():
            t0 = time.perf_counter()
            dets = det.detect(rgb)
            ms[name].append((time.perf_counter() - t0) * 1e3)
            found, f = match([d.box for d in dets], faces)
            false[name] += f
            hits[name] += found
    w = np.array(widths)
    rows = {}
    for name in detectors:
        h = np.array(hits[name])
        row = {"faces": len(w), "recall": float(h.mean()), "recall_ge40": float(h[w >= 40].mean()),
               "false_per_frame": false[name] / len(frames), "ms_p50": float(np.median(ms[name]))}
        for lo, hi in BINS:
            sel = (w >= lo) & (w < hi)
            row[f"recall_{lo}_{hi - 1 if hi == 121 else hi}"] = float(h[sel].mean()) if sel.any() else None
        rows[name] = row
    return rows


def evaluate(detector: Any, frames: Sequence[tuple[np.ndarray, list[dict]]]) -> dict[str, Any]:
    """``compare`` for one detector."""
    return compare({"one": detector}, frames)["one"]


def crop_calibration(detector: Any, frames: Sequence[tuple[np.ndarray, list[dict]]]) -> tuple[float, float]:
    """(scale, dy) for ``square_box`` that turn this detector's boxes into the landmark crop: medians over
    the faces it finds (side of the crop / longer side of its box; crop centre below box centre / box height)."""
    from .geometry import crop_from_landmarks

    scales, dys = [], []
    for rgb, faces in frames:
        for d in detector.detect(rgb):
            found, _ = match([d.box], faces)
            if any(found):
                crop = crop_from_landmarks(np.asarray(faces[found.index(True)]["landmarks"]))
                w, h = d.box[2] - d.box[0], d.box[3] - d.box[1]
                scales.append((crop[2] - crop[0]) / max(w, h))
                dys.append(((crop[1] + crop[3]) / 2 - (d.box[1] + d.box[3]) / 2) / h)
    return float(np.median(scales)), float(np.median(dys))


def main(argv: Sequence[str] | None = None) -> None:
    from .detectors import make_detector

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("detectors", nargs="+", help="detector specs (zoo track --detector)")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--dark", action="store_true", help="the low-light version of the frames")
    ap.add_argument("--calibrate", action="store_true", help="also print each detector's crop_box scale and offset")
    args = ap.parse_args(argv)
    frames = crowd_frames(args.frames, dark=args.dark)
    if not frames:
        raise SystemExit("no real photos: ../shared/data/real/lfpw-train is missing")
    detectors = {spec: make_detector(spec) for spec in args.detectors}
    for spec, row in compare(detectors, frames).items():
        print(spec, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()})
        if args.calibrate:
            print(f"  crop_box calibration (scale, dy): {crop_calibration(detectors[spec], frames)}")


if __name__ == "__main__":
    main()
