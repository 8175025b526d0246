"""ONNX on ONNX Runtime: the hub format (OpenVINO and TFLite convert from it).

Export uses the TorchScript-based ``torch.onnx.export`` (``dynamo=False``): on these small CNNs it
is 8x faster than the dynamo exporter, emits opset 17 directly (dynamo starts at 18 and its
down-conversion fails) and gives the same numbers; onnxsim then folds the shape arithmetic so
every output has a clean static shape. fp16 keeps float32 I/O (casts inside); int8 is ONNX
Runtime static QDQ quantisation, per channel, calibrated on the calibration crops.

Three choices make ONNX Runtime's CPU provider fast here, all measured on this project's models
(docs/export.md, "int8 speed, by runtime"); the graph rewrites compute the same function
(zoo.backends.graph_rewrites):

- LW's one-slope ``PRelu`` is written as ``LeakyRelu`` (fp32: fused into the stem convolution;
  int8: a ``QLinearLeakyRelu`` table lookup). ORT's broadcasting PRelu kernel took 15-20 % of LW's
  whole fp32 run for one 16-channel layer and stayed float in int8. A per-channel PRelu becomes
  ``Relu(x) + slope * Min(x, 0)``.
- The face-score head's depthwise convolutions with channel multiplier 2 (grouped, 1 input and 2
  outputs per group) are written as a 1x1 convolution repeating each channel then a plain depthwise
  one: ORT has no int8 kernel for the grouped form and ran it 4-5x slower than fp32, which cost LW's
  int8 export about 17 % of its run.
- int8 activations are unsigned (U8S8). With signed activations (S8S8) ORT on x86 fuses only the
  dense convolutions into QLinearConv: every depthwise convolution stayed float behind DQ/Q pairs
  and layout transposes, and int8 ran at about half the speed of fp32.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .base import Artifact, ArtifactError, UnsupportedError, check_batch, map_outputs, run_chunked
from .calibration import Calibration, as_calibration
from .exporting import finish_export

NAME = "onnx"
#: int8 keeps the fully connected head layers in float: they are under 1% of the FLOPs, and on
#: fdfat's trained LW (64 real LFPW crops) that lowers the int8 NME loss (ORT +0.237 -> +0.203 pt,
#: NNCF +0.106 -> +0.034 pt).
FLOAT_OPS = ("Gemm", "MatMul")
KEPT_FLOAT = "fully connected head layers (Gemm/MatMul)"
OPSET = 17
FILE = "model.onnx"
#: Bumped when this backend's export changes what an artifact computes or how fast it runs, so
#: cached exports made by an older recipe are redone. 2: PRelu rewrite, U8S8 int8. 3: one-slope
#: PRelu -> LeakyRelu, channel-multiplier convolutions -> 1x1 repeat + depthwise.
RECIPE = 3


def to_onnx(model: Any, path: Path, dynamic_batch: bool = True, simplify: bool = True,
            for_onnxruntime: bool = False) -> dict[str, Any]:
    """Export the eager model to ONNX with the contract's names; returns facts for the manifest.

    ``for_onnxruntime`` rewrites ops that ORT's CPU provider runs slowly into equivalent ones; the
    other converters (OpenVINO, onnx2tf) get the plain graph, whose PRelu they map to native ops.
    """
    import torch

    from zoo.architectures import TupleOutputs

    size = model.spec.input_size
    wrapper = TupleOutputs(model).eval()  # a fresh wrapper is in train mode; export restores that mode
    names = list(wrapper.output_names)
    axes = {n: {0: "batch"} for n in ["input", *names]} if dynamic_batch else None
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapper, (torch.zeros(1, 3, size, size),), str(path), input_names=["input"], output_names=names,
                          opset_version=OPSET, dynamic_axes=axes, dynamo=False, do_constant_folding=True)
    model.eval()
    simplified = simplify and _simplify(path)
    facts: dict[str, Any] = {"opset": OPSET, "dynamic_batch": dynamic_batch, "simplified": simplified,
                             "exporter": "torch.onnx (TorchScript)"}
    if for_onnxruntime:
        import onnx

        from .graph_rewrites import decompose_prelu, prelu_to_leaky_relu, split_channel_multiplier

        graph = onnx.load(str(path))
        done = [(prelu_to_leaky_relu(graph), "PRelu with one slope -> LeakyRelu"),
                (decompose_prelu(graph), "PRelu -> Relu(x) + slope * Min(x, 0)"),
                (split_channel_multiplier(graph), "depthwise Conv with channel multiplier -> 1x1 repeat Conv + depthwise Conv")]
        if any(n for n, _ in done):
            onnx.save(graph, str(path))
            facts["rewrites"] = [f"{what} ({n})" for n, what in done if n]
    return facts


def _simplify(path: Path) -> bool:
    """onnxsim in place when it is installed (the tflite extra brings it); False when skipped."""
    try:
        import onnx
        import onnxsim
    except ImportError:
        return False
    model, ok = onnxsim.simplify(onnx.load(str(path)))
    if ok:
        onnx.save(model, str(path))
    return bool(ok)


def export(model: Any, out_dir: Path, precision: str = "fp32", calib: Any = None, *, allow_drift: bool = False,
           dynamic_batch: bool = True) -> Artifact:
    """Export to ``out_dir/model.onnx`` at ``precision`` with a manifest and measured parity."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    cal = as_calibration(calib, model.spec.input_size)
    facts = {**to_onnx(model, out_dir / FILE, dynamic_batch, for_onnxruntime=True), "recipe": RECIPE}
    if precision == "fp16":
        _to_fp16(out_dir / FILE)
        facts["conversion"] = "onnxruntime.transformers.float16, float32 I/O kept"
    elif precision == "int8":
        facts["quantization"] = quantize_int8(out_dir / FILE, cal)
    elif precision != "fp32":
        raise UnsupportedError(f"the onnx backend exports fp32, fp16 or int8, not {precision!r}")
    return finish_export(model, out_dir, NAME, precision, cal, FILE, load, facts, allow_drift, started,
                         batch=None if dynamic_batch else 1, toolchain=("onnx", "onnxruntime", "onnxsim"))


