"""TFLite: converted from the ONNX export with onnx2tf, run with ai-edge-litert (XNNPACK).

onnx2tf runs as a subprocess in a temporary working directory, for three reasons: it looks for
``calibration_image_sample_data_20x128x128x3_float32.npy`` in the working directory and downloads
one when absent (we write our own, from the calibration crops: no network), it shells out to
``onnxsim`` from PATH (we prepend this interpreter's bin folder, and simplify beforehand anyway),
and TensorFlow's memory and threads go away with the process.

The model is NHWC with a batch of 1 baked in; the Runtime takes NCHW like every other backend,
transposes, and runs larger batches item by item. int8 is onnx2tf's integer model (int8 weights
and activations, per-channel, calibrated on the calibration crops) with float32 input and outputs:
its first op is a QUANTIZE and its last ones DEQUANTIZE, which XNNPACK runs inside the same
partition. (Artifacts of recipe 1 had int8 I/O; the Runtime still quantises and dequantises those
with the tensors' own scales.)

What makes int8 pay here, measured (docs/export.md, "int8 speed, by runtime"): every op of the
graph has to be one XNNPACK takes in int8, or the graph is cut into partitions around a reference
kernel. LW's stem is a PReLU with one shared slope; TFLite's int8 ``PRELU`` is not delegated by
XNNPACK (LiteRT 2.3), so the ``PRELU`` ran in TFLite's reference kernel between two partitions and
int8 was slower than fp32. A one-slope PReLU is exactly a leaky ReLU, and ``LEAKY_RELU`` is
delegated in int8: the export writes it so (``graph_rewrites.prelu_to_leaky_relu``), for every
precision. For the same reason of int8 (parity this time), a head over a concatenation of max-pooled
levels reads each level through its own layer (``graph_rewrites.split_pooled_concat_gemm``).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .base import Artifact, ArtifactError, BackendError, InputError, UnsupportedError, check_batch, require, run_chunked
from .calibration import Calibration, as_calibration
from .exporting import finish_export

NAME = "tflite"
EXTRA = "tflite"
FILE = "model.tflite"
ONNX2TF_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"
PRODUCTS = {"fp32": "model_float32.tflite", "fp16": "model_float16.tflite", "int8": "model_integer_quant.tflite"}
TIMEOUT_S = 1200
#: Bumped when this backend's export changes what an artifact computes or how fast it runs, so
#: cached exports made by an older recipe are redone. 2: one-slope PRelu -> LeakyRelu (one XNNPACK
#: partition in int8), int8 with float32 I/O (QUANTIZE/DEQUANTIZE in the graph). 3: a head reading a
#: concatenation of max-pooled levels reads each level through its own FULLY_CONNECTED (LWCSP int8 parity).
RECIPE = 3


def export(model: Any, out_dir: Path, precision: str = "fp32", calib: Any = None, *, allow_drift: bool = False) -> Artifact:
    """ONNX -> onnx2tf -> ``out_dir/model.tflite`` (NHWC, batch 1) at ``precision``, with a manifest."""
    from . import ensure_available, onnx_backend

    ensure_available(NAME)  # onnx2tf itself runs in a subprocess: importing it here would cost 7 s of TensorFlow
    if precision not in PRODUCTS:
        raise UnsupportedError(f"the tflite backend exports fp32, fp16 or int8, not {precision!r}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    cal = as_calibration(calib, model.spec.input_size)
    with tempfile.TemporaryDirectory(prefix="zoo-onnx-") as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        onnx_facts = onnx_backend.to_onnx(model, onnx_path, dynamic_batch=False)
        rewrites, splits = rewrite_onnx(onnx_path)
        products = convert(onnx_path, cal, int8=precision == "int8", simplified=onnx_facts["simplified"])
    product = products / PRODUCTS[precision]
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(product, out_dir / FILE)
    facts: dict[str, Any] = {"converted_from": f"onnx opset {onnx_facts['opset']} via onnx2tf", "onnx2tf_product": product.name,
                             "recipe": RECIPE}
    done = [(rewrites, "PRelu with one slope -> LeakyRelu"),
            (splits, "Gemm over a Concat of max-pooled levels -> one Gemm per level, summed")]
    if any(n for n, _ in done):
        facts["rewrites"] = [f"{what} ({n})" for n, what in done if n]
    if precision == "int8":
        facts["quantization"] = {"method": "onnx2tf integer quantisation (TFLite converter, representative dataset)",
                                 "activations": "int8", "weights": "int8 per-channel",
                                 "io": "float32 (QUANTIZE/DEQUANTIZE ops in the graph)",
                                 "calibration_images": int(len(cal.images))}
    return finish_export(model, out_dir, NAME, precision, cal, FILE, load, facts, allow_drift, started, layout="NHWC",
                         batch=1, toolchain=("onnx2tf", "tensorflow", "tf_keras", "ai-edge-litert", "onnxsim"))


def rewrite_onnx(path: Path) -> tuple[int, int]:
    """The TFLite export's ONNX rewrites on a file, in place; returns how many nodes each rewrote.

    ``graph_rewrites.prelu_to_leaky_relu``: onnx2tf turns both into TFLite builtins, but XNNPACK delegates
    only ``LEAKY_RELU`` in int8. ``graph_rewrites.split_pooled_concat_gemm``: TFLite int8 would otherwise give
    every max-pooled pyramid level the concatenation's scale, clipping what the next level reads.
    """
    import onnx

    from .graph_rewrites import prelu_to_leaky_relu, split_pooled_concat_gemm

    model = onnx.load(str(path))
    counts = prelu_to_leaky_relu(model), split_pooled_concat_gemm(model)
    if any(counts):
        onnx.save(model, str(path))
    return counts


#: onnx2tf output folders of this process, by (ONNX bytes, calibration) digest: one conversion writes
#: float32 and float16 (and the int8 models when asked), so fp32 then fp16 converts only once.
_CONVERTED: dict[str, Path] = {}


def convert(onnx_path: Path, calib: Calibration, int8: bool, simplified: bool) -> Path:
    """The onnx2tf output folder for this ONNX file, converting only when no earlier run has the products."""
    h = hashlib.sha256(onnx_path.read_bytes())
    h.update(calib.images.tobytes())
    key = h.hexdigest()
    folder = _CONVERTED.get(key)
    need = PRODUCTS["int8" if int8 else "fp32"]
    if folder is not None and (folder / need).is_file():
        return folder
    work = Path(tempfile.mkdtemp(prefix="zoo-onnx2tf-"))
    atexit.register(shutil.rmtree, work, True)
    shutil.copyfile(onnx_path, work / "model.onnx")
    log = run_onnx2tf(work, calib, int8, simplified)
    if not (work / "out" / need).is_file():
        raise BackendError(f"onnx2tf did not write {need}: {log}")
    _CONVERTED[key] = work / "out"
    return work / "out"


def run_onnx2tf(work: Path, calib: Calibration, int8: bool, simplified: bool) -> str:
    """Run onnx2tf offline in ``work`` (which holds model.onnx); returns the tail of its log."""
    _write_sample(work / ONNX2TF_SAMPLE, calib)
    cmd = [sys.executable, "-m", "onnx2tf", "-i", "model.onnx", "-o", "out", "-b", "1", "-osd", "-v", "error"]
    if simplified:
        cmd.append("-nuo")  # already simplified by onnxsim; saves onnx2tf's own three passes
    if int8:
        np.save(work / "calib_nhwc.npy", calib.nhwc())
        cmd += ["-oiqt", "-qt", "per-channel", "-cind", "input", "calib_nhwc.npy", "[[[[0.0,0.0,0.0]]]]", "[[[[1.0,1.0,1.0]]]]"]
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("CUDA_VISIBLE_DEVICES", "")
    try:
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise BackendError(f"onnx2tf took longer than {TIMEOUT_S} s and was stopped") from None
    lines = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    tail = " | ".join(lines[-3:])[:400]
    if proc.returncode != 0:
        raise BackendError(f"onnx2tf failed (exit {proc.returncode}): {tail}")
    return tail


def _write_sample(path: Path, calib: Calibration) -> None:
    """onnx2tf's sample file (20x128x128x3, RGB in [0, 1]) made from our own crops."""
    import cv2

    crops = (calib.nhwc() + 1.0) / 2.0
    idx = np.arange(20) % len(crops)
    sample = np.stack([cv2.resize(crops[i], (128, 128), interpolation=cv2.INTER_LINEAR) for i in idx]).astype(np.float32)
    np.save(path, np.clip(sample, 0.0, 1.0))


