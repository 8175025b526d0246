"""LWCSP family: C2f/CSP trunk, strided convs, three max-pooled pyramid levels, linear head.

Layer for layer the network of fdfat's ``LWCSPModel`` (482,165 parameters with the face-score head).
"""

from __future__ import annotations

from torch import nn

from .blocks import ConvBNAct, CSPBlock, make_activation
from .heads import FaceAlignmentNet, FaceScoreHead, LandmarkHead, PooledPyramid, PoseHead
from .registry import VariantSpec, register_family


def _down_csp(c_in: int, c_out: int, act: str) -> nn.Sequential:
    """Strided 3x3 conv followed by a CSP block: one pyramid step."""
    return nn.Sequential(ConvBNAct(c_in, c_in, 3, 2, act=make_activation(act)), CSPBlock(c_in, c_out, act))


def lwcsp_pyramid(width: float, act: str) -> PooledPyramid:
    """Stride-2 map -> stride 4, 8 -> three levels at stride 8/16/32, each global-max-pooled."""
    c32, c64, c96 = int(32 * width), int(64 * width), int(96 * width)
    levels = [_down_csp(c64, c96, act), _down_csp(c96, c96, act), _down_csp(c96, c96, act)]
    return PooledPyramid(_down_csp(c32, c64, act), levels, nn.AdaptiveMaxPool2d(1), 3 * c96)


@register_family("lwcsp")
def build_lwcsp(spec: VariantSpec) -> FaceAlignmentNet:
    w, act = spec.width, spec.activation
    c8, c16, c32 = int(8 * w), int(16 * w), int(32 * w)
    trunk = nn.Sequential(
        ConvBNAct(3, c8, 3, 2, act=make_activation(act)),
        CSPBlock(c8, c16, act),
        CSPBlock(c16, c32, act),
    )
    pyramid = lwcsp_pyramid(w, act)
    head = LandmarkHead(pyramid.out_channels, spec.num_points, hidden=None)
    face = FaceScoreHead(c32, c32, int(64 * w), act) if spec.cls else None
    pose = PoseHead(c32, w, act) if spec.pose else None
    return FaceAlignmentNet(trunk, pyramid, head, face, pose)