def _to_fp16(path: Path) -> None:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onnx.save(convert_float_to_float16(onnx.load(str(path)), keep_io_types=True), str(path))


def quantize_int8(path: Path, calib: Calibration) -> dict[str, Any]:
    """Static QDQ int8 (per-channel int8 weights, uint8 activations) in place, calibrated on ``calib``.

    U8S8 is what ORT's x86 kernels (VNNI's u8 x s8 dot product) take directly, for depthwise
    convolutions too; see the module docstring for what S8S8 cost.
    """
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter([{"input": calib.images[i:i + 8]} for i in range(0, len(calib.images), 8)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._it, None)

    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(path), str(pre), skip_symbolic_shape=True)
        import onnx

        dense = [n.name for n in onnx.load(str(pre)).graph.node if n.op_type in FLOAT_OPS]
        quantize_static(str(pre), str(path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=dense)
    return {"method": "onnxruntime static quantisation, QDQ, per-channel, MinMax", "activations": "uint8", "weights": "int8",
            "kept_float": KEPT_FLOAT, "calibration_images": int(len(calib.images))}


class OnnxRuntime:
    """An ONNX artifact on ONNX Runtime's CPU provider."""

    def __init__(self, artifact: Artifact, threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(artifact.path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - ORT raises several types for unreadable models
            raise ArtifactError(f"{artifact.path}: ONNX Runtime cannot load it ({_first_line(e)}); "
                                "the file is corrupted or not ONNX, re-export it") from None
        self.manifest = artifact.manifest
        self.input_size = artifact.input_size
        self.output_names = artifact.output_names
        self._input = artifact.manifest["input"].get("name", "input")
        self._raw = [o.name for o in self.session.get_outputs()]
        first = self.session.get_inputs()[0].shape[0]
        self._static_batch = first if isinstance(first, int) else None

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        x = check_batch(batch, self.input_size)
        return run_chunked(self._run, x, self._static_batch)

    def _run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        raw = dict(zip(self._raw, self.session.run(None, {self._input: x}), strict=True))
        return {k: v.astype(np.float32, copy=False) for k, v in map_outputs(raw, self.manifest).items()}


def load(artifact: Artifact, threads: int = 1) -> OnnxRuntime:
    return OnnxRuntime(artifact, threads)


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return (lines[0] if lines else type(e).__name__)[:200]
