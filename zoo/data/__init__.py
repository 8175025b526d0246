"""Data: dataset readers and checks, the training dataset, image caches and previews.

The renderer that writes synthetic datasets is its own package, ``zoo.synth``.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Photometric recipes of the training dataset (``zoo.data.dataset``): ``standard`` (colour, grey, blur,
#: noise, JPEG) and ``strong``, which adds what separates real photos from renders (low resolution, sensor
#: noise, over-sharpening, tone curves, local contrast, occluding patches) so a model cannot lean on the
#: renderer's clean look. Here, not in the dataset module, so ``zoo train`` checks a name before torch loads.
PHOTOMETRIC = ("standard", "strong")


def cache_dir() -> Path:
    """Where generated data sets live: ``$ZOO_CACHE`` or ``~/.cache/zoo`` (not created here)."""
    env = os.environ.get("ZOO_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "zoo"
