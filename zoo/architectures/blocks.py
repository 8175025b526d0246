"""Convolution blocks shared by the families.

The block shapes follow fdfat's layers exactly (same channels, kernels, strides and
BatchNorm settings), so that its published checkpoints load without any reshaping.
"""

from __future__ import annotations

import math

import torch
from torch import nn

#: fdfat trains BatchNorm with momentum 0.03; keeping it makes fine-tuning imported weights behave alike.
BN_MOMENTUM = 0.03

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu6": nn.ReLU6, "silu": nn.SiLU}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name (``relu6`` or ``silu``)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None


class ConvBNAct(nn.Module):
    """Conv (no bias) -> BatchNorm -> activation; ``groups`` > 1 makes it grouped/depthwise."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 1, stride: int = 1, groups: int = 1,
                 act: nn.Module | None = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out, momentum=BN_MOMENTUM)
        self.act = act if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


def depthwise(c_in: int, c_out: int, kernel: int = 3, stride: int = 1,
              act: nn.Module | None = None) -> ConvBNAct:
    """Grouped conv with gcd(c_in, c_out) groups: depthwise when the widths match."""
    return ConvBNAct(c_in, c_out, kernel, stride, groups=math.gcd(c_in, c_out), act=act)


class InvertedResidual(nn.Module):
    """Expand (1x1) -> depthwise (3x3, maybe strided) -> project (1x1, linear).

    The shortcut exists only when input and output widths match; on a strided block it
    goes through a 2x2 max-pool, as in fdfat's ``IdentifyBlock``.
    """

    def __init__(self, c_in: int, c_out: int, expand: int, stride: int = 1,
                 act_name: str = "relu6") -> None:
        super().__init__()
        hidden = int(expand * c_in)
        self.expand = ConvBNAct(c_in, hidden, 1, act=make_activation(act_name))
        self.depthwise = depthwise(hidden, hidden, 3, stride, act=make_activation(act_name))
        self.project = ConvBNAct(hidden, c_out, 1)
        self.has_shortcut = c_in == c_out
        self.shortcut_pool = nn.MaxPool2d(2, 2) if self.has_shortcut and stride == 2 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return y + self.shortcut_pool(x) if self.has_shortcut else y


class Bottleneck(nn.Module):
    """Two 3x3 ConvBNAct layers (no shortcut in the CSP blocks used here)."""

    def __init__(self, channels: int, act_name: str) -> None:
        super().__init__()
        self.conv1 = ConvBNAct(channels, channels, 3, act=make_activation(act_name))
        self.conv2 = ConvBNAct(channels, channels, 3, act=make_activation(act_name))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))


class CSPBlock(nn.Module):
    """C2f: split a 1x1 projection in two halves, run a bottleneck on one, fuse all three."""

    def __init__(self, c_in: int, c_out: int, act_name: str) -> None:
        super().__init__()
        self.hidden = int(c_out * 0.5)
        self.split = ConvBNAct(c_in, 2 * self.hidden, 1, act=make_activation(act_name))
        self.fuse = ConvBNAct(3 * self.hidden, c_out, 1, act=make_activation(act_name))
        self.bottleneck = Bottleneck(self.hidden, act_name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.split(x).chunk(2, 1)
        return self.fuse(torch.cat([a, b, self.bottleneck(b)], 1))
