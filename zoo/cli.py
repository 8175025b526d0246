"""The ``zoo`` command.

Each area registers its own commands (``register(app)`` in its ``commands`` module), so
this file only wires them together; it is the one module of ``zoo`` that may import the
``bench`` and ``eval`` harnesses.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from zoo import __version__
from zoo.console import console, err_console, fail  # noqa: F401 - re-exported for callers of zoo.cli

if TYPE_CHECKING:  # an annotation only: recent typer vendors click (typer._click) and does not install it
    import click

app = typer.Typer(
    name="zoo", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Fast face-alignment model zoo: train, export, benchmark, evaluate and track.",
)


def _no_flag_type_label() -> None:
    """typer >= 0.25 prints ``<bool>`` beside every on/off flag (``--version <bool>``), which reads as if the flag
    took a value; a flag's help shows no type here, as in click's own help."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "_zoo_patched", False):
        return

    def display_type_rich(self: TyperOption, ctx: click.Context) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    display_type_rich._zoo_patched = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_flag_type_label()


def _version(value: bool) -> None:
    if value:
        console.print(f"zoo {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Fast face-alignment model zoo."""


@app.command()
def models(
    pattern: Annotated[str | None, typer.Argument(help="Shell-style filter, e.g. 'lwcsp-*'.")] = None,
) -> None:
    """List every registered variant with its size and cost; * marks variants with shipped weights."""
    from zoo.api import ZooError, list_models, model_info

    try:
        names = list_models(pattern)
    except ZooError as e:
        fail(str(e))
    table = Table(title=f"zoo variants ({len(names)})")
    for col in ("name", "family", "activation", "width", "input", "heads", "params", "MFLOPs", "weights"):
        table.add_column(col, justify="right" if col in ("width", "input", "params", "MFLOPs") else "left",
                         no_wrap=True)
    for info in (model_info(n) for n in names):
        weights = ("default" if info.default else "shipped") if info.shipped else ""
        table.add_row(info.name, info.family, info.activation, f"{info.width:g}", str(info.input_size),
                      "+".join(info.heads), f"{info.params:,}", f"{info.flops / 1e6:.1f}", weights)
    # The table needs ~115 columns; below that rich would squeeze names and numbers into ellipses.
    Console(width=max(console.width, 130)).print(table)
    console.print("FLOPs: torch.utils.flop_counter, batch 1, one multiply-add = 2 FLOPs (cached in "
                  "zoo/architectures/costs.py). weights: trained weights ship in zoo/weights/ (`zoo weights list`); "
                  "the others are architectures to train.", highlight=False, soft_wrap=True)


@app.command("import-fdfat")
def import_fdfat_cmd(
    path: Annotated[Path, typer.Argument(help="fdfat training checkpoint (best.pt).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="zoo checkpoint to write.")],
) -> None:
    """Convert an fdfat checkpoint to a zoo checkpoint (no fdfat install needed)."""
    if not path.is_file():
        fail(f"{path}: no such file; give fdfat's training checkpoint (best.pt)")
    if out.is_dir() or out.resolve() == path.resolve():
        fail(f"--out {out}: give a new checkpoint file name (not a folder, not the fdfat file itself)")
    from zoo.checkpoints.checkpoint import CheckpointError
    from zoo.checkpoints.fdfat_import import import_fdfat

    try:
        model, card = import_fdfat(path, out)
    except CheckpointError as e:
        fail(str(e))
    params = sum(p.numel() for p in model.parameters())
    console.print(f"wrote {out} ({model.spec.name}, {params:,} params, fdfat epoch {card['source_epoch']}, "
                  f"sha256 {card['sha256'][:12]})")


def _register_all() -> None:
    """Let every area add its commands; areas whose optional pieces are absent skip quietly."""
    from zoo.adapt import commands as adapt_commands
    from zoo.backends import commands as backend_commands
    from zoo.data import commands as data_commands
    from zoo.engine import commands as engine_commands
    from zoo.track import commands as track_commands
    from zoo.transfer import commands as transfer_commands
    from zoo.weights import commands as weights_commands

    for module in (data_commands, engine_commands, backend_commands, track_commands, weights_commands, adapt_commands,
                   transfer_commands):
        module.register(app)
    import bench.commands
    import eval.commands

    bench.commands.register(app)
    eval.commands.register(app)


_register_all()


def main() -> None:
    """Run the ``zoo`` command; a usage mistake click finds itself (``--threads 0``, a missing option,
    an unknown flag) prints one ``error:`` line with the command to ask for help, like every other bad
    input, instead of click's boxed usage panel."""
    # typer may vendor click privately: find its UsageError (base of every parse failure) through the public
    # BadParameter rather than importing either click module by name.
    usage_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    try:
        code = app(standalone_mode=False)
    except usage_error as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # bare ``zoo`` or ``zoo data``: the help is the answer
            e.show()
            sys.exit(2)
        where = e.ctx.command_path if e.ctx is not None else "zoo"
        err_console.print(f"[bold red]error:[/] {escape(e.format_message())} (see `{where} --help`)",
                          highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except typer.Abort:
        err_console.print("[bold red]error:[/] aborted", highlight=False)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    sys.exit(main())
