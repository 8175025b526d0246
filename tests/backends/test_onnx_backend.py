"""ONNX export at every precision: names, opset, dynamic batch, parity, manifest, bad files."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from tests.backends.conftest import check_manifest, check_parity, torch_outputs
from zoo.backends import ArtifactError, InputError, ParityError, get_backend, load_artifact
from zoo.backends import base as backend_base


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_export_load_run_parity(exports, small_model, calib, precision: str) -> None:
    art = exports.get("onnx", precision)
    check_manifest(art, "onnx", precision)
    check_parity(art, precision)
    graph = onnx.load(str(art.path)).graph
    assert [i.name for i in graph.input] == ["input"]
    assert [o.name for o in graph.output] == ["landmarks", "face_score"]
    runtime = get_backend("onnx").load(load_artifact(art.path), threads=1)
    out = runtime.run(calib.images[:5])  # dynamic batch: 5 is not the export batch
    assert out["landmarks"].shape == (5, 70, 2) and out["face_score"].shape == (5, 1)
    assert all(v.dtype == np.float32 for v in out.values())
    ref = torch_outputs(small_model, calib.images[:5])
    assert np.abs(out["landmarks"] - ref["landmarks"]).max() <= art.manifest["parity"]["max_abs_error_landmarks"] + 1e-6


def test_fp32_graph_is_opset17_simplified(exports) -> None:
    art = exports.get("onnx", "fp32")
    model = onnx.load(str(art.path))
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    dims = [d.dim_param or d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 70, 2]
    assert art.manifest["opset"] == 17 and art.manifest["dynamic_batch"] is True


def test_int8_is_qdq(exports) -> None:
    ops = {n.op_type for n in onnx.load(str(exports.get("onnx", "int8").path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert exports.get("onnx", "int8").manifest["quantization"]["calibration_images"] == 8


def test_export_is_deterministic(small_model, calib, tmp_path, exports) -> None:
    again = get_backend("onnx").export(small_model, tmp_path / "again", "fp32", calib)
    assert again.path.read_bytes() == exports.get("onnx", "fp32").path.read_bytes()


def test_wrong_input_size_is_one_line(exports) -> None:
    runtime = get_backend("onnx").load(exports.get("onnx", "fp32"), 1)
    with pytest.raises(InputError) as info:
        runtime.run(np.zeros((1, 3, 112, 112), np.float32))
    assert len(str(info.value).splitlines()) == 1


def test_corrupted_file_is_artifact_error(exports, tmp_path) -> None:
    import shutil

    src = exports.get("onnx", "fp32")
    shutil.copy(src.manifest_path, tmp_path / "manifest.json")
    (tmp_path / "model.onnx").write_bytes(src.path.read_bytes()[:1000])
    with pytest.raises(ArtifactError, match="corrupted"):
        get_backend("onnx").load(load_artifact(tmp_path), 1)


def test_drift_fails_unless_allowed(small_model, calib, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(backend_base.PARITY_LIMITS, "fp32", 1e-12)  # any rounding now counts as drift
    with pytest.raises(ParityError, match="max abs error") as info:
        get_backend("onnx").export(small_model, tmp_path / "strict", "fp32", calib)
    assert info.value.parity["passed"] is False
    with pytest.raises(ArtifactError, match="failed its parity check"):
        load_artifact(tmp_path / "strict")
    art = get_backend("onnx").export(small_model, tmp_path / "loose", "fp32", calib, allow_drift=True)
    assert art.manifest["drift"] and art.manifest["allow_drift"] and not art.manifest["rejected"]
    assert load_artifact(tmp_path / "loose").manifest["drift"]


# --- what ONNX Runtime actually runs: the graph after its own optimiser ----------------------------------

def _ort_optimised_ops(path, tmp_path) -> list[str]:
    """Op types of the graph ORT runs (level ALL, as the runtime uses), saved by ORT itself."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.optimized_model_filepath = str(tmp_path / "ort-optimised.onnx")
    ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return [n.op_type for n in onnx.load(opts.optimized_model_filepath).graph.node]


