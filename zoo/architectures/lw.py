"""LW family: inverted-residual trunk with a PReLU stem, three avg-pooled pyramid levels, MLP head.

Layer for layer the network of fdfat's ``LWModel`` (429,206 parameters with the face-score head).
"""

from __future__ import annotations

from torch import nn

from .blocks import ConvBNAct, InvertedResidual
from .heads import FaceAlignmentNet, FaceScoreHead, LandmarkHead, PooledPyramid, PoseHead
from .registry import VariantSpec, register_family


def lw_pyramid(c16: int, width: float, act: str) -> PooledPyramid:
    """Stride-4 map -> stride-8/16 stages -> three pyramid levels, each global-avg-pooled."""
    c32, c64, c128 = int(32 * width), int(64 * width), int(128 * width)
    stages = nn.Sequential(
        InvertedResidual(c16, c32, 2, stride=2, act_name=act),
        InvertedResidual(c32, c32, 4, act_name=act),
        InvertedResidual(c32, c32, 4, act_name=act),
        InvertedResidual(c32, c64, 4, act_name=act),
        InvertedResidual(c64, c64, 4, act_name=act),
        InvertedResidual(c64, c64, 4, act_name=act),
    )
    levels = [
        InvertedResidual(c64, c128, 2, act_name=act),
        InvertedResidual(c128, c128, 2, stride=2, act_name=act),
        InvertedResidual(c128, c128, 2, act_name=act),
    ]
    return PooledPyramid(stages, levels, nn.AdaptiveAvgPool2d(1), 3 * c128)


@register_family("lw")
def build_lw(spec: VariantSpec) -> FaceAlignmentNet:
    w, act = spec.width, spec.activation
    c16 = int(16 * w)
    trunk = nn.Sequential(
        ConvBNAct(3, 16, 3, 2, act=nn.PReLU()),  # the stem stays 16 wide at every width
        InvertedResidual(16, c16, 2, stride=2, act_name=act),
        *(InvertedResidual(c16, c16, 2, act_name=act) for _ in range(4)),
    )
    pyramid = lw_pyramid(c16, w, act)
    head = LandmarkHead(pyramid.out_channels, spec.num_points, hidden=4 * spec.num_points)
    face = FaceScoreHead(c16, int(32 * w), int(64 * w), act) if spec.cls else None
    pose = PoseHead(c16, w, act) if spec.pose else None
    return FaceAlignmentNet(trunk, pyramid, head, face, pose)
