"""Data: dataset readers and checks, the training dataset, image caches and previews.

The renderer that writes synthetic datasets is its own package, ``zoo.synth``.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Where generated data sets live: ``$ZOO_CACHE`` or ``~/.cache/zoo`` (not created here)."""
    env = os.environ.get("ZOO_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "zoo"