def test_prelu_is_rewritten_for_onnxruntime_with_the_same_numbers(exports, small_model, calib) -> None:
    """The LW stem's one-slope PReLU is a LeakyRelu in the ORT graph, and the face-score head's
    channel-multiplier convolutions a 1x1 repeat + depthwise; outputs still the torch model's to fp32 rounding."""
    assert any(isinstance(m, torch.nn.PReLU) for m in small_model.modules())
    art = exports.get("onnx", "fp32")
    graph = onnx.load(str(art.path)).graph
    ops = [n.op_type for n in graph.node]
    assert "PRelu" not in ops and ops.count("LeakyRelu") == 1
    weights = {t.name: list(t.dims) for t in graph.initializer}
    groups = [(a.i, weights[n.input[1]][0]) for n in graph.node if n.op_type == "Conv" for a in n.attribute if a.name == "group"]
    grouped = [(g, c_out) for g, c_out in groups if g > 1]
    assert grouped and all(g == c_out for g, c_out in grouped), grouped  # every grouped conv is a plain depthwise one
    assert art.manifest["rewrites"] == [
        "PRelu with one slope -> LeakyRelu (1)",
        "depthwise Conv with channel multiplier -> 1x1 repeat Conv + depthwise Conv (2)"]
    assert art.manifest["parity"]["max_abs_error_landmarks"] <= 1e-5
    assert art.manifest["parity"]["max_abs_error"]["face_score"] <= 1e-5


def test_other_converters_get_the_plain_prelu(small_model, tmp_path) -> None:
    from zoo.backends.onnx_backend import to_onnx

    facts = to_onnx(small_model, tmp_path / "plain.onnx")
    assert "PRelu" in {n.op_type for n in onnx.load(str(tmp_path / "plain.onnx")).graph.node}
    assert "rewrites" not in facts


def test_int8_runs_every_convolution_in_integer_kernels(exports, tmp_path) -> None:
    """U8S8 QDQ: ORT fuses every Conv (depthwise included) into QLinearConv; no float conv or PRelu left.

    With signed activations (S8S8) ORT's x86 provider left all 8 depthwise convolutions of this model
    in float between DequantizeLinear/QuantizeLinear pairs, and int8 ran at about half fp32's speed.
    """
    art = exports.get("onnx", "int8")
    ops = _ort_optimised_ops(art.path, tmp_path)
    convs = [o for o in ops if "Conv" in o]
    assert convs and set(convs) == {"QLinearConv"}, sorted(set(convs))
    assert "PRelu" not in ops and "LeakyRelu" not in ops and "QLinearLeakyRelu" in ops
    assert ops.count("DequantizeLinear") <= 6  # only around the float head (Gemm) and the graph outputs
    assert art.manifest["quantization"]["activations"] == "uint8"


def test_int8_runs_silu_in_integer_kernels(calib, tmp_path) -> None:
    """LWCSP's SiLU (Sigmoid * x) runs as QLinearSigmoid + QLinearMul between QLinearConvs: nothing of the
    trunk or heads stays float but the dense head layers (kept float on purpose, FLOAT_OPS)."""
    from zoo.architectures import create_model

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = create_model("lwcsp-silu-w0.5").eval()
    art = get_backend("onnx").export(model, tmp_path / "int8", "int8", calib, allow_drift=True)
    ops = _ort_optimised_ops(art.path, tmp_path)
    assert {o for o in ops if "Conv" in o} == {"QLinearConv"}
    assert "Sigmoid" not in ops and "Mul" not in ops and "QuickGelu" not in ops
    assert ops.count("QLinearSigmoid") == ops.count("QLinearMul") == ops.count("QLinearConv")
    assert ops.count("DequantizeLinear") <= 2


def test_cached_export_of_an_older_recipe_is_redone(small_model, calib, tmp_path) -> None:
    import json

    from zoo.backends.sources import export_model

    first, reused, _ = export_model(small_model, "onnx", "fp32", tmp_path, calib)
    assert not reused and first.manifest["recipe"] == get_backend("onnx").RECIPE
    assert export_model(small_model, "onnx", "fp32", tmp_path, calib)[1]  # same recipe: reused
    manifest = json.loads(first.manifest_path.read_text())
    manifest["recipe"] = get_backend("onnx").RECIPE - 1
    first.manifest_path.write_text(json.dumps(manifest))
    assert not export_model(small_model, "onnx", "fp32", tmp_path, calib)[1]


def test_bench_cache_of_an_older_recipe_is_redone(tmp_path, monkeypatch) -> None:
    """``zoo bench`` / ``zoo eval`` keep their own export cache: a bumped RECIPE must redo its exports too."""
    import json

    from bench import artifacts

    monkeypatch.setattr(artifacts, "cache_root", lambda: tmp_path)
    source = artifacts.from_variant("lw-relu6-w0.5-affine-cls")
    first = artifacts.ensure_artifact(source, "onnx", "fp32")
    assert artifacts.ensure_artifact(source, "onnx", "fp32").manifest == first.manifest  # same recipe: reused
    manifest = json.loads(first.manifest_path.read_text())
    manifest["recipe"] = get_backend("onnx").RECIPE - 1
    first.manifest_path.write_text(json.dumps(manifest))
    again = artifacts.ensure_artifact(source, "onnx", "fp32")
    assert again.manifest["recipe"] == get_backend("onnx").RECIPE
