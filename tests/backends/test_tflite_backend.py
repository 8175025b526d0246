"""TFLite through onnx2tf (offline, in a temp working dir) at fp32, fp16 and int8 (integer inside, float I/O)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.conftest import check_manifest, check_parity
from zoo.backends import ArtifactError, get_backend, load_artifact

pytest.importorskip("onnx2tf")
pytest.importorskip("ai_edge_litert")
pytestmark = pytest.mark.slow  # each conversion runs TensorFlow for 20-50 s


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_export_load_run_parity(exports, calib, precision: str) -> None:
    art = exports.get("tflite", precision)
    check_manifest(art, "tflite", precision, layout="NHWC")
    check_parity(art, precision)
    assert art.manifest["input"]["shape"] == [1, 96, 96, 3]
    runtime = get_backend("tflite").load(load_artifact(art.path), threads=1)
    out = runtime.run(calib.images[:2])  # NCHW in, like every backend
    assert out["landmarks"].shape == (2, 70, 2) and out["face_score"].shape == (2, 1)
    assert out["landmarks"].dtype == np.float32


# --- what the int8 graph is: structure only, no timing (docs/export.md, "int8 speed, by runtime") --------------

def _ops(path) -> tuple[list[dict], dict[int, dict]]:
    """The model's ops as LiteRT prepared them (with XNNPACK applied), and its tensors by index."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path), num_threads=1)
    it.allocate_tensors()
    return it._get_ops_details(), {t["index"]: t for t in it.get_tensor_details()}


def test_int8_computes_in_int8_with_float_io(exports) -> None:
    """Every convolution and dense layer takes int8 activations; float32 only at the QUANTIZE/DEQUANTIZE ends."""
    art = exports.get("tflite", "int8")
    ops, tensors = _ops(art.path)
    compute = [o for o in ops if o["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")]
    assert len(compute) >= 20
    assert {tensors[o["inputs"][0]]["dtype"] for o in compute} == {np.int8}
    assert {tensors[o["inputs"][1]]["dtype"] for o in compute} == {np.int8}  # weights
    floats = [o["op_name"] for o in ops if o["op_name"] != "DELEGATE"
              and any(tensors[i]["dtype"] == np.float32 for i in o["outputs"])]
    assert floats == ["DEQUANTIZE"] * len(art.manifest["outputs"]), floats  # only the graph outputs
    assert ops[0]["op_name"] == "QUANTIZE"
    runtime = get_backend("tflite").load(art, 1)
    assert runtime._input["dtype"] == np.float32  # float I/O: the graph quantises, XNNPACK runs it
    assert art.manifest["quantization"]["io"].startswith("float32")


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_one_xnnpack_partition(exports, precision: str) -> None:
    """XNNPACK takes the whole graph as one partition. Before export recipe 2 the LW stem's int8 PRELU,
    which XNNPACK does not delegate, ran in TFLite's reference kernel between two partitions and int8 was
    slower than fp32; the one-slope PReLU is now exported as the LEAKY_RELU it equals."""
    art = exports.get("tflite", precision)
    ops, _ = _ops(art.path)
    names = [o["op_name"] for o in ops]
    assert names.count("DELEGATE") == 1, names
    assert "PRELU" not in names and "LEAKY_RELU" in names
    assert art.manifest["recipe"] == get_backend("tflite").RECIPE
    assert art.manifest["rewrites"] == ["PRelu with one slope -> LeakyRelu (1)"]


def test_a_head_over_max_pooled_levels_gets_one_dense_layer_per_level(calib, tmp_path) -> None:
    """LWCSP max-pools its three pyramid levels into the head. TFLite int8 keeps one scale through MAX_POOL_2D
    and CONCATENATION, so a concatenation there gave every level's output the pooled maxima's range and
    clipped what the next level reads (+9.7 NME on the calibration crops). The export splits the head's
    first layer per level, and no CONCATENATION feeds a FULLY_CONNECTED."""
    import torch

    from zoo.architectures import create_model

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = create_model("lwcsp-silu-w0.5").eval()
    art = get_backend("tflite").export(model, tmp_path / "lwcsp", "int8", calib, allow_drift=True)
    assert "Gemm over a Concat of max-pooled levels -> one Gemm per level, summed (1)" in art.manifest["rewrites"]
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(art.path))
    ops = it._get_ops_details()
    made_by = {o["outputs"][0]: o["op_name"] for o in ops}
    dense = [o for o in ops if o["op_name"] == "FULLY_CONNECTED"]
    assert len(dense) == 3 and not any(made_by.get(o["inputs"][0]) == "CONCATENATION" for o in dense)


def test_corrupted_file_is_artifact_error(exports, tmp_path) -> None:
    import shutil

    src = exports.get("tflite", "fp32")
    shutil.copy(src.manifest_path, tmp_path / "manifest.json")
    (tmp_path / "model.tflite").write_bytes(b"garbage" * 100)
    with pytest.raises(ArtifactError, match="LiteRT cannot load it"):
        get_backend("tflite").load(load_artifact(tmp_path), 1)
