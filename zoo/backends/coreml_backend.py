"""CoreML ML program (``.mlpackage``) through coremltools.

Conversion runs anywhere (from a TorchScript trace); prediction needs macOS. Off macOS the
export checks the package's structure instead (input/output names and shapes, read back from the
saved spec) and the manifest's parity says "not measurable on this OS"; on macOS parity is
measured like every other backend. fp16 is the ML program's compute precision; int8 is
weight-only linear quantisation (activations stay fp16), the form CoreML deploys.
"""

from __future__ import annotations

import contextlib
import io
import logging
import platform
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .base import NOT_MEASURABLE, Artifact, ArtifactError, UnsupportedError, check_batch, require
from .calibration import as_calibration
from .exporting import finish_export

NAME = "coreml"
EXTRA = "coreml"
FILE = "model.mlpackage"
DEPLOYMENT_TARGET = "iOS16"


def _coremltools() -> Any:
    """Import coremltools without letting it import TensorFlow and scikit-learn (its converters for
    those formats; we convert from PyTorch): that costs seconds and floods the log with warnings."""
    if "coremltools" in sys.modules:
        return require("coremltools", EXTRA, NAME)
    hidden = [m for m in ("tensorflow", "sklearn") if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment]
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return require("coremltools", EXTRA, NAME)
    finally:
        for m in hidden:
            sys.modules.pop(m, None)


def can_predict() -> bool:
    return platform.system() == "Darwin"


def export(model: Any, out_dir: Path, precision: str = "fp32", calib: Any = None, *, allow_drift: bool = False) -> Artifact:
    """Trace, convert and save ``out_dir/model.mlpackage`` at ``precision``, with a manifest."""
    import torch

    from zoo.architectures import TupleOutputs

    ct = _coremltools()
    logging.getLogger("coremltools").setLevel(logging.ERROR)  # "torch version not tested" on every convert
    if precision not in ("fp32", "fp16", "int8"):
        raise UnsupportedError(f"the coreml backend exports fp32, fp16 or int8, not {precision!r}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    spec = model.spec
    cal = as_calibration(calib, spec.input_size)
    wrapper = TupleOutputs(model).eval()
    size = spec.input_size
    with warnings.catch_warnings(), torch.inference_mode(False), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")  # tracer warnings; the redirect hides coremltools' per-pass progress bars
        traced = torch.jit.trace(wrapper, torch.zeros(1, 3, size, size))
        mlmodel, facts = _convert(ct, traced, wrapper.output_names, size, precision)
    model.eval()
    target = out_dir / FILE
    if target.exists():
        shutil.rmtree(target)
    out_dir.mkdir(parents=True, exist_ok=True)
    mlmodel.save(str(target))
    facts["structure"] = check_structure(target, spec)
    if not can_predict():
        facts["note"] = f"CoreML predicts only on macOS: structure checked, parity {NOT_MEASURABLE}"
    return finish_export(model, out_dir, NAME, precision, cal, FILE, load if can_predict() else None, facts, allow_drift,
                         started, batch=1, toolchain=("coremltools",))


def _convert(ct: Any, traced: Any, names: tuple[str, ...], size: int, precision: str) -> tuple[Any, dict[str, Any]]:
    mlmodel = ct.convert(
        traced, inputs=[ct.TensorType(name="input", shape=(1, 3, size, size), dtype=np.float32)],
        outputs=[ct.TensorType(name=n) for n in names], convert_to="mlprogram",
        compute_precision=ct.precision.FLOAT32 if precision == "fp32" else ct.precision.FLOAT16,
        minimum_deployment_target=getattr(ct.target, DEPLOYMENT_TARGET))
    facts: dict[str, Any] = {"compute_precision": "float32" if precision == "fp32" else "float16",
                             "minimum_deployment_target": DEPLOYMENT_TARGET, "converted_from": "TorchScript trace"}
    if precision == "int8":
        from coremltools.optimize.coreml import OpLinearQuantizerConfig, OptimizationConfig, linear_quantize_weights

        config = OptimizationConfig(global_config=OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8"))
        mlmodel = linear_quantize_weights(mlmodel, config)
        facts["quantization"] = {"method": "coremltools linear_quantize_weights (symmetric, per-channel)",
                                 "weights": "int8", "activations": "fp16", "calibration_images": 0}
    return mlmodel, facts


def describe(path: Path) -> dict[str, Any]:
    """Input/output names and shapes from a saved package's spec (works on any OS)."""
    ct = _coremltools()
    try:
        spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
    except Exception as e:  # noqa: BLE001
        raise ArtifactError(f"{path}: not a readable CoreML package ({str(e).strip().splitlines()[0][:160]})") from None

    def shapes(features: Any) -> dict[str, list[int]]:
        return {f.name: [int(d) for d in f.type.multiArrayType.shape] for f in features}

    return {"type": spec.WhichOneof("Type"), "spec_version": int(spec.specificationVersion),
            "inputs": shapes(spec.description.input), "outputs": shapes(spec.description.output)}


def check_structure(path: Path, spec: Any) -> dict[str, Any]:
    """The saved package must take ``input`` [1,3,S,S] and give the contract's outputs."""
    found = describe(path)
    want_out = {"landmarks": [1, spec.num_points, 2], "face_score": [1, 1], "pose": [1, 3],
                "source_landmarks": [1, getattr(spec, "source_points", 70), 2]}
    expected = {"inputs": {"input": [1, 3, spec.input_size, spec.input_size]},
                "outputs": {h: want_out[h] for h in spec.heads}}
    for key in ("inputs", "outputs"):
        if found[key] != expected[key]:
            raise ArtifactError(f"{path}: CoreML {key} are {found[key]}, expected {expected[key]}")
    return found


class CoremlRuntime:
    """An ``.mlpackage`` on Core ML (macOS only)."""

    def __init__(self, artifact: Artifact, threads: int = 1) -> None:
        ct = _coremltools()
        if not can_predict():
            raise UnsupportedError(f"CoreML predicts only on macOS (this is {platform.system()}); "
                                   "the package converts and validates here, run it on a Mac")
        try:
            self.model = ct.models.MLModel(str(artifact.path), compute_units=ct.ComputeUnit.CPU_ONLY)
        except Exception as e:  # noqa: BLE001
            raise ArtifactError(f"{artifact.path}: Core ML cannot load it ({str(e).strip().splitlines()[0][:160]})") from None
        self.manifest = artifact.manifest
        self.input_size = artifact.input_size
        self.output_names = artifact.output_names

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        x = check_batch(batch, self.input_size)
        outs = [self.model.predict({"input": x[i:i + 1]}) for i in range(x.shape[0])]
        return {n: np.concatenate([np.asarray(o[n], np.float32) for o in outs]) for n in self.output_names}


def load(artifact: Artifact, threads: int = 1) -> CoremlRuntime:
    return CoremlRuntime(artifact, threads)
