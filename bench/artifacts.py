"""What the harnesses measure: a model source (variant, checkpoint or fdfat peer) and its
exported artifacts, cached by checkpoint sha256, backend and precision.

Both harnesses go through ``zoo.backends.get_backend(name).export/load`` so every backend is
measured and evaluated the same way. A plain variant name gets random-initialised weights
(seed 0, saved once as a checkpoint in the cache): latency does not depend on the weights.
"""

from __future__ import annotations

import inspect
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PEER_NAMES = {"LWModel": "fdfat-lw", "LWCSPModel": "fdfat-lwcsp"}


def cache_root() -> Path:
    """``zoo.data.cache_dir()`` ($ZOO_CACHE or ~/.cache/zoo)."""
    from zoo.data import cache_dir

    return cache_dir()


def shared_dir() -> Path:
    """../shared beside the checkout (fdfat peers, real photos), or $ZOO_SHARED."""
    env = os.environ.get("ZOO_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


@dataclass
class ModelSource:
    """A model to export: ``label`` is the row's variant column (``fdfat-lw`` for a peer)."""

    label: str
    checkpoint: Path | None
    sha256: str
    peer: bool = False
    random_init: bool = False
    origin: str = ""
    artifact: Any = None  # an existing artifact (``--artifact``): measured as is, never exported

    def load(self):
        """The network with its weights, in eval mode (torch is imported only here)."""
        from zoo.checkpoints.checkpoint import load_checkpoint

        if self.checkpoint is None:
            raise ValueError(f"{self.label}: an artifact without a checkpoint cannot be re-exported")
        model = load_checkpoint(self.checkpoint).build()
        kind = "fdfat" if self.peer else "random-init" if self.random_init else "checkpoint"
        model.zoo_source = {"kind": kind, "sha256": self.sha256, "path": self.origin or str(self.checkpoint)}
        return model

    @property
    def spec(self):
        """The VariantSpec (from the checkpoint, or from an artifact's manifest; None for a foreign file)."""
        if self.checkpoint is None:
            from zoo.architectures import VariantSpec

            spec = (self.artifact.manifest or {}).get("spec") if self.artifact is not None else None
            return VariantSpec.from_dict(spec) if spec else None
        from zoo.checkpoints.checkpoint import load_checkpoint

        return load_checkpoint(self.checkpoint).spec


def from_artifact(path: Path) -> ModelSource:
    """An already exported artifact (any backend, or a wrapped foreign ONNX such as fdfat's model.onnx)."""
    from zoo.backends import load_artifact

    art = load_artifact(Path(path))
    m = art.manifest or {}
    foreign = (m.get("source") or {}).get("kind") == "foreign-onnx"
    label = m.get("variant") or Path(path).stem
    return ModelSource(label, None, m.get("checkpoint_sha256") or "", peer=foreign, origin=str(path), artifact=art)


def from_variant(name: str) -> ModelSource:
    """A registered variant with random weights (seed 0), saved once into the cache."""
    import torch

    from zoo.architectures import create_model, get_spec
    from zoo.checkpoints.checkpoint import save_checkpoint, sha256_file

    get_spec(name)  # raises UnknownVariantError with suggestions
    torch.manual_seed(0)
    model = create_model(name).eval()
    # the architecture's fingerprint is part of the file name: a family whose layers change gets new weights
    path = cache_root() / "bench-init" / f"{name}-{arch_fingerprint(model)}.pt"
    if not path.is_file():
        save_checkpoint(path, model, meta={"training_data": None, "note": "random init (seed 0) for latency only"})
    return ModelSource(name, path, sha256_file(path), random_init=True, origin="random init, seed 0")


def arch_fingerprint(model) -> str:
    """8 hex digits of the state dict's names and shapes: changes whenever the architecture does."""
    import hashlib

    h = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        h.update(f"{key}:{tuple(tensor.shape)};".encode())
    return h.hexdigest()[:8]


def from_checkpoint(path: Path, label: str | None = None) -> ModelSource:
    """A zoo checkpoint; the label is its variant name unless given."""
    from zoo.checkpoints.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    return ModelSource(label or ckpt.spec.name, Path(path), ckpt.sha256 or "", origin=str(path))


def peer_label(best_pt: Path, family: str | None = None) -> str:
    """``fdfat-lw`` / ``fdfat-lwcsp`` from fdfat's folder name (or the imported family)."""
    folder = best_pt.parent.name
    for prefix, label in sorted(PEER_NAMES.items(), key=lambda kv: -len(kv[0])):
        if folder.startswith(prefix):
            return label
    return f"fdfat-{family}" if family else f"fdfat-{re.sub(r'[^a-z0-9]+', '-', folder.lower()).strip('-')}"


def from_peer(path: Path) -> ModelSource:
    """An fdfat ``best.pt`` imported (once, cached by the file's sha256) into a zoo checkpoint."""
    from zoo.checkpoints.checkpoint import load_checkpoint, sha256_file
    from zoo.checkpoints.fdfat_import import IMPORT_LAYOUT, import_fdfat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no fdfat checkpoint there; give the path of fdfat's best.pt")
    sha = sha256_file(path)  # fdfat's file, not the import (whose card carries a date): stable across machines
    out = cache_root() / "peers" / f"{sha[:16]}-layout{IMPORT_LAYOUT}.pt"
    if out.is_file():
        try:
            load_checkpoint(out).build()
        except Exception:  # noqa: BLE001 - imported under an older architecture: import again
            out.unlink()
    if not out.is_file():
        import_fdfat(path, out)
    ckpt = load_checkpoint(out)
    return ModelSource(peer_label(path, ckpt.spec.family), out, sha, peer=True, origin=str(path))


def discover_peers(root: Path | None = None) -> list[Path]:
    """fdfat's published checkpoints under ../shared/peers/fdfat (empty when absent)."""
    root = root or shared_dir() / "peers" / "fdfat"
    return sorted(root.glob("*/best.pt")) if root.is_dir() else []


def resolve_peer(name_or_path: str) -> ModelSource:
    """``fdfat-lw`` / ``fdfat-lwcsp`` (found under ../shared) or a path to a best.pt."""
    if Path(name_or_path).is_file():
        return from_peer(Path(name_or_path))
    found = {peer_label(p): p for p in discover_peers()}
    if name_or_path not in found:
        have = ", ".join(found) or f"none: {shared_dir() / 'peers' / 'fdfat'} is absent"
        raise FileNotFoundError(f"unknown peer {name_or_path!r}; known peers: {have}; or give the path of a best.pt")
    return from_peer(found[name_or_path])


# --------------------------------------------------------------------------- artifacts
def _stale_calibration(artifact: Any) -> bool:
    """An int8 export calibrated on random images while the renderer was missing is rebuilt once the
    renderer imports: calibration on faces is what the accuracy of an int8 row depends on."""
    source = str(((artifact.manifest or {}).get("calibration") or {}).get("source", ""))
    if artifact.manifest.get("precision") != "int8" or not source.startswith("random-fallback"):
        return False
    import importlib.util

    return importlib.util.find_spec("zoo.synth.generate") is not None


def _older_recipe(artifact: Any, backend: str) -> bool:
    """An export made by an older recipe of its backend (``RECIPE``, bumped when an export changes what it
    computes or how fast it runs) is redone, as ``zoo.backends.sources.cached`` does for ``zoo export``."""
    from zoo.backends import get_backend

    return (artifact.manifest or {}).get("recipe", 1) != getattr(get_backend(backend), "RECIPE", 1)


def artifact_dir(source: ModelSource, backend: str, precision: str) -> Path:
    return cache_root() / "artifacts" / source.sha256[:16] / f"{backend}-{precision}"


def ensure_artifact(source: ModelSource, backend: str, precision: str, allow_drift: bool = False, force: bool = False) -> Any:
    """The exported artifact for (source, backend, precision), exported only when not cached.

    int8 calibration is the backend's default (``calib=None``: deterministic rendered faces). The
    latency harness passes ``allow_drift`` because random-init weights make parity meaningless;
    the accuracy harness never does, so a drifting conversion cannot be scored silently.
    """
    from zoo.backends import ParityError, get_backend, load_artifact
    from zoo.backends.base import MANIFEST_NAME, parity_summary

    if source.artifact is not None:
        return source.artifact
    out = artifact_dir(source, backend, precision)
    marker = out / "artifact.path"  # written after a complete export; names the artifact file
    cached = None
    if marker.is_file() and not force:
        try:
            artifact = load_artifact(Path(marker.read_text().strip()))
            if Path(artifact.path).exists() and not _stale_calibration(artifact) and not _older_recipe(artifact, backend):
                cached = artifact
        except Exception:  # noqa: BLE001 - a stale or half-written cache entry is simply rebuilt
            pass
    if cached is not None:
        # the cache is shared: an export kept past its parity limit for scoring (``zoo eval``) must still be
        # refused to a caller that does not allow drift, or whether ``zoo bench`` times a broken int8 model
        # would depend on which command ran first
        parity = (cached.manifest or {}).get("parity") or {}
        if (cached.manifest or {}).get("drift") and not allow_drift:
            raise ParityError(f"{backend} {precision} export of {source.label} drifts from torch: {parity_summary(parity)} "
                              "(a cached export kept with drift allowed)", parity)
        return cached
    model = source.load()
    for stale in (marker, out / MANIFEST_NAME):  # a kill mid-export must not leave them vouching for a half-written file
        stale.unlink(missing_ok=True)
    export = get_backend(backend).export
    kwargs = {"allow_drift": True} if allow_drift and "allow_drift" in inspect.signature(export).parameters else {}
    artifact = export(model, out, precision, None, **kwargs)
    marker.write_text(str(artifact.path))
    return artifact
