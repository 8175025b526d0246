"""Shared fixtures: where ../shared lives, and skips when it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout (fdfat peers, real photos); skips the test when absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent (fdfat peers and real photos live there)")
    return SHARED


def _shared_subdir(shared_dir: Path, *parts: str) -> Path:
    path = shared_dir.joinpath(*parts)
    if not path.is_dir():
        pytest.skip(f"../shared/{'/'.join(parts)} is absent")
    return path


@pytest.fixture(scope="session")
def fdfat_dir(shared_dir: Path) -> Path:
    return _shared_subdir(shared_dir, "peers", "fdfat")


@pytest.fixture(scope="session")
def real_dir(shared_dir: Path) -> Path:
    return _shared_subdir(shared_dir, "data", "real")
