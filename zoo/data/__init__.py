"""Data: readers, the synthetic face renderer and the training dataset."""

from __future__ import annotations

import os
from pathlib import Path

#: Bumped whenever the renderer's output changes: cached default datasets are rebuilt and results
#: on the renderer's test split are labelled ``synth-v<N>``, so scores of two renderers never mix.
RENDER_VERSION = 1


def cache_dir() -> Path:
    """Where generated data sets live: ``$ZOO_CACHE`` or ``~/.cache/zoo`` (not created here)."""
    env = os.environ.get("ZOO_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "zoo"
