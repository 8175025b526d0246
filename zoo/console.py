"""The terminal every command prints to, and the one-line error: shared by ``zoo.cli`` and each area's commands.

It lives apart from ``zoo/cli.py`` so that command modules do not import the module that imports
them (``cli`` wires the commands; this holds what they all print with).
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    """Print a one-line error and exit non-zero: the house style for bad input."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
