"""``zoo adapt`` and ``zoo adapt-study``: parse, call ``zoo.adapt``, print the tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zoo.console import console, fail

from . import AdaptError


def _pair(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        a, b = (int(v) for v in text.split(","))
    except ValueError:
        fail(f"--iod {text}: give two point indices as A,B (e.g. 36,45)")
    return a, b


def adapt_cmd(
    model: Annotated[str, typer.Argument(help="Variant with shipped weights, zoo checkpoint, or fdfat best.pt.")],
    dataset: Annotated[Path, typer.Option("--dataset", "-d", help="Dataset YAML of labelled faces (any point count).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Adapted checkpoint to write (omit: CV only).")] = None,
    split: Annotated[list[str] | None, typer.Option("--split", help="Split(s) of the YAML to use; default: all.")] = None,
    folds: Annotated[int, typer.Option(help="k of the k-fold cross-validation.")] = 5,
    kind: Annotated[str, typer.Option(help="ridge (default), mlp, or auto: the MLP only where it wins in CV.")] = "ridge",
    crop: Annotated[str, typer.Option(help="detector (predict's HOG box; jitter where it misses) or jitter.")] = "detector",
    backend: Annotated[str, typer.Option(help="Backend the model runs on while observing.")] = "onnx",
    iod: Annotated[str | None, typer.Option(help="A,B: target points whose distance normalises NME (unknown schemes).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the folds and of jittered boxes.")] = 0,
) -> None:
    """Fit a map from MODEL's points to the dataset's convention; write a checkpoint ending in it."""
    from rich.progress import Progress

    from .api import adapt
    from .report import fmt

    with Progress(transient=True, console=console) as bar:
        task = bar.add_task("observing faces", total=None)
        try:
            result = adapt(model, dataset, out, splits=tuple(split) if split else None, k=folds, kind=kind, crop=crop,
                           backend=backend, iod=_pair(iod), seed=seed, progress=lambda n: bar.advance(task, n),
                           on_observe=lambda n: bar.update(task, total=n))
        except AdaptError as e:
            fail(str(e))
    info = result.info
    t = Table(title=f"{info['model']} -> {info['convention']}: {folds}-fold CV, NME % (FR@10 %)")
    for col in ("fold", "fit", "scored", "alpha", "before", "ridge", "mlp", "FR@10 before", "FR@10 ridge"):
        t.add_column(col, justify="right")
    for r in result.folds:
        t.add_row(str(r.fold), str(r.fit), str(r.scored), f"{r.alpha:.0e}", fmt(r.before), fmt(r.ridge), fmt(r.mlp),
                  fmt(r.fr_before, 1), fmt(r.fr_after, 1))
    console.print(t)
    p = Table(title=f"by part, out-of-fold ({info['map']})")
    for col in ("part", "before", "after"):
        p.add_column(col, justify="right")
    for name, b, a in result.parts:
        p.add_row(name, fmt(b), fmt(a))
    console.print(p)
    crops = ", ".join(f"{v} {k}" for k, v in info["crops"].items())
    console.print(f"{info['faces']} faces ({crops} crops); CV NME {fmt(info['cv_nme_before'])} -> {fmt(info['cv_nme'])} "
                  f"({info['map']}; ridge {fmt(info['cv_nme_ridge'])}, mlp {fmt(info['cv_nme_mlp'])}); "
                  f"alpha {info['alpha']:.0e} chosen by {folds}-fold CV on all faces")
    if result.out is not None:
        console.print(f"wrote {result.out} (sha256 {result.sha256[:12]}): {info['points']} points; "
                      "export, predict, track, eval and bench take it like any checkpoint")


def study_cmd(
    models: Annotated[list[str], typer.Argument(help="Models to study (variant, checkpoint or fdfat best.pt).")],
    dataset: Annotated[Path, typer.Option("--dataset", "-d", help="Dataset YAML to fit and score on.")],
    sizes: Annotated[str, typer.Option(help="Numbers of fitting faces, comma separated.")] = "25,50,100,400",
    held_out: Annotated[int, typer.Option(help="Faces scored in each draw (never fit on).")] = 405,
    draws: Annotated[int, typer.Option(help="Random draws averaged per size.")] = 5,
    transfer: Annotated[Path | None, typer.Option(help="Second dataset YAML scored with maps fit on --dataset.")] = None,
    csv: Annotated[Path, typer.Option(help="CSV to write.")] = Path("results/adapt.csv"),
    doc: Annotated[Path | None, typer.Option(help="Page whose zoo:table:adapt block is rewritten.")] = Path("docs/adapt.md"),
    plot: Annotated[Path | None, typer.Option(help="PNG of NME against fitting faces.")] = Path("results/adapt.png"),
    crop: Annotated[str, typer.Option(help="detector or jitter (see zoo adapt).")] = "detector",
    backend: Annotated[str, typer.Option(help="Backend the models run on.")] = "onnx",
    folds: Annotated[int, typer.Option(help="k of the inner CV that picks alpha.")] = 5,
) -> None:
    """Regenerate docs/adapt.md's table: NME before and after maps fit on n faces, scored on others."""
    from .study import run_study

    try:
        counts = [int(s) for s in sizes.split(",")]
    except ValueError:
        fail(f"--sizes {sizes}: give whole numbers separated by commas")
    try:
        rows = run_study(models, dataset, counts, held_out, draws, transfer, crop, backend, folds, csv, doc, plot,
                         log=console.print)
    except AdaptError as e:
        fail(str(e))
    console.print(f"wrote {csv} ({len(rows)} rows)" + (f", {doc}" if doc else "") + (f", {plot}" if plot else ""))


def register(app: typer.Typer) -> None:
    app.command("adapt")(adapt_cmd)
    app.command("adapt-study")(study_cmd)
