"""``zoo transfer``: the transfer protocol as one command; ``zoo.cli`` calls ``register(app)``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from zoo.console import fail


def transfer_cmd(
    name: Annotated[str, typer.Argument(help="Name of this setting (rows and runs/transfer/NAME), e.g. far-camera.")],
    render: Annotated[str | None, typer.Option(help="Renderer options over the default, key=value,... "
                                                    "(e.g. camera=near,pitch_mean=0; see `zoo data synth --help`).")] = None,
    images: Annotated[int, typer.Option(help="Faces rendered for the fine-tune (80 % train).")] = 6000,
    render_seed: Annotated[int, typer.Option(help="Seed of the renders.")] = 0,
    epochs: Annotated[int, typer.Option(help="Fine-tune epochs; 0 scores the starting checkpoint as it is (the control).")] = 6,
    images_per_epoch: Annotated[int, typer.Option(help="Images drawn per epoch.")] = 4000,
    lr: Annotated[float, typer.Option(help="Peak learning rate of the fine-tune.")] = 0.001,
    photometric: Annotated[str, typer.Option(help="Photometric augmentation of the fine-tune: standard or strong.")] = "standard",
    seeds: Annotated[str, typer.Option(help="Fine-tune seeds, comma-separated; two give the noise.")] = "0,1",
    real: Annotated[list[Path] | None, typer.Option(
        help="Annotated photo set (dataset YAML) to score on; repeat for more "
             "(default: ../shared/data/real's lfpw-train and dlib-examples).")] = None,
    out: Annotated[Path, typer.Option(help="Folder of the fine-tune runs.")] = Path("runs") / "transfer",
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bars.")] = False,
) -> None:
    """Render with given options, fine-tune the shipped default for a fixed short recipe, score on annotated photos:
    raw, offset-removed and label-mapped NME, NME by part, per-point offsets and the shape gap (results/transfer.csv)."""
    from zoo.transfer.protocol import Recipe, default_real_sets
    from zoo.transfer.run import parse_options

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", name):
        fail(f"NAME {name!r}: use letters, digits and . _ + - (it names a folder and a results row)")
    if images < 50:
        fail(f"--images {images}: render at least 50 faces (the fine-tune trains on 80 % of them)")
    if epochs < 0 or images_per_epoch < 64 or lr <= 0:
        fail("--epochs must be >= 0, --images-per-epoch >= 64 and --lr > 0")
    from zoo.data import PHOTOMETRIC

    if photometric not in PHOTOMETRIC:
        fail(f"--photometric {photometric!r}: choose one of {', '.join(PHOTOMETRIC)}")
    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError:
        fail(f"--seeds {seeds!r}: give whole numbers separated by commas, e.g. 0,1")
    if not seed_list:
        fail("--seeds: give at least one seed")
    sets = list(real) if real else default_real_sets()
    if not sets:
        fail("no annotated photo set: ../shared/data/real is not beside the checkout; pass --real DATASET.yaml")
    for s in sets:
        if not s.is_file():
            fail(f"--real {s}: no such dataset YAML")
    try:
        options = parse_options(render)
    except ValueError as e:
        fail(str(e))
    recipe = Recipe(epochs=epochs, images_per_epoch=images_per_epoch, lr=lr, photometric=photometric)
    from zoo.console import console
    from zoo.transfer.run import run_transfer

    rows = run_transfer(name, options, images, render_seed, recipe, seed_list if epochs else seed_list[:1], sets, out,
                        log=lambda m: console.print(m, highlight=False, soft_wrap=True), progress=not no_progress)
    _summary(rows)


def _summary(rows: list[dict]) -> None:
    """Mean and spread over seeds per photo set."""
    from rich.table import Table

    from bench.transfer_table import mean_spread
    from zoo.console import console

    t = Table(title="transfer protocol (mean over seeds; ± half the range)")
    for col in ("set", "seeds", "NME", "FR@10 %", "offset-removed", "label-mapped", "worst offset % IOD"):
        t.add_column(col, justify="right")
    for ds in dict.fromkeys(r["dataset"] for r in rows):
        rs = [r for r in rows if r["dataset"] == ds]
        t.add_row(ds, str(len(rs)), mean_spread(rs, "nme"), mean_spread(rs, "fr10", 100), mean_spread(rs, "nme_offset_removed"),
                  mean_spread(rs, "nme_mapped"), mean_spread(rs, "max_point_offset"))
    console.print(t)


def register(app: typer.Typer) -> None:
    app.command("transfer")(transfer_cmd)
