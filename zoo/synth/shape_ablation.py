"""The shape gap of each head and label definition against a real set: the ablation so far (issue 25).

Why: choosing a head model, a landmark definition or a camera for the renderer should not need a
training run per option. Each option's near-frontal label shapes (no pixels for ICT; the shipped
renderer draws its faces, since its labels come out of a render) are compared with the photos'
by ``zoo.data.shape_gap``, at matched yaw, at matched yaw and pitch, and at yaw and pitch both
read by solvePnP (the same estimator on both sides; ``with_pnp_pose``).

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

from zoo.data.shape_gap import GAP_PARTS, ShapeGap, ShapeSet, load_shapes, plot_gap, shape_gap, with_pnp_pose
from zoo.synth.ict_head import load_head, sample_camera, sample_expression, sample_identity
from zoo.synth.ict_landmarks import RAW, AnnotatorLandmarks, Definition

#: The renderer's focal lengths (image widths): a 150 mm face 36-62 % of the image is then 30-60 cm away.
CLOSE = (1.0, 1.5)
#: A camera 0.9-1.8 m away, as in most photos of people (found flat for 2-8 widths on lfpw-train).
FAR = (3.0, 6.0)


def renderer_set(n: int, seed: int, focal: tuple[float, float], max_yaw: float = 25.0) -> ShapeSet:
    """Label shapes of the classic head (version 3's draws: ``RenderOptions.V3``), near-frontal, at a focal range."""
    from zoo.synth.options import RenderOptions
    from zoo.synth.render import render_params, sample_params

    pts, yaws, pitches = [], [], []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        params = replace(sample_params(rng, RenderOptions.V3), yaw=float(rng.uniform(-max_yaw, max_yaw)),
                         focal_scale=float(rng.uniform(*focal)))
        _, lm, meta = render_params(params, 256)
        pts.append(lm[:68])
        yaws.append(meta["yaw"])
        pitches.append(meta["pitch"])
    return ShapeSet(np.stack(pts).astype(np.float64), np.array(yaws), "meta", np.array(pitches))


def ict_set(n: int, seed: int, focal: tuple[float, float], definition: Definition, max_yaw: float = 25.0) -> ShapeSet:
    """Label shapes of ICT heads (random identity, expression, pose) under a landmark definition."""
    head = load_head()
    label = AnnotatorLandmarks(head, definition)
    pts, yaws, pitches = [], [], []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        v = head.vertices(sample_identity(rng), sample_expression(rng, head.ex_names))
        cam = sample_camera(rng, yaw_range=(-max_yaw, max_yaw), focal_range=focal)
        pts.append(label(v, cam))
        yaws.append(cam.yaw)
        pitches.append(cam.pitch)
    return ShapeSet(np.stack(pts), np.array(yaws), "meta", np.array(pitches))


def options(n_render: int, n_ict: int, max_yaw: float = 20.0) -> dict[str, Callable[[], ShapeSet]]:
    """Every option of the ablation, by name (built lazily: rendering takes ~25 ms a face). Poses are
    drawn 5 degrees beyond ``max_yaw`` so that every compared yaw bin is covered."""
    y = max_yaw + 5.0
    return {
        "(a) renderer v3, as shipped": lambda: renderer_set(n_render, 11, CLOSE, y),
        "(a) renderer v3, far camera": lambda: renderer_set(n_render, 11, FAR, y),
        "(b) ICT raw vertices": lambda: ict_set(n_ict, 0, CLOSE, RAW, y),
        "(b) ICT raw vertices, far camera": lambda: ict_set(n_ict, 0, FAR, RAW, y),
        "(c) ICT annotators' definition": lambda: ict_set(n_ict, 0, CLOSE, Definition(), y),
        "(c) ICT annotators' definition, far camera": lambda: ict_set(n_ict, 0, FAR, Definition(), y),
        "(c) ... without the nose tip, far camera": lambda: ict_set(n_ict, 0, FAR, Definition(nose_tip=False), y),
        "(c) ... without the jaw outline, far camera": lambda: ict_set(n_ict, 0, FAR, Definition(jaw_outline=False), y),
        "(c) ICT annotators' definition, even jaw, far camera": lambda: ict_set(n_ict, 0, FAR, Definition(jaw_even=True), y),
    }


def _row(name: str, gap: ShapeGap, matched: str) -> str:
    parts = " | ".join(f"{gap.per_part[p]:.1f}" for p in GAP_PARTS)
    worst = int(gap.per_point.argmax())
    off = int((~gap.modes_ok()).sum())
    ratios = " ".join(f"{r:.2f}" for r in gap.spread_ratio[:6])
    return (f"| {name} | {matched} | {parts} | {worst}: {gap.per_point[worst]:.1f} | "
            f"{off}/10 | {ratios} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("real", type=Path, help="dataset YAML of the annotated real set")
    ap.add_argument("--plots", type=Path, default=None, help="folder for one PNG per option")
    ap.add_argument("--renders", type=int, default=400)
    ap.add_argument("--ict", type=int, default=600)
    ap.add_argument("--min-yaw", type=float, default=0.0, help="compare faces with min < |yaw| <= max")
    ap.add_argument("--max-yaw", type=float, default=20.0)
    args = ap.parse_args(argv)
    band = dict(min_yaw=args.min_yaw, max_yaw=args.max_yaw)
    # a band of turned faces keeps a smaller share of the drawn faces: draw twice as many
    scale = 1.0 if args.min_yaw <= 0 else 2.0
    real, real_pnp = load_shapes(args.real), load_shapes(args.real, pnp=True)
    print("| option | matched | " + " | ".join(GAP_PARTS) + " | worst point | modes off | spread ratio, modes 1-6 |")
    print("|---|---|" + "---:|" * len(GAP_PARTS) + "---:|---:|---|")
    for name, build in options(int(args.renders * scale), int(args.ict * scale), args.max_yaw).items():
        shapes = build()
        for pitch in (False, True):
            gap = shape_gap(shapes, real, match_pitch=pitch, **band)
            print(_row(name, gap, "yaw+pitch" if pitch else "yaw"), flush=True)
        pnp = shape_gap(with_pnp_pose(shapes, (256, 256)), real_pnp, match_pitch=True, **band)
        print(_row(name, pnp, "PnP yaw+pitch"), flush=True)
        if args.plots:
            slug = name.split(") ")[1].replace(",", "").replace("'", "").replace(".", "").strip().replace(" ", "-")
            suffix = f"-yaw{args.min_yaw:g}-{args.max_yaw:g}" if args.min_yaw > 0 else ""
            plot_gap(gap, args.plots / f"shape-gap-{slug}{suffix}.png", labels=(name, "lfpw-train"))


if __name__ == "__main__":
    main()