class TfliteRuntime:
    """A .tflite model on ai-edge-litert; NCHW in, named float32 outputs out."""

    def __init__(self, artifact: Artifact, threads: int = 1) -> None:
        litert = require("ai_edge_litert.interpreter", EXTRA, NAME)
        try:
            self.interpreter = litert.Interpreter(model_path=str(artifact.path), num_threads=max(1, int(threads)))
            self.interpreter.allocate_tensors()
        except Exception as e:  # noqa: BLE001 - the interpreter raises ValueError/RuntimeError on bad flatbuffers
            raise ArtifactError(f"{artifact.path}: LiteRT cannot load it ({str(e).strip().splitlines()[0][:160]}); "
                                "the file is corrupted or not TFLite, re-export it") from None
        self.manifest = artifact.manifest
        self.input_size = artifact.input_size
        self.output_names = artifact.output_names
        self._input = self.interpreter.get_input_details()[0]
        self._outputs = self._match_outputs()
        self._batch = int(self._input["shape"][0])

    def _match_outputs(self) -> dict[str, dict[str, Any]]:
        """onnx2tf drops output names (``Identity``, ``PartitionedCall:1``); the contract's outputs have
        distinct per-item shapes ([K,2], [1], [3]), so match on those."""
        details = self.interpreter.get_output_details()
        found: dict[str, dict[str, Any]] = {}
        for name, desc in self.manifest["outputs"].items():
            want = list(desc["shape"][1:])
            hits = [d for d in details if list(d["shape"][1:]) == want]
            if len(hits) != 1:
                raise ArtifactError(f"{self.manifest.get('file')}: cannot tell which TFLite output is {name!r} "
                                    f"(shapes {[list(d['shape']) for d in details]}); re-export it")
            found[name] = hits[0]
        return found

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        x = check_batch(batch, self.input_size).transpose(0, 2, 3, 1)
        # Resizing the batch dimension breaks XNNPACK's prepare on onnx2tf's graphs: run item by item.
        return run_chunked(self._run, x, self._batch)

    def _run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        it = self.interpreter
        it.set_tensor(self._input["index"], _quantize(np.ascontiguousarray(x), self._input))
        it.invoke()
        return {name: _dequantize(it.get_tensor(d["index"]), d) for name, d in self._outputs.items()}


def _quantize(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    dtype = detail["dtype"]
    if dtype == np.float32:
        return np.ascontiguousarray(x)
    if not np.issubdtype(dtype, np.integer):
        raise InputError(f"unsupported TFLite input type {dtype}")
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)


def _dequantize(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    if y.dtype == np.float32:
        return y.copy()
    scale, zero = detail["quantization"]
    return ((y.astype(np.float32) - zero) * scale).astype(np.float32)


def load(artifact: Artifact, threads: int = 1) -> TfliteRuntime:
    return TfliteRuntime(artifact, threads)
