"""``zoo data``: check a dataset, render a synthetic one, and look at one.

Heavy modules (the renderer, albumentations, torch) are imported inside the commands so that
``zoo --help`` stays instant.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

data_app = typer.Typer(name="data", no_args_is_help=True, help="Datasets: check one, render a synthetic one, preview one.")


def register(app: typer.Typer) -> None:
    """Add ``zoo data ...`` to the ``zoo`` app."""
    app.add_typer(data_app, name="data")


@data_app.command("check")
def check_cmd(
    data: Annotated[Path, typer.Argument(help="Dataset YAML (base_path + train/val/test lists).")],
    yaw: Annotated[bool, typer.Option("--yaw", help="Also print each split's head-yaw histogram (from _meta.json).")] = False,
    yaw_plot: Annotated[Path | None, typer.Option("--yaw-plot", help="Also draw that histogram into this PNG.")] = None,
    against: Annotated[Path | None, typer.Option("--against", help="Instead, compare DATA's landmark shapes with this "
                                                 "annotated real set's (dataset YAML): the shape gap, in seconds.")] = None,
    gap_plot: Annotated[Path | None, typer.Option("--gap-plot", help="With --against: plot both mean shapes (PNG).")] = None,
    max_yaw: Annotated[float, typer.Option("--max-yaw", help="With --against: compare faces with |yaw| up to this.")] = 20.0,
    match_pitch: Annotated[bool, typer.Option("--match-pitch", help="With --against: also match the pitch mix.")] = False,
    min_yaw: Annotated[float, typer.Option("--min-yaw", help="With --against: only faces with |yaw| above this.")] = 0.0,
    pnp_pose: Annotated[bool, typer.Option("--pnp-pose", help="With --against: pose both sets by solvePnP, "
                                           "ignoring _meta.json (the same estimator on both sides).")] = False,
) -> None:
    """Count the images of every split and print every problem, one line each; exit 1 if any."""
    from rich.table import Table

    from zoo.console import console, fail
    from zoo.data.check import check_dataset
    from zoo.data.formats import DatasetError, parse_dataset_yaml

    if against is not None:
        _print_gap(data, against, gap_plot, (min_yaw, max_yaw), match_pitch, pnp_pose)
        return

    try:
        parse_dataset_yaml(data)  # a missing or malformed YAML is refused before any image is opened
        counts, problems = check_dataset(data, progress=True)
    except DatasetError as e:
        fail(str(e))
    console.print(f"dataset {data}", highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("split")
    table.add_column("images", justify="right")
    for split, count in counts.items():
        table.add_row(split, f"{count:,}")
    console.print(table)
    if yaw or yaw_plot:
        _print_yaw(data, yaw_plot)
    for line in problems:
        console.print(line, soft_wrap=True, highlight=False, markup=False)
    if problems:
        total = sum(counts.values())
        console.print(f"{len(problems)} problem(s) in {total:,} entries", style="bold red", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"ok: {sum(counts.values()):,} entries, no problems", style="green", highlight=False, soft_wrap=True)


def _print_yaw(data: Path, plot: Path | None) -> None:
    """The per-split yaw table of ``zoo data check --yaw`` (and its plot)."""
    from rich.table import Table

    from zoo.console import console
    from zoo.data.yaw_stats import plot_yaw, split_yaws, yaw_table

    yaws = split_yaws(data)
    frame = yaw_table(yaws)
    table = Table(title="faces per head yaw (degrees)")
    table.add_column("yaw")
    for split in frame.columns:
        table.add_column(split, justify="right")
    for i, (label, row) in enumerate(frame.iterrows()):
        table.add_row(label, *(f"{v:,}" for v in row), end_section=i in (len(frame) - 5, len(frame) - 2))
    console.print(table)
    if plot:
        console.print(f"wrote {plot_yaw(yaws, plot)}", highlight=False, soft_wrap=True)


def _print_gap(data: Path, real: Path, plot: Path | None, yaw_band: tuple[float, float], match_pitch: bool,
              pnp: bool) -> None:
    """``zoo data check DATA --against REAL``: mean-shape offsets per part and mode spreads, with the targets."""
    from rich.table import Table

    from zoo.console import console, fail
    from zoo.data.formats import DatasetError
    from zoo.data.shape_gap import PART_TARGET, SPREAD_TARGET, load_shapes, plot_gap, shape_gap
    from zoo.landmarks import PARTS

    min_yaw, max_yaw = yaw_band
    if not 0 <= min_yaw < max_yaw <= 90:
        fail(f"--min-yaw and --max-yaw are degrees with 0 <= min < max <= 90, not {min_yaw:g} and {max_yaw:g}")
    try:
        gap = shape_gap(load_shapes(data, pnp=pnp), load_shapes(real, pnp=pnp), max_yaw=max_yaw, match_pitch=match_pitch,
                        min_yaw=min_yaw)
    except (DatasetError, ValueError) as e:
        fail(str(e))
    mark = {True: "[green]ok[/]", False: "[red]over[/]"}
    matched = ("yaw and pitch" if match_pitch else "yaw") + (" (both by solvePnP)" if pnp else "")
    console.print(f"{data} ({gap.n_other:,} faces, {gap.effective_other:,.0f} effective after pose matching) against "
                  f"{real} ({gap.n_real:,} faces), {min_yaw:g} < |yaw| <= {max_yaw:g}, {matched} matched, eye frame, "
                  f"% IOD; mean pitch {gap.pitch_other:+.1f} vs {gap.pitch_real:+.1f} degrees", highlight=False, soft_wrap=True)
    parts = Table(title=f"mean offset per part (target <= {PART_TARGET:g})")
    for col in ("part", "mean", "worst point", ""):
        parts.add_column(col, justify="right")
    for part, value in gap.per_part.items():
        lo, hi = PARTS[part]
        worst = lo + int(gap.per_point[lo:hi].argmax())
        parts.add_row(part, f"{value:.1f}", f"{worst}: {gap.per_point[worst]:.1f}", mark[value <= PART_TARGET])
    console.print(parts)
    modes = Table(title=f"spread along the real modes (target +-{SPREAD_TARGET:.0%})")
    for col in ("mode", "real std", "this std", "ratio", ""):
        modes.add_column(col, justify="right")
    for i, (r, o, ok) in enumerate(zip(gap.real_spread, gap.other_spread, gap.modes_ok(), strict=True), 1):
        modes.add_row(str(i), f"{r:.1f}", f"{o:.1f}", f"{o / max(r, 1e-12):.2f}", mark[bool(ok)])
    console.print(modes)
    if plot:
        console.print(f"wrote {plot_gap(gap, plot)}", highlight=False, soft_wrap=True)


@data_app.command("synth")
def synth_cmd(
    out: Annotated[Path, typer.Argument(help="Folder to write the dataset into (created).")],
    images: Annotated[int, typer.Option("--images", "-n", help="Number of images (faces and negatives).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same seed gives the same bytes.")] = 0,
    video: Annotated[bool, typer.Option("--video", help="Render a clip (mp4 + per-frame ground truth) instead.")] = False,
    frames: Annotated[int, typer.Option("--frames", help="Clip length in frames (with --video).")] = 150,
    scenario: Annotated[str, typer.Option("--scenario", help="Clip scenario (with --video).")] = "yaw_sweep",
    renderer: Annotated[str, typer.Option("--renderer", help="Clip faces: synth (training renderer) or flat.")] = "synth",
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Render processes (default: all cores).")] = None,
    size: Annotated[int, typer.Option("--size", help="Image side in pixels.")] = 256,
    negatives: Annotated[float, typer.Option("--negatives", help="Fraction of non-face images.")] = 0.1,
    head: Annotated[str | None, typer.Option("--head", help="Head model: classic or ict. Defaults of these four "
                                             "options: zoo.synth.options.DEFAULT (docs/renderer.md).")] = None,
    camera: Annotated[str | None, typer.Option("--camera", help="Camera distance: near (30-60 cm) or far (0.9-1.8 m).")] = None,
    pitch_mean: Annotated[float | None, typer.Option(
        "--pitch-mean", help="Centre of the sampled pitch in degrees; negative looks down.")] = None,
    labels: Annotated[str | None, typer.Option("--labels", help="The ICT head's labels: annotators or raw.")] = None,
    population: Annotated[str | None, typer.Option("--population", help="Where the ICT head's identities are centred: "
                                                   "ict (ICT's prior) or lfpw (fitted to photos' mean shape).")] = None,
) -> None:
    """Render a synthetic face dataset (FaceSynthetics layout + meta + dataset YAML), or a clip with --video."""
    from dataclasses import replace

    from zoo.console import console, fail
    from zoo.synth.options import DEFAULT

    if out.exists() and not out.is_dir():
        fail(f"{out}: exists and is not a folder; give a folder to write the {'clip' if video else 'dataset'} into")
    given = {"head": head, "camera": camera, "pitch_mean": pitch_mean, "labels": labels, "population": population}
    given = {k: v for k, v in given.items() if v is not None}
    try:
        options = replace(DEFAULT, **given)
    except ValueError as e:  # e.g. unknown camera 'x'; choose one of near, far
        fail(str(e))
    if video:
        if given:
            fail(f"--{', --'.join(k.replace('_', '-') for k in given)}: dataset options; clips (--video) use the default")
        _render_clip(out, frames, scenario, seed, renderer)
        return
    if images < 1:
        fail(f"--images must be at least 1, not {images}")
    if size < 64:
        fail(f"--size must be at least 64 pixels, not {size}")
    if workers is not None and workers < 1:
        fail(f"--workers must be at least 1, not {workers}")
    if not 0.0 <= negatives < 1.0:
        fail(f"--negatives is a fraction in [0, 1), not {negatives}")
    try:
        from zoo.synth.generate import write_dataset
    except ImportError as e:
        fail(f"the renderer (zoo.synth.generate) cannot be imported: {e}")
    start = time.perf_counter()
    try:
        path = write_dataset(out, images, seed, workers=workers, negatives_fraction=negatives, size=size, options=options)
    except ValueError as e:  # e.g. OUT was rendered with other settings
        fail(str(e))
    took = time.perf_counter() - start
    rate = images / max(took, 1e-9)
    console.print(f"wrote {path} ({images:,} images in {took:.1f} s, {rate:.0f} images/s)", highlight=False, soft_wrap=True)


def _render_clip(out: Path, frames: int, scenario: str, seed: int, renderer: str) -> None:
    """`zoo data synth OUT --video`: a clip with per-frame landmarks and pose (zoo.track.clips)."""
    from zoo.console import console, fail
    from zoo.track.clips import SCENARIOS, render_clip

    if scenario not in SCENARIOS:
        fail(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if renderer not in ("synth", "flat"):
        fail(f"unknown renderer {renderer!r}; choose synth or flat")
    if frames < 1:
        fail(f"--frames must be at least 1, not {frames}")
    start = time.perf_counter()
    path = render_clip(out, frames, scenario, seed, renderer=renderer)
    took = time.perf_counter() - start
    console.print(f"wrote {path} and {path.parent / 'frames.jsonl'} ({frames} frames, {scenario}, {took:.1f} s)",
                  highlight=False, soft_wrap=True)


@data_app.command("preview")
def preview_cmd(
    data: Annotated[Path, typer.Argument(help="Dataset YAML.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Contact sheet to write (.png or .jpg).")] = Path("sheet.png"),
    split: Annotated[str, typer.Option("--split", help="Split to show.")] = "train",
    n: Annotated[int, typer.Option("--n", help="Number of faces.")] = 48,
    cols: Annotated[int, typer.Option("--cols", help="Tiles per row.")] = 8,
    tile: Annotated[int, typer.Option("--tile", help="Tile side in pixels.")] = 128,
) -> None:
    """Write a contact sheet: faces spread over the yaw range, landmarks and contours drawn, yaw under each."""
    from zoo.console import console, fail
    from zoo.data.formats import DatasetError, load_dataset_yaml

    if n < 1 or cols < 1 or tile < 32:
        fail("--n and --cols must be at least 1 and --tile at least 32")
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        fail(f"{out}: the sheet is written as an image; give a .png or .jpg path")
    try:
        samples = load_dataset_yaml(data, split, skip_bad=True)  # a bad YAML is refused before OpenCV is imported
    except DatasetError as e:
        fail(str(e))
    import cv2

    from zoo.data.preview import contact_sheet

    sheet, yaws = contact_sheet(samples, n=n, tile=tile, cols=cols)
    if not yaws:
        fail(f"{data}: no readable face in split '{split}'; run `zoo data check {data}`")
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        fail(f"{out}: could not write the image; check the folder is writable")
    known = [y for y in yaws if y is not None]
    span = f", yaw {min(known):+.0f}..{max(known):+.0f}" if known else ""
    console.print(f"wrote {out} ({len(yaws)} faces from {len(samples):,} in '{split}'{span})", highlight=False, soft_wrap=True)


@data_app.command("speed")
def speed_cmd(
    data: Annotated[Path, typer.Argument(help="Dataset YAML.")],
    split: Annotated[str, typer.Option("--split", help="Split to read.")] = "train",
    size: Annotated[int, typer.Option("--size", help="Model input size.")] = 96,
    workers: Annotated[str, typer.Option("--workers", help="DataLoader worker counts to try, comma-separated.")] = "0,1,2",
    cache: Annotated[str, typer.Option("--cache", help="Decoded-image cache: none, ram or memmap.")] = "memmap",
    affine: Annotated[bool, typer.Option("--affine/--no-affine", help="The affine recipe.")] = True,
    images: Annotated[int, typer.Option("--images", help="Images timed per worker count.")] = 1024,
    batch: Annotated[int, typer.Option("--batch", help="Batch size.")] = 64,
) -> None:
    """Measure the training data pipeline (decode, crop, augment, collate) in images/s."""
    from rich.table import Table

    from zoo.console import console, fail
    from zoo.data.dataset import LandmarkDataset, pipeline_speed
    from zoo.data.formats import DatasetError, load_dataset_yaml

    try:
        counts = [int(w) for w in workers.split(",")]
    except ValueError:
        counts = [-1]
    if any(w < 0 for w in counts):
        fail(f"--workers takes comma-separated counts like 0,1,2, not {workers!r}")
    if cache not in ("none", "ram", "memmap"):
        fail(f"--cache must be none, ram or memmap, not {cache!r}")
    try:
        samples = load_dataset_yaml(data, split, negatives=True)
        dataset = LandmarkDataset(samples, size, train=True, affine=affine, cache=None if cache == "none" else cache,
                                  num_points=min((len(s.landmarks) for s in samples if s.is_face), default=70))
    except DatasetError as e:
        fail(str(e))
    table = Table(title=f"{len(samples):,} images, {size} px, cache {cache}, {'affine' if affine else 'crop'} recipe")
    for col in ("workers", "images/s", "start-up s"):
        table.add_column(col, justify="right")
    for w in counts:
        rate, startup = pipeline_speed(dataset, w, batch_size=batch, images=images)
        table.add_row(str(w), f"{rate:,.0f}", f"{startup:.2f}")
    console.print(table)
