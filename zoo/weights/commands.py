"""``zoo weights``: ship a trained checkpoint into the package, list what ships, regenerate a card.

The work lives in ``zoo.weights.ship``; this module only parses options and prints (``zoo.cli``
calls ``register(app)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zoo.weights import WEIGHTS_DIR  # not .ship: that imports torch, and `zoo --help` builds this module

weights_app = typer.Typer(name="weights", no_args_is_help=True,
                          help="Shipped trained weights: ship a checkpoint with its model card, list them, rebuild a card.")


def register(app: typer.Typer) -> None:
    """Add ``zoo weights ...`` to the ``zoo`` app."""
    app.add_typer(weights_app, name="weights")


@weights_app.command("ship")
def ship_cmd(
    checkpoint: Annotated[Path, typer.Argument(help="Trained zoo checkpoint, usually runs/VARIANT/best.pt.")],
    run: Annotated[Path | None, typer.Option(help="Run folder with log.csv (default: the checkpoint's folder).")] = None,
    default: Annotated[bool, typer.Option("--default", help="Also name it in DEFAULT: the tracker's model.")] = False,
    name: Annotated[str | None, typer.Option(help="File stem (default: the variant; eval and track look weights up "
                                                  "by variant, so keep it unless shipping elsewhere).")] = None,
    dest: Annotated[Path, typer.Option(help="Weights folder.")] = WEIGHTS_DIR,
) -> None:
    """Copy a checkpoint into the weights folder: weights and card only, no local paths, under 3 MB."""
    from zoo.console import fail

    if not checkpoint.is_file():
        fail(f"{checkpoint}: no such checkpoint file; give a trained zoo checkpoint, usually runs/VARIANT/best.pt")
    if run is not None and not run.is_dir():
        fail(f"--run {run}: no such run folder; give the folder with the run's log.csv")
    from zoo.checkpoints.checkpoint import CheckpointError
    from zoo.console import console
    from zoo.weights.ship import ship

    try:
        shipped = ship(checkpoint, dest, run=run, name=name, default=default)
    except (CheckpointError, OSError) as e:
        fail(str(e).splitlines()[0])
    console.print(f"wrote {shipped.path} ({shipped.size / 1024:.0f} KB, sha256 {shipped.sha256[:12]}) and {shipped.card.name}"
                  f"{'; marked DEFAULT' if default else ''}", highlight=False, soft_wrap=True)
    if shipped.path.stem != shipped.variant:
        console.print(f"note: eval and track find shipped weights as {shipped.variant}.pt; {shipped.path.name} is "
                      "reachable by path only", highlight=False, soft_wrap=True)


@weights_app.command("card")
def card_cmd(
    checkpoint: Annotated[Path, typer.Argument(help="Shipped checkpoint whose card to (re)write.")],
    out: Annotated[Path | None, typer.Option(help="Markdown file (default: beside the checkpoint, .md).")] = None,
) -> None:
    """Regenerate the Markdown model card of a checkpoint from its own metadata."""
    from zoo.console import console, fail

    if not checkpoint.is_file():  # before importing torch
        fail(f"{checkpoint}: no such checkpoint file; give a shipped checkpoint, e.g. zoo/weights/VARIANT.pt")
    from zoo.checkpoints.checkpoint import CheckpointError
    from zoo.weights.ship import write_card

    try:
        path = write_card(checkpoint, out)
    except (CheckpointError, OSError) as e:
        fail(str(e).splitlines()[0])
    console.print(f"wrote {path}", highlight=False, soft_wrap=True)


@weights_app.command("list")
def list_cmd(dest: Annotated[Path, typer.Option(help="Weights folder.")] = WEIGHTS_DIR) -> None:
    """Table of shipped weights with their validation NME by yaw bin; * marks DEFAULT."""
    from rich.console import Console
    from rich.table import Table

    from zoo.console import console
    from zoo.weights.ship import YAW_BINS, list_shipped

    rows = list_shipped(dest)
    if not rows:
        console.print(f"no shipped weights in {dest}; add some with `zoo weights ship runs/VARIANT/best.pt`",
                      highlight=False, soft_wrap=True)
        return
    table = Table(title=f"shipped weights in {dest}")
    table.add_column("", no_wrap=True, min_width=1)  # the DEFAULT mark: never squeezed away on a narrow terminal
    for col in ("file", "variant"):
        table.add_column(col, no_wrap=True)
    for col in ("KB", "val NME", "yaw <= 30", "yaw 30-40", "yaw > 40"):
        table.add_column(col, justify="right", no_wrap=True)
    for row in rows:
        nmes = [row["metrics"].get(key) for _, key in YAW_BINS]
        table.add_row("*" if row["default"] else "", row["file"], row["variant"], f"{row['size_kb']:.0f}",
                      *(f"{v:.2f}" if isinstance(v, (int, float)) else "-" for v in nmes))
    Console(width=max(console.width, 130)).print(table)
    console.print("NME: % of inter-ocular distance on the training data's validation split (synthetic); * = DEFAULT.")
