"""CLI commands of this area; ``zoo.cli`` calls ``register(app)``."""

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the ``zoo`` app (none yet)."""
