"""The fitted map as layers appended to the network, written as an ordinary zoo checkpoint.

The graph's map must compute what the fit scored: ``write_adapted`` compares the two on the fit
faces before writing anything and refuses past 1e-4 of the eye-frame unit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import AdaptError
from .fit import Map, eye_frame
from .observe import ModelRef

GRAPH_TOLERANCE = 1e-4


def landmark_map(m: Map, source_points: int, target_points: int) -> Any:
    """A ``zoo.architectures.adapter.LandmarkMap`` holding ``m``'s weights (float32)."""
    import torch

    from zoo.architectures.adapter import LandmarkMap

    hidden = 0 if m.mlp is None else int(m.mlp["b1"].shape[0])
    lm = LandmarkMap(source_points, target_points, m.kind, hidden)
    f32 = lambda a: torch.from_numpy(np.ascontiguousarray(a, np.float32))  # noqa: E731
    with torch.no_grad():
        lm.linear.weight.copy_(f32(m.weight.T))
        lm.linear.bias.copy_(f32(m.bias))
        if m.mlp is not None:
            lm.mlp[0].weight.copy_(f32(m.mlp["w1"].T))
            lm.mlp[0].bias.copy_(f32(m.mlp["b1"]))
            lm.mlp[2].weight.copy_(f32(m.mlp["w2"].T))
            lm.mlp[2].bias.copy_(f32(m.mlp["b2"]))
    return lm.eval()


def graph_error(lm: Any, m: Map, model_points: np.ndarray) -> float:
    """Max difference between the layers and the numpy map, in eye-frame units (inter-ocular distances)."""
    import torch

    with torch.no_grad():
        got = lm(torch.from_numpy(model_points.astype(np.float32))).double().numpy()
    want = m.apply(model_points)
    return float(np.max(np.abs(got - want) / eye_frame(model_points)[2]))


def adapted_network(net: Any, m: Map, target_points: int, info: dict[str, Any], check_points: np.ndarray) -> Any:
    """``net`` ending in ``m``; ``check_points`` (model points in pixels) test the graph."""
    from zoo.architectures.adapter import AdaptedNet

    lm = landmark_map(m, net.spec.num_points, target_points)
    # scaled to about the size of the network's crop units, where the float32 map really runs
    units = check_points / max(float(np.ptp(check_points)), 1.0)
    err = graph_error(lm, m, units)
    if not err <= GRAPH_TOLERANCE:
        raise AdaptError(f"the map as layers differs from the fitted map by {err:.2e} inter-ocular distances "
                         f"(limit {GRAPH_TOLERANCE:g}); this is a bug, please report it")
    return AdaptedNet(net, lm, info)


def write_adapted(out: Path, ref: ModelRef, m: Map, target_points: int, info: dict[str, Any],
                  check_points: np.ndarray) -> str:
    """Write the adapted checkpoint atomically; returns its sha256."""
    from zoo.checkpoints.checkpoint import load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(ref.checkpoint)  # once: the network and its card
    model = adapted_network(ckpt.build(), m, target_points, info, check_points)
    card = dict(ckpt.meta)
    for key in ("variant", "config", "zoo_version", "date", "sha256"):
        card.pop(key, None)
    card["adaptation"] = info
    card["adapted_from"] = {"checkpoint": str(ref.checkpoint), "sha256": ref.sha256, "source": ref.source}
    return save_checkpoint(out, model, meta=card)
