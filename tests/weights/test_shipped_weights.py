"""Every file in zoo/weights/ is a small, loadable checkpoint with a card that names its hash."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from zoo.checkpoints.checkpoint import load_checkpoint, sha256_file
from zoo.weights.ship import DEFAULT_MARKER, MAX_BYTES, WEIGHTS_DIR

SHIPPED = sorted(WEIGHTS_DIR.glob("*.pt"))
NONE_YET = pytest.param(None, marks=pytest.mark.skip(reason="no weights shipped in zoo/weights yet"))


@pytest.mark.parametrize("path", SHIPPED or [NONE_YET], ids=lambda p: p.name if p else "none")
def test_shipped_checkpoint(path: Path) -> None:
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes"
    ckpt = load_checkpoint(path)
    assert ckpt.arch == path.stem, "eval and track find shipped weights by variant name"
    card = path.with_suffix(".md")
    assert card.is_file(), f"{card.name} is missing; run `zoo weights card {path}`"
    assert sha256_file(path) in card.read_text(), f"{card.name} is stale; run `zoo weights card {path}`"
    size = ckpt.spec.input_size
    with torch.no_grad():
        landmarks = ckpt.build()(torch.zeros(1, 3, size, size))["landmarks"]
    assert landmarks.shape == (1, 70, 2) and torch.isfinite(landmarks).all()


def test_default_marker_names_a_shipped_file() -> None:
    marker = WEIGHTS_DIR / DEFAULT_MARKER
    if not marker.is_file():
        pytest.skip("zoo/weights/DEFAULT is absent")
    name = marker.read_text().strip()
    assert name.endswith(".pt") and (WEIGHTS_DIR / name).is_file(), f"DEFAULT names {name!r}, which is not in zoo/weights"
