"""The steps every backend's ``export`` shares: where the weights came from, torch's reference
outputs, and the closing step that loads the fresh artifact, measures parity and writes the
manifest (failing loudly, or marking the manifest with ``--allow-drift``)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .base import (
    Artifact,
    ParityError,
    Runtime,
    base_manifest,
    measure_parity,
    not_measured,
    parity_summary,
    toolchain_versions,
    write_manifest,
)
from .calibration import Calibration


def source_info(model: Any) -> dict[str, Any]:
    """Provenance of a model's weights: what the CLI attached (``model.zoo_source``), else a hash
    of the state dict, so two exports of the same weights share a checkpoint_sha256."""
    given = getattr(model, "zoo_source", None)
    if given:
        return dict(given)
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return {"kind": "in-memory", "sha256": h.hexdigest(), "path": None}


def torch_reference(model: Any, images: np.ndarray) -> dict[str, np.ndarray]:
    """The eager model's outputs on the calibration batch: the truth every backend is held to."""
    import torch

    model.eval()
    with torch.inference_mode():
        out = model(torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)))
    return {k: v.detach().cpu().numpy() for k, v in out.items()}


def finish_export(model: Any, out_dir: Path, backend: str, precision: str, calib: Calibration, file: str,
                  loader: Callable[[Artifact, int], Runtime] | None, extra: Mapping[str, Any] | None = None,
                  allow_drift: bool = False, started: float | None = None, layout: str = "NCHW",
                  batch: int | None = None, toolchain: tuple[str, ...] = ()) -> Artifact:
    """Write the manifest with measured parity and return the artifact.

    ``loader`` is None where the artifact cannot run on this OS (CoreML off macOS): parity then
    reads "not measurable on this OS". Parity beyond the precision's limit raises ParityError after
    writing a manifest marked ``rejected`` (so nothing loads it by mistake) unless ``allow_drift``.
    """
    spec = model.spec
    manifest = base_manifest(backend, precision, spec, source_info(model), file, layout, batch)
    manifest.update(extra or {})
    manifest["calibration"] = calib.describe()
    manifest["toolchain"] = toolchain_versions("torch", *toolchain)
    out_dir = Path(out_dir)
    artifact = Artifact(out_dir / file, manifest, out_dir / "manifest.json")
    if loader is None:
        parity = not_measured()
    else:
        runtime = loader(artifact, 2)
        got = runtime.run(calib.images)
        # an adapted network (zoo adapt) speaks its dataset's convention: the calibration labels are not its truth
        truth = None if hasattr(model, "adapter_state") else calib.landmarks
        parity = measure_parity(torch_reference(model, calib.images), got, precision, spec.input_size, truth)
    manifest["parity"] = parity
    manifest["allow_drift"] = bool(allow_drift)
    manifest["drift"] = parity.get("passed") is False
    manifest["rejected"] = manifest["drift"] and not allow_drift
    if started is not None:
        manifest["export_seconds"] = round(time.perf_counter() - started, 2)
    write_manifest(out_dir, manifest)
    if manifest["rejected"]:
        raise ParityError(f"{backend} {precision} export of {spec.name} drifts from torch: {parity_summary(parity)}; "
                          f"rerun with --allow-drift to keep it anyway", parity)
    return artifact
