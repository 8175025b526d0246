"""The shape gap of each head and label definition against a real set: the ablation so far (issue 25).

Why: choosing a head model, a landmark definition or a camera for the renderer should not need a
training run per option. Each option's near-frontal label shapes (no pixels for ICT; the shipped
renderer draws its faces, since its labels come out of a render) are compared with the photos'
by ``zoo.data.shape_gap``, at matched yaw and at matched yaw and pitch.

    python -m zoo.synth.shape_ablation ../shared/data/real/lfpw-train/faces.yaml --plots results/plots

prints one Markdown table (the one in docs/real-faces.md) and draws each option's mean shape over
the photos'. Every set is drawn from fixed seeds, so the table is reproducible.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from zoo.data.shape_gap import GAP_PARTS, ShapeGap, ShapeSet, load_shapes, plot_gap, shape_gap
from zoo.synth.ict_head import load_head, raw_landmarks, sample_camera, sample_expression, sample_identity
from zoo.synth.ict_landmarks import AnnotatorLandmarks, Definition

YAW_RANGE = (-25.0, 25.0)
#: The renderer's focal lengths (image widths): a 150 mm face 36-62 % of the image is then 30-60 cm away.
CLOSE = (1.0, 1.5)
#: A camera 0.9-1.8 m away, as in most photos of people (found flat for 2-8 widths on lfpw-train).
FAR = (3.0, 6.0)


def renderer_set(n: int, seed: int, focal: tuple[float, float]) -> ShapeSet:
    """Label shapes of the shipped renderer (RENDER_VERSION as installed), near-frontal, at the given focal range."""
    from zoo.synth.render import render_params, sample_params

    pts, yaws, pitches = [], [], []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        params = replace(sample_params(rng), yaw=float(rng.uniform(*YAW_RANGE)), focal_scale=float(rng.uniform(*focal)))
        _, lm, meta = render_params(params, 256)
        pts.append(lm[:68])
        yaws.append(meta["yaw"])
        pitches.append(meta["pitch"])
    return ShapeSet(np.stack(pts).astype(np.float64), np.array(yaws), "meta", np.array(pitches))


def ict_set(n: int, seed: int, focal: tuple[float, float], definition: Definition | None) -> ShapeSet:
    """Label shapes of ICT heads (random identity, expression, pose): raw vertices when ``definition`` is None."""
    head = load_head()
    label: Callable = (lambda v, cam: raw_landmarks(head, v, cam)) if definition is None else AnnotatorLandmarks(head, definition)
    pts, yaws, pitches = [], [], []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        v = head.vertices(sample_identity(rng), sample_expression(rng, head.ex_names))
        cam = sample_camera(rng, yaw_range=YAW_RANGE, focal_range=focal)
        pts.append(label(v, cam))
        yaws.append(cam.yaw)
        pitches.append(cam.pitch)
    return ShapeSet(np.stack(pts), np.array(yaws), "meta", np.array(pitches))


def options(n_render: int, n_ict: int) -> dict[str, Callable[[], ShapeSet]]:
    """Every option of the ablation, by name (built lazily: rendering takes ~25 ms a face)."""
    return {
        "(a) renderer v3, as shipped": lambda: renderer_set(n_render, 11, CLOSE),
        "(a) renderer v3, far camera": lambda: renderer_set(n_render, 11, FAR),
        "(b) ICT raw vertices": lambda: ict_set(n_ict, 0, CLOSE, None),
        "(b) ICT raw vertices, far camera": lambda: ict_set(n_ict, 0, FAR, None),
        "(c) ICT annotators' definition": lambda: ict_set(n_ict, 0, CLOSE, Definition()),
        "(c) ICT annotators' definition, far camera": lambda: ict_set(n_ict, 0, FAR, Definition()),
        "(c) ICT annotators' definition, even jaw, far camera": lambda: ict_set(n_ict, 0, FAR, Definition(jaw_even=True)),
    }


def _row(name: str, gap: ShapeGap, pitch: bool) -> str:
    parts = " | ".join(f"{gap.per_part[p]:.1f}" for p in GAP_PARTS)
    worst = int(gap.per_point.argmax())
    off = int((~gap.modes_ok()).sum())
    ratios = " ".join(f"{r:.2f}" for r in gap.spread_ratio[:6])
    return (f"| {name} | {'yaw+pitch' if pitch else 'yaw'} | {parts} | {worst}: {gap.per_point[worst]:.1f} | "
            f"{off}/10 | {ratios} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("real", type=Path, help="dataset YAML of the annotated real set")
    ap.add_argument("--plots", type=Path, default=None, help="folder for one PNG per option")
    ap.add_argument("--renders", type=int, default=400)
    ap.add_argument("--ict", type=int, default=600)
    args = ap.parse_args(argv)
    real = load_shapes(args.real)
    print("| option | matched | " + " | ".join(GAP_PARTS) + " | worst point | modes off | spread ratio, modes 1-6 |")
    print("|---|---|" + "---:|" * len(GAP_PARTS) + "---:|---:|---|")
    for name, build in options(args.renders, args.ict).items():
        shapes = build()
        for pitch in (False, True):
            gap = shape_gap(shapes, real, match_pitch=pitch)
            print(_row(name, gap, pitch), flush=True)
        if args.plots:
            slug = name.split(") ")[1].replace(",", "").replace("'", "").replace(" ", "-")
            plot_gap(gap, args.plots / f"shape-gap-{slug}.png", labels=(name, "lfpw-train"))


if __name__ == "__main__":
    main()
