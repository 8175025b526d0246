"""``zoo export``: the table, the cache, --allow-drift, --from-onnx, and one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.backends.conftest import VARIANT, one_line_error
from zoo.backends import base as backend_base


def _cli(*args: str):
    from zoo.cli import app

    return CliRunner().invoke(app, ["export", *args])


def test_export_then_cached(tmp_path: Path) -> None:
    res = _cli(VARIANT, "--format", "onnx,torch", "--precision", "fp32", "--out", str(tmp_path), "--calib-count", "4")
    assert res.exit_code == 0, res.output
    assert "exported" in res.output and "random-init" in res.output
    manifest = json.loads((tmp_path / VARIANT / "onnx-fp32" / "manifest.json").read_text())
    assert manifest["parity"]["passed"] and manifest["calibration"]["images"] == 4
    again = _cli(VARIANT, "--format", "onnx", "--out", str(tmp_path), "--calib-count", "4")
    assert again.exit_code == 0 and "cached" in again.output, again.output


def test_drift_exits_nonzero_with_numbers(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(backend_base.PARITY_LIMITS, "fp16", 1e-9)
    res = _cli(VARIANT, "-f", "onnx", "-p", "fp16", "-o", str(tmp_path), "--calib-count", "4")
    one_line_error(res, "max abs error landmarks")
    assert "--allow-drift" in res.output
    ok = _cli(VARIANT, "-f", "onnx", "-p", "fp16", "-o", str(tmp_path), "--calib-count", "4", "--allow-drift")
    assert ok.exit_code == 0 and "drift allowed" in ok.output, ok.output
    manifest = json.loads((tmp_path / VARIANT / "onnx-fp16" / "manifest.json").read_text())
    assert manifest["drift"] and manifest["allow_drift"]


@pytest.mark.parametrize("backend,module,extra", [("openvino", "openvino", "openvino"), ("tflite", "onnx2tf", "tflite"),
                                                  ("coreml", "coremltools", "coreml")])
def test_missing_extra_is_one_line(tmp_path: Path, monkeypatch, backend: str, module: str, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    one_line_error(_cli(VARIANT, "-f", backend, "-o", str(tmp_path)), f"pip install 'zoo[{extra}]'")


def test_bad_arguments(tmp_path: Path) -> None:
    one_line_error(_cli(VARIANT, "-f", "tensorrt"), "unknown format")
    one_line_error(_cli(VARIANT, "-p", "int4"), "unknown precision")
    one_line_error(_cli("lw-relu6-afine-cls", "-o", str(tmp_path)), "did you mean")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 truncated")
    one_line_error(_cli(str(bad), "-o", str(tmp_path)), "not a zoo checkpoint")


def test_from_onnx_wrong_input_size(tmp_path: Path) -> None:
    import torch

    odd = tmp_path / "odd.onnx"
    torch.onnx.export(torch.nn.Conv2d(3, 4, 3).eval(), (torch.zeros(1, 3, 64, 80),), str(odd), input_names=["input"],
                      output_names=["output"], dynamo=False)
    one_line_error(_cli("--from-onnx", str(odd), "--outputs", "fdfat70", "-o", str(tmp_path)), "wrong input size")


def test_from_onnx_fdfat(fdfat_dir: Path, tmp_path: Path) -> None:
    file = fdfat_dir / "LWModel_ReLU6_affine_cls" / "model.onnx"
    if not file.is_file():
        pytest.skip(f"{file} is absent")
    res = _cli("--from-onnx", str(file), "--outputs", "fdfat70", "-o", str(tmp_path), "--name", "fdfat-lw")
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "fdfat-lw" / "onnx-fp32" / "manifest.json").read_text())
    assert manifest["file"] == str(file.resolve()) and list(manifest["outputs"]) == ["landmarks", "face_score"]
    assert manifest["output_mapping"]["output"][0]["stop"] == 140
