"""TFLite through onnx2tf (offline, in a temp working dir) at fp32, fp16 and full-integer int8."""

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


def test_int8_is_full_integer(exports) -> None:
    runtime = get_backend("tflite").load(exports.get("tflite", "int8"), 1)
    assert runtime._input["dtype"] == np.int8  # int8 I/O: the runtime quantises and dequantises


def test_corrupted_file_is_artifact_error(exports, tmp_path) -> None:
    import shutil

    src = exports.get("tflite", "fp32")
    shutil.copy(src.manifest_path, tmp_path / "manifest.json")
    (tmp_path / "model.tflite").write_bytes(b"garbage" * 100)
    with pytest.raises(ArtifactError, match="LiteRT cannot load it"):
        get_backend("tflite").load(load_artifact(tmp_path), 1)
