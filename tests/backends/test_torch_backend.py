"""The torch reference backend: a checkpoint artifact that runs through the same Runtime."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.conftest import check_manifest, torch_outputs
from zoo.backends import UnsupportedError, get_backend
from zoo.backends.torch_backend import TorchRuntime


def test_export_and_run(exports, small_model, calib) -> None:
    art = exports.get("torch", "fp32")
    check_manifest(art, "torch", "fp32")
    assert art.manifest["parity"]["max_abs_error_landmarks"] <= 1e-6  # the reference against its own saved weights
    out = get_backend("torch").load(art, 1).run(calib.images[:3])
    ref = torch_outputs(small_model, calib.images[:3])
    # Same network, but the runtime pins its thread count: oneDNN may split reductions differently.
    np.testing.assert_allclose(out["landmarks"], ref["landmarks"], rtol=0, atol=1e-6)


def test_in_memory_runtime(small_model, calib) -> None:
    rt = TorchRuntime.from_model(small_model, 1)
    assert rt.input_size == 96 and rt.output_names == ("landmarks", "face_score")
    assert rt.run(calib.images[:2])["landmarks"].shape == (2, 70, 2)


def test_only_fp32(small_model, tmp_path) -> None:
    with pytest.raises(UnsupportedError, match="fp32 reference"):
        get_backend("torch").export(small_model, tmp_path, "int8", None)
