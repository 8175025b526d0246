"""OpenVINO IR on the CPU plugin.

Converted from the ONNX export (one graph for every backend). fp16 is OpenVINO's fp16 weight
compression; int8 is NNCF post-training quantisation on the calibration crops. The CPU plugin
silently runs bf16 where the CPU has AVX512_BF16 unless told otherwise, so every Runtime pins
``INFERENCE_PRECISION_HINT=f32`` and the manifest records it: the precision in the file name is
the precision that runs.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .base import Artifact, ArtifactError, UnsupportedError, check_batch, require
from .calibration import as_calibration
from .exporting import finish_export
from .onnx_backend import KEPT_FLOAT

NAME = "openvino"
EXTRA = "openvino"
FILE = "model.xml"
INFERENCE_PRECISION = "f32"


def export(model: Any, out_dir: Path, precision: str = "fp32", calib: Any = None, *, allow_drift: bool = False) -> Artifact:
    """ONNX -> OpenVINO IR (``model.xml`` + ``model.bin``) at ``precision``, with a manifest."""
    from . import onnx_backend

    ov = require("openvino", EXTRA, NAME)
    if precision not in ("fp32", "fp16", "int8"):
        raise UnsupportedError(f"the openvino backend exports fp32, fp16 or int8, not {precision!r}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    cal = as_calibration(calib, model.spec.input_size)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        facts = onnx_backend.to_onnx(model, onnx_path)
        ov_model = ov.convert_model(str(onnx_path))
    facts = {"converted_from": f"onnx opset {facts['opset']}", "inference_precision_hint": INFERENCE_PRECISION,
             "weights": {"fp32": "f32", "fp16": "f16 (compressed; f32 compute)", "int8": "int8 (NNCF)"}[precision]}
    if precision == "int8":
        ov_model, facts["quantization"] = _nncf_int8(ov_model, cal.images)
    out_dir.mkdir(parents=True, exist_ok=True)
    ov.save_model(ov_model, str(out_dir / FILE), compress_to_fp16=precision == "fp16")
    return finish_export(model, out_dir, NAME, precision, cal, FILE, load, facts, allow_drift, started,
                         toolchain=("openvino", "nncf"))


def _nncf_int8(ov_model: Any, images: np.ndarray) -> tuple[Any, dict[str, Any]]:
    nncf = require("nncf", EXTRA, NAME)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = nncf.Dataset([images[i:i + 1] for i in range(len(images))])
        # Measured on fdfat's LW, 64 real LFPW crops: dense layers in float take the NME loss from +0.106 to +0.034 pt,
        # the face-score head in float its max error from 0.76 to 0.21; both are a few percent of the FLOPs.
        ignored = nncf.IgnoredScope(types=["MatMul"], patterns=[".*face_head.*"], validate=False)
        quantized = nncf.quantize(ov_model, data, subset_size=len(images), ignored_scope=ignored)
    return quantized, {"method": "NNCF post-training quantisation (default preset, fast bias correction)",
                       "activations": "int8", "weights": "int8", "kept_float": f"{KEPT_FLOAT} and the face-score head",
                       "calibration_images": int(len(images))}


class OpenVinoRuntime:
    """A compiled IR on the CPU plugin at f32 inference precision with ``threads`` threads."""

    def __init__(self, artifact: Artifact, threads: int = 1) -> None:
        ov = require("openvino", EXTRA, NAME)
        config = {"INFERENCE_PRECISION_HINT": INFERENCE_PRECISION, "INFERENCE_NUM_THREADS": max(1, int(threads)),
                  "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
        try:
            self.compiled = ov.Core().compile_model(str(artifact.path), "CPU", config)
        except Exception as e:  # noqa: BLE001 - OpenVINO raises RuntimeError subclasses with long texts
            raise ArtifactError(f"{artifact.path}: OpenVINO cannot load it ({str(e).strip().splitlines()[0][:160]}); "
                                "the IR is corrupted or incomplete (model.bin beside it?), re-export it") from None
        self.request = self.compiled.create_infer_request()
        self.precision = str(self.compiled.get_property("INFERENCE_PRECISION_HINT"))
        self.manifest = artifact.manifest
        self.input_size = artifact.input_size
        self.output_names = artifact.output_names
        self._outputs = {name: self.compiled.output(name) for name in self.output_names}

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        x = check_batch(batch, self.input_size)
        result = self.request.infer({0: x})
        return {name: np.array(result[port], dtype=np.float32) for name, port in self._outputs.items()}


def load(artifact: Artifact, threads: int = 1) -> OpenVinoRuntime:
    return OpenVinoRuntime(artifact, threads)
