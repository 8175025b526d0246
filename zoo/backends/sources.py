"""From what a user types (a variant name or a checkpoint path) to an exported artifact.

``resolve_model`` gives the eval-mode network and its provenance (sha256 of the checkpoint, or of
the seeded random weights of a variant with no shipped weights). ``export_model`` exports into
``OUT/<variant>/<backend>-<precision>/`` and reuses an existing export when its manifest says it
was made from the same weights, precision, calibration and zoo version: calling it twice is cheap.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from . import get_backend
from .base import MANIFEST_NAME, Artifact, ArtifactError, BackendError, load_artifact
from .calibration import Calibration, calibration_set
from .exporting import source_info

RANDOM_SEED = 0


def shipped_weights(variant: str) -> Path | None:
    """``zoo/weights/<variant>.pt`` when the package ships trained weights for it."""
    from zoo.weights import weights_for

    return weights_for(variant)


def resolve_model(ref: str | Path) -> Any:
    """The eval-mode network for a checkpoint path or a registered variant, with ``zoo_source`` set.

    A variant without shipped weights gets seeded random weights (seed 0, BatchNorm in eval):
    exports and parity are still meaningful, landmarks are not; the source says so.
    """
    from zoo.architectures import UnknownVariantError, create_model
    from zoo.checkpoints.checkpoint import CheckpointError, load_checkpoint

    path = Path(ref)
    if path.is_file() or path.suffix == ".pt":
        try:
            ckpt = load_checkpoint(path)
        except CheckpointError as e:
            raise ArtifactError(str(e)) from None
        model = ckpt.build()
        model.zoo_source = {"kind": "checkpoint", "path": str(path.resolve()), "sha256": ckpt.sha256}
        return model
    shipped = shipped_weights(str(ref))
    if shipped is not None:
        return resolve_model(shipped)
    import torch

    try:
        with torch.random.fork_rng():
            torch.manual_seed(RANDOM_SEED)
            model = create_model(str(ref)).eval()
    except UnknownVariantError as e:
        raise BackendError(f"{e} (or give a checkpoint path)") from None
    info = source_info(model)
    model.zoo_source = {"kind": "random-init", "seed": RANDOM_SEED, "sha256": info["sha256"], "path": None,
                        "note": "no shipped weights: seeded random initialisation (parity is meaningful, landmarks are not)"}
    return model


def artifact_dir(out: Path, variant: str, backend: str, precision: str) -> Path:
    return Path(out) / variant / f"{backend}-{precision}"


def cached(folder: Path, source: dict[str, Any], backend: str, precision: str, calib: Calibration) -> Artifact | None:
    """The existing export in ``folder`` when it was made from the same inputs, else None."""
    from zoo import __version__

    try:
        art = load_artifact(folder)
    except ArtifactError:
        return None
    m = art.manifest
    recipe = getattr(get_backend(backend), "RECIPE", 1)  # an export recipe newer than the cached one redoes it
    same = (m.get("backend") == backend and m.get("precision") == precision and m.get("zoo_version") == __version__
            and m.get("recipe", 1) == recipe
            and (m.get("source") or {}).get("sha256") == source.get("sha256")
            and m.get("calibration") == calib.describe() and not m.get("drift"))
    return art if same else None


def export_model(model: Any, backend: str, precision: str, out: Path, calib: Calibration | None = None,
                 allow_drift: bool = False, force: bool = False) -> tuple[Artifact, bool, float]:
    """Export (or reuse) one backend x precision; returns (artifact, reused, seconds)."""
    started = time.perf_counter()
    calib = calib or calibration_set(model.spec.input_size)
    folder = artifact_dir(out, model.spec.name, backend, precision)
    source = source_info(model)
    if not force:
        hit = cached(folder, source, backend, precision, calib)
        if hit is not None:
            return hit, True, time.perf_counter() - started
    # The model file is written in place and the manifest last: with the old manifest gone first, a kill
    # mid-export leaves a folder that load_artifact refuses and the next call redoes, never an old manifest
    # vouching for a half-written model file.
    (folder / MANIFEST_NAME).unlink(missing_ok=True)
    artifact = get_backend(backend).export(model, folder, precision, calib, allow_drift=allow_drift)
    return artifact, False, time.perf_counter() - started
