"""CoreML converts on Linux: check the package's spec; prediction (and parity) only on macOS."""

from __future__ import annotations

import platform

import pytest

from tests.backends.conftest import check_manifest
from zoo.backends import UnsupportedError, get_backend

pytest.importorskip("coremltools")
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_spec_names_and_shapes(exports, precision: str) -> None:
    from zoo.backends.coreml_backend import describe

    art = exports.get("coreml", precision)
    check_manifest(art, "coreml", precision)
    spec = describe(art.path)
    assert spec["type"] == "mlProgram"
    assert spec["inputs"] == {"input": [1, 3, 96, 96]}
    assert spec["outputs"] == {"landmarks": [1, 70, 2], "face_score": [1, 1]}
    assert art.manifest["structure"]["outputs"] == spec["outputs"]
    if platform.system() != "Darwin":
        assert art.manifest["parity"] == {"measured": False, "note": "not measurable on this OS", "passed": None}
    else:
        assert art.manifest["parity"]["measured"]


@pytest.mark.skipif(platform.system() == "Darwin", reason="CoreML predicts on macOS")
def test_load_off_macos_says_so(exports) -> None:
    with pytest.raises(UnsupportedError, match="only on macOS"):
        get_backend("coreml").load(exports.get("coreml", "fp32"), 1)
