"""An adapted checkpoint exports like any other: ONNX carries the map, with parity measured (fp32 <= 1e-4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from zoo.architectures import create_model
from zoo.architectures.adapter import AdaptedNet, LandmarkMap
from zoo.backends.calibration import random_fallback
from zoo.checkpoints.checkpoint import load_checkpoint, save_checkpoint


def adapted_checkpoint(path: Path, k: int, kind: str) -> Path:
    with torch.random.fork_rng():
        torch.manual_seed(k)
        base = create_model("lw-relu6-affine-cls").eval()
        lm = LandmarkMap(70, k, kind, hidden=16 if kind == "mlp" else 0)
        with torch.no_grad():
            for p in lm.parameters():
                p.mul_(0.1)
    save_checkpoint(path, AdaptedNet(base, lm.eval(), {"convention": f"{k} points (test)"}))
    return path


@pytest.mark.parametrize(("k", "kind"), [(5, "ridge"), (98, "mlp")])
def test_onnx_export_of_an_adapted_checkpoint(tmp_path: Path, k: int, kind: str) -> None:
    pytest.importorskip("onnxruntime")
    from zoo.backends import get_backend
    from zoo.backends.base import PARITY_LIMITS
    from zoo.backends.sources import export_model, resolve_model

    ckpt = adapted_checkpoint(tmp_path / "adapted.pt", k, kind)
    net = resolve_model(ckpt)
    assert net.spec.num_points == k
    calib = random_fallback(96, 4)
    art, reused, _ = export_model(net, "onnx", "fp32", tmp_path / "exports", calib)
    assert not reused
    assert art.manifest["outputs"]["landmarks"]["shape"] == [-1, k, 2]
    assert art.manifest["outputs"]["source_landmarks"]["shape"] == [-1, 70, 2]  # the network's own points stay
    parity = art.manifest["parity"]
    assert parity["passed"] and parity["max_abs_error_landmarks"] <= PARITY_LIMITS["fp32"]
    x = np.random.default_rng(0).uniform(-1, 1, (3, 3, 96, 96)).astype(np.float32)
    got = get_backend("onnx").load(art, 1).run(x)
    with torch.no_grad():
        want = load_checkpoint(ckpt).build()(torch.from_numpy(x))
    assert got["landmarks"].shape == (3, k, 2)
    np.testing.assert_allclose(got["landmarks"], want["landmarks"].numpy(), atol=1e-4)
    np.testing.assert_allclose(got["face_score"], want["face_score"].numpy(), atol=1e-4)
    np.testing.assert_allclose(got["source_landmarks"], want["source_landmarks"].numpy(), atol=1e-4)


def test_torch_artifact_of_an_adapted_net_keeps_its_map(tmp_path: Path) -> None:
    """The torch backend re-saves the net as a checkpoint: the map must survive that round trip."""
    from zoo.backends.sources import export_model, resolve_model

    net = resolve_model(adapted_checkpoint(tmp_path / "a.pt", 5, "ridge"))
    art, _, _ = export_model(net, "torch", "fp32", tmp_path / "exports", random_fallback(96, 2))
    again = load_checkpoint(art.path)
    assert again.adapter is not None and again.build().spec.num_points == 5


def test_a_map_that_does_not_fit_the_network_is_one_line(tmp_path: Path) -> None:
    from zoo.checkpoints.checkpoint import CheckpointError

    path = adapted_checkpoint(tmp_path / "a.pt", 5, "ridge")
    data = torch.load(path, weights_only=True)
    data["adapter"]["source_points"] = 68
    torch.save(data, path)
    with pytest.raises(CheckpointError, match="adapter maps 68 points but the network predicts 70"):
        load_checkpoint(path).build()


def test_an_adapted_checkpoint_never_ships(tmp_path: Path) -> None:
    """Shipped weights stay render-only: a map fit on labelled photos is refused, not silently dropped."""
    from zoo.weights.ship import ShipError, ship

    path = adapted_checkpoint(tmp_path / "a.pt", 5, "ridge")
    with pytest.raises(ShipError, match="is adapted .zoo adapt"):
        ship(path, tmp_path / "weights")
    assert not (tmp_path / "weights").exists() or not any((tmp_path / "weights").iterdir())


@pytest.mark.parametrize(("field", "value", "message"), [
    ("target_points", 10**9, "malformed"),
    ("kind", "forest", "malformed"),
    ("source_points", "seventy", "no readable point counts"),
    ("state_dict", {"linear.weight": "not a tensor"}, "weights do not fit"),
])
def test_a_hostile_adapter_is_one_line_before_any_allocation(tmp_path: Path, field: str, value, message: str) -> None:
    from zoo.checkpoints.checkpoint import CheckpointError

    path = adapted_checkpoint(tmp_path / "a.pt", 5, "ridge")
    data = torch.load(path, weights_only=True)
    data["adapter"][field] = value
    torch.save(data, path)
    with pytest.raises(CheckpointError, match=message) as e:
        load_checkpoint(path).build()
    assert "\n" not in str(e.value)
