"""Where the package's trained weights live and which file is the default: the one place every reader asks.

``zoo/weights/<variant>.pt`` (each with a ``<variant>.md`` card) and ``zoo/weights/DEFAULT``, a file
naming the tracker's and ``zoo demo``'s default checkpoint. No torch here: the README tables read
this too, and they must stay quick.
"""

from __future__ import annotations

import os
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent
DEFAULT_MARKER = "DEFAULT"


def default_name(dest: str | os.PathLike = WEIGHTS_DIR) -> str | None:
    """The file name ``dest/DEFAULT`` names (e.g. ``lw-relu6-112-affine-cls.pt``), if any."""
    marker = Path(dest) / DEFAULT_MARKER
    return (marker.read_text().strip() or None) if marker.is_file() else None


def shipped_weights(dest: str | os.PathLike = WEIGHTS_DIR) -> list[Path]:
    """Every ``dest/*.pt``, sorted by name with the DEFAULT one first."""
    found = sorted(Path(dest).glob("*.pt"))
    name = default_name(dest)
    if name:
        found.sort(key=lambda p: p.name != name)
    return found


def weights_for(variant: str, dest: str | os.PathLike = WEIGHTS_DIR) -> Path | None:
    """``dest/<variant>.pt`` when the package ships trained weights for ``variant``."""
    path = Path(dest) / f"{variant}.pt"
    return path if path.is_file() else None
