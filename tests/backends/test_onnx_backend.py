"""ONNX export at every precision: names, opset, dynamic batch, parity, manifest, bad files."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

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
