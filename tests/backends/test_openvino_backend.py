"""OpenVINO IR at fp32, fp16 (compressed) and int8 (NNCF), always run at f32 inference precision."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.conftest import check_manifest, check_parity
from zoo.backends import ArtifactError, get_backend, load_artifact

pytest.importorskip("openvino")
pytest.importorskip("nncf")


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_export_load_run_parity(exports, calib, precision: str) -> None:
    art = exports.get("openvino", precision)
    check_manifest(art, "openvino", precision)
    check_parity(art, precision)
    assert art.manifest["inference_precision_hint"] == "f32"
    assert art.path.suffix == ".xml" and art.path.with_suffix(".bin").is_file()
    runtime = get_backend("openvino").load(load_artifact(art.path), threads=1)
    assert runtime.precision.lower() in ("f32", "<type: 'float32'>")  # never the CPU's silent bf16
    out = runtime.run(calib.images[:3])
    assert out["landmarks"].shape == (3, 70, 2) and out["face_score"].dtype == np.float32


def test_int8_weights_are_quantised(exports) -> None:
    xml = exports.get("openvino", "int8").path.read_text()
    assert "FakeQuantize" in xml or "i8" in xml
    assert exports.get("openvino", "int8").manifest["quantization"]["method"].startswith("NNCF")


def test_missing_bin_is_artifact_error(exports, tmp_path) -> None:
    import shutil

    src = exports.get("openvino", "fp32")
    shutil.copy(src.manifest_path, tmp_path / "manifest.json")
    shutil.copy(src.path, tmp_path / "model.xml")
    (tmp_path / "model.bin").write_bytes(b"\0" * 10)
    with pytest.raises(ArtifactError, match="OpenVINO cannot load it"):
        get_backend("openvino").load(load_artifact(tmp_path), 1)
