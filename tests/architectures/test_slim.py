"""Network slimming: the narrow network keeps exactly the wide one's function on the channels it keeps."""

from __future__ import annotations

import pytest
import torch

from zoo.architectures.blocks import InvertedResidual
from zoo.architectures.registry import build_model, parse_variant
from zoo.architectures.slim import _blocks, _streams, slim_state_dict


def _net(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    net = build_model(parse_variant(name)).eval()
    for m in net.modules():  # BN statistics that are not the identity, so a wrong slice shows
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return net


def test_slimming_to_the_same_width_is_the_identity() -> None:
    wide = _net("lw-relu6-affine")
    narrow = build_model(parse_variant("lw-relu6-affine")).eval()
    narrow.load_state_dict(slim_state_dict(wide, narrow), strict=False)
    x = torch.randn(2, 3, 96, 96)
    assert torch.equal(narrow(x)["landmarks"], wide(x)["landmarks"])


def test_the_half_width_network_computes_what_the_wide_one_does_when_the_dropped_channels_are_silent() -> None:
    wide, narrow = _net("lw-relu6-affine"), build_model(parse_variant("lw-relu6-w0.5-affine")).eval()
    blocks = _blocks(wide)
    g = torch.Generator().manual_seed(1)

    def silence(bn: torch.nn.BatchNorm2d, drop: torch.Tensor) -> None:
        bn.weight.data[drop] = 0.0
        bn.bias.data[drop] = 0.0
        bn.running_mean.data[drop] = 0.0

    for stream in _streams(blocks):  # silence a random half of every stream and of every block's hidden channels
        c = blocks[stream[0]].project.bn.num_features
        drop = torch.randperm(c, generator=g)[: c // 2]
        for i in stream:
            silence(blocks[i].project.bn, drop)
    for b in blocks:
        h = b.expand.bn.num_features
        drop = torch.randperm(h, generator=g)[: h // 2]
        silence(b.expand.bn, drop)
        silence(b.depthwise.bn, drop)
    narrow.load_state_dict(slim_state_dict(wide, narrow), strict=False)
    x = torch.randn(3, 3, 96, 96)
    torch.testing.assert_close(narrow(x)["landmarks"], wide(x)["landmarks"], atol=2e-4, rtol=0)  # summation order only


def test_streams_follow_the_shortcuts() -> None:
    blocks = _blocks(build_model(parse_variant("lw-relu6")))
    assert all(isinstance(b, InvertedResidual) for b in blocks)
    # trunk: 1 + 4 shortcut blocks; stages: 1 + 2, 1 + 2; levels: 1 + 2
    assert [len(s) for s in _streams(blocks)] == [5, 3, 3, 3]


def test_networks_of_different_depth_are_refused() -> None:
    wide = build_model(parse_variant("lw-relu6"))
    with pytest.raises(ValueError, match="cannot slim"):
        slim_state_dict(wide, build_model(parse_variant("lwcsp-silu")))
