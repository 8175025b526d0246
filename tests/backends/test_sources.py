"""Model references and the export cache."""

from __future__ import annotations

import pytest
import torch

from zoo.backends import ArtifactError, BackendError
from zoo.backends.calibration import random_fallback
from zoo.backends.sources import export_model, resolve_model
from zoo.checkpoints.checkpoint import save_checkpoint

VARIANT = "lw-relu6-w0.5-affine-cls"


def test_variant_gets_seeded_weights() -> None:
    a, b = resolve_model(VARIANT), resolve_model(VARIANT)
    assert a.zoo_source["kind"] == "random-init" and a.zoo_source["sha256"] == b.zoo_source["sha256"]
    assert not a.training
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_checkpoint_and_errors(tmp_path) -> None:
    path = tmp_path / "m.pt"
    sha = save_checkpoint(path, resolve_model(VARIANT))
    model = resolve_model(path)
    assert model.zoo_source == {"kind": "checkpoint", "path": str(path.resolve()), "sha256": sha}
    with pytest.raises(ArtifactError, match="no such checkpoint"):
        resolve_model(tmp_path / "absent.pt")
    with pytest.raises(BackendError, match="unknown variant"):
        resolve_model("lw-relu9")


def test_export_model_reuses_identical_export(tmp_path) -> None:
    model, calib = resolve_model(VARIANT), random_fallback(96, 4)
    art, reused, _ = export_model(model, "onnx", "fp32", tmp_path, calib)
    assert not reused and art.path.parent == tmp_path / VARIANT / "onnx-fp32"
    mtime = art.path.stat().st_mtime_ns
    again, reused, _ = export_model(model, "onnx", "fp32", tmp_path, calib)
    assert reused and again.path.stat().st_mtime_ns == mtime
    _, reused, _ = export_model(model, "onnx", "fp32", tmp_path, random_fallback(96, 5))  # other calibration
    assert not reused
    _, reused, _ = export_model(model, "onnx", "fp32", tmp_path, random_fallback(96, 5), force=True)
    assert not reused
