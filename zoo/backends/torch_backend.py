"""PyTorch eager: the reference backend.

Its artifact is a plain zoo checkpoint (``model.pt``) beside a manifest, so bench and eval can run
the reference through the same Runtime interface as every export. Only fp32: torch is the yardstick.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from .base import Artifact, ArtifactError, UnsupportedError, check_batch
from .calibration import as_calibration
from .exporting import finish_export

NAME = "torch"
FILE = "model.pt"


def export(model: Any, out_dir: Path, precision: str = "fp32", calib: Any = None, *, allow_drift: bool = False) -> Artifact:
    """Save the weights as a zoo checkpoint with a manifest (parity is exact by construction, and measured)."""
    from zoo.checkpoints.checkpoint import save_checkpoint

    if precision != "fp32":
        raise UnsupportedError(f"the torch backend is the fp32 reference; export {precision} to onnx, openvino, tflite or coreml")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    cal = as_calibration(calib, model.spec.input_size)
    save_checkpoint(out_dir / FILE, model, meta={"note": "torch reference artifact"})
    return finish_export(model, out_dir, NAME, precision, cal, FILE, load, {}, allow_drift, started)


class TorchRuntime:
    """An eval-mode network under ``torch.inference_mode`` with ``threads`` intra-op threads."""

    def __init__(self, model: Any, manifest: dict[str, Any], threads: int = 1) -> None:
        import torch

        self.model = model.eval()
        self.threads = max(1, int(threads))
        self._torch = torch
        self.manifest = manifest
        self.input_size = int(manifest["input"]["size"])
        self.output_names = tuple(manifest["outputs"])

    @classmethod
    def from_model(cls, model: Any, threads: int = 1) -> TorchRuntime:
        """Run an in-memory network (no artifact on disk) through the Runtime interface."""
        from .base import base_manifest
        from .exporting import source_info

        return cls(model, base_manifest(NAME, "fp32", model.spec, source_info(model), ""), threads)

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        torch = self._torch
        x = torch.from_numpy(check_batch(batch, self.input_size))
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        with torch.inference_mode():
            out = self.model(x)
        return {k: v.numpy() for k, v in out.items()}


def load(artifact: Artifact, threads: int = 1) -> TorchRuntime:
    from zoo.checkpoints.checkpoint import CheckpointError, load_checkpoint

    try:
        model = load_checkpoint(artifact.path).build()
    except CheckpointError as e:
        raise ArtifactError(str(e)) from None
    return TorchRuntime(model, artifact.manifest, threads)
