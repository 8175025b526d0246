"""Open the model ``zoo eval`` scores: a variant's shipped weights, a checkpoint, an fdfat peer or an
artifact, always run through ``zoo.backends`` (so a backend's parity loss shows up as NME)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class RunnerError(ValueError):
    """A model argument that cannot be opened; one line saying why."""


@dataclass
class Runner:
    label: str
    backend: str
    precision: str
    input_size: int
    run: Callable[[np.ndarray], dict[str, np.ndarray]]
    checkpoint_sha256: str = ""
    artifact_sha256: str = ""
    peer: bool = False


def shipped_weights(variant: str) -> Path:
    """``zoo/weights/<variant>.pt``: a registered variant means its shipped trained weights."""
    from zoo.weights import WEIGHTS_DIR, weights_for

    path = weights_for(variant)
    if path is None:
        have = sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt"))
        raise RunnerError(f"variant {variant!r} has no shipped weights (zoo/weights has: {', '.join(have) or 'none'}); "
                          "give --checkpoint PATH for trained weights")
    return path


def open_runner(*, variant: str | None = None, checkpoint: Path | None = None, artifact: Path | None = None,
                peer: str | None = None, backend: str = "onnx", precision: str = "fp32", threads: int = 1) -> Runner:
    """A Runner for exactly one of the four model arguments."""
    from bench.artifacts import ensure_artifact, from_checkpoint, resolve_peer
    from zoo.backends import MissingExtraError, get_backend, load_artifact
    from zoo.backends.base import BackendError
    from zoo.checkpoints.checkpoint import CheckpointError, sha256_file

    try:
        if artifact is not None:
            art = load_artifact(Path(artifact))
            m = art.manifest or {}
            backend = m.get("backend", backend)
            runtime = get_backend(backend).load(art, threads)
            return Runner(m.get("variant") or Path(artifact).stem, backend, m.get("precision", precision), art.input_size,
                          runtime.run, m.get("checkpoint_sha256", ""), sha256_file(art.path) if Path(art.path).is_file() else "")
        if peer is not None:
            source = resolve_peer(peer)
        else:
            source = from_checkpoint(shipped_weights(variant) if variant else Path(checkpoint), label=variant)
        # an export past the parity limit is still scored: measuring what the conversion costs in NME is the point
        art = ensure_artifact(source, backend, precision, allow_drift=True)
        runtime = get_backend(backend).load(art, threads)
        size = source.spec.input_size
        sha = sha256_file(art.path) if Path(art.path).is_file() else ""
        return Runner(source.label, backend, precision, size, runtime.run, source.sha256, sha, source.peer)
    except (CheckpointError, BackendError, FileNotFoundError, MissingExtraError, KeyError, ValueError) as e:
        raise RunnerError(str(e).splitlines()[0] if str(e) else type(e).__name__) from None
