"""The backend table, the manifest reader and the runtime-side checks every backend shares."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from zoo.backends import (
    BACKENDS,
    ArtifactError,
    BackendError,
    InputError,
    MissingExtraError,
    available,
    ensure_available,
    get_backend,
    list_backends,
    load_artifact,
)
from zoo.backends.base import INT8_NME_LIMIT, check_batch, map_outputs, measure_parity, nme_percent, parity_summary, run_chunked


def test_table_names_every_backend_module() -> None:
    assert list_backends() == ["torch", "onnx", "openvino", "tflite", "coreml"]
    for name in ("torch", "onnx"):
        mod = get_backend(name)
        assert callable(mod.export) and callable(mod.load)
    assert set(list_backends(installed_only=True)) >= {"torch", "onnx"}
    with pytest.raises(BackendError, match="unknown backend"):
        get_backend("tensorrt")


@pytest.mark.parametrize("backend,module", [("openvino", "openvino"), ("tflite", "onnx2tf"), ("coreml", "coremltools")])
def test_missing_extra_names_pip_extra(monkeypatch, backend: str, module: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if the extra were not installed
    assert not available(backend)
    with pytest.raises(MissingExtraError) as info:
        ensure_available(backend)
    assert f"pip install 'zoo[{BACKENDS[backend].extra}]'" in str(info.value)
    assert len(str(info.value).splitlines()) == 1


def test_require_raises_missing_extra(monkeypatch) -> None:
    from zoo.backends.base import require

    monkeypatch.setitem(sys.modules, "openvino", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'zoo\[openvino\]'"):
        require("openvino", "openvino", "openvino")


def test_check_batch_rejects_wrong_input_size() -> None:
    assert check_batch(np.zeros((2, 3, 96, 96), np.float64), 96).dtype == np.float32
    assert check_batch(np.zeros((3, 96, 96), np.float32), 96).shape == (1, 3, 96, 96)
    for bad in (np.zeros((1, 3, 112, 112)), np.zeros((1, 96, 96, 3)), np.zeros((96, 96))):
        with pytest.raises(InputError, match=r"\[N,3,96,96\]"):
            check_batch(bad, 96)


def test_run_chunked_splits_static_batches() -> None:
    seen = []

    def run(x):
        seen.append(x.shape[0])
        return {"y": x[:, 0, 0, :1] * 2}

    out = run_chunked(run, np.arange(3 * 3 * 2 * 2, dtype=np.float32).reshape(3, 3, 2, 2), 1)
    assert seen == [1, 1, 1] and out["y"].shape == (3, 1)


def test_map_outputs_slices_fdfat_layout() -> None:
    from zoo.backends.foreign import OUTPUT_PRESETS

    p = OUTPUT_PRESETS["fdfat70"]
    flat = np.arange(2 * 141, dtype=np.float32).reshape(2, 141)
    manifest = {"outputs": {"landmarks": {}, "face_score": {}}, "output_mapping": {"output": p["parts"]}}
    out = map_outputs({"output": flat}, manifest)
    assert out["landmarks"].shape == (2, 70, 2) and out["face_score"].shape == (2, 1)
    assert out["landmarks"][1, 3].tolist() == [141 + 6, 141 + 7]  # interleaved x, y
    assert out["face_score"][1, 0] == 141 + 140


def test_parity_numbers() -> None:
    rng = np.random.default_rng(0)
    truth = rng.uniform(-0.4, 0.4, (4, 70, 2))
    ref = {"landmarks": truth + 0.01, "face_score": np.full((4, 1), 0.5)}
    got = {"landmarks": truth + 0.01 + 5e-5, "face_score": np.full((4, 1), 0.5)}
    p = measure_parity(ref, got, "fp32", 96, truth)
    assert p["passed"] and p["max_abs_error_landmarks"] == pytest.approx(5e-5)
    assert p["max_abs_error_px"] == pytest.approx(5e-5 * 96)
    assert p["nme_difference"] == pytest.approx(p["nme_backend"] - p["nme_torch"])
    assert not measure_parity(ref, {**got, "landmarks": truth + 0.02}, "fp32", 96)["passed"]
    assert measure_parity(ref, {**got, "landmarks": truth + 0.02}, "int8", 96)["passed"]  # int8 has no max-error limit
    # ... but a quantisation that wrecks the landmarks fails on NME, labelled or not
    wrecked = {**got, "landmarks": truth + rng.normal(0, 0.05, truth.shape)}
    bad = measure_parity(ref, wrecked, "int8", 96, truth)
    assert bad["nme_difference"] > INT8_NME_LIMIT and not bad["passed"] and bad["nme_limit"] == INT8_NME_LIMIT
    assert "(limit 3)" in parity_summary(bad)
    assert not measure_parity(ref, wrecked, "int8", 96)["passed"]  # no truth: judged against torch's landmarks
    mild = {**got, "landmarks": truth + 0.01 + rng.normal(0, 0.002, truth.shape)}
    assert measure_parity(ref, mild, "int8", 96, truth)["passed"]
    assert nme_percent(truth, truth) == 0.0


def test_load_artifact_errors(tmp_path) -> None:
    with pytest.raises(ArtifactError, match="no such artifact"):
        load_artifact(tmp_path / "model.onnx")
    (tmp_path / "model.onnx").write_bytes(b"x")
    with pytest.raises(ArtifactError, match="no artifact manifest"):
        load_artifact(tmp_path / "model.onnx")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not readable JSON"):
        load_artifact(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ArtifactError, match="not a zoo artifact manifest"):
        load_artifact(tmp_path / "manifest.json")
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "zoo-artifact/1", "file": "gone.onnx"}))
    with pytest.raises(ArtifactError, match="missing"):
        load_artifact(tmp_path)
