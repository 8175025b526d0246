"""Output heads and the network shell that every family shares.

A family supplies a *trunk* (image -> stride-2/4 feature map) and a *pyramid* (feature
map -> pooled vector); the shell adds the heads named by the variant, so tools can treat
every variant alike: ``forward`` always returns a dict keyed by the exported output names.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import BN_MOMENTUM, depthwise, make_activation


class LandmarkHead(nn.Module):
    """Pooled features -> ``num_points`` (x, y) pairs in [-1, 1] through tanh.

    ``hidden`` adds one tanh hidden layer (the LW family's MLP); ``None`` is a single
    linear layer (the LWCSP family).
    """

    def __init__(self, c_in: int, num_points: int, hidden: int | None) -> None:
        super().__init__()
        out = 2 * num_points
        layers: list[nn.Module] = []
        if hidden:
            layers += [nn.Linear(c_in, hidden), nn.Tanh()]
            c_in = hidden
        layers += [nn.Linear(c_in, out), nn.Tanh()]
        self.mlp = nn.Sequential(*layers)
        self.num_points = num_points

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.mlp(features).view(-1, self.num_points, 2)


class FaceScoreHead(nn.Module):
    """Face/non-face probability from the trunk's feature map (trained on a frozen trunk)."""

    def __init__(self, c_in: int, c_mid: int, c_out: int, act_name: str) -> None:
        super().__init__()
        self.features = nn.Sequential(
            depthwise(c_in, c_mid, 3, 2, act=make_activation(act_name)),
            depthwise(c_mid, c_out, 3, 2, act=make_activation(act_name)),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(1),
        )
        self.classifier = nn.Linear(c_out, 1)

    def forward(self, trunk_map: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.classifier(self.features(trunk_map)))


class PoseHead(nn.Module):
    """Auxiliary yaw/pitch/roll regressor (tanh; degrees divided by ``POSE_SCALE_DEG``)."""

    def __init__(self, c_in: int, width: float, act_name: str) -> None:
        super().__init__()
        c32, c64, c128 = int(32 * width), int(64 * width), int(128 * width)

        def conv(a: int, b: int, stride: int) -> list[nn.Module]:
            return [nn.Conv2d(a, b, 3, stride, 1), nn.BatchNorm2d(b, momentum=BN_MOMENTUM),
                    make_activation(act_name)]

        self.features = nn.Sequential(
            *conv(c_in, c32, 2), *conv(c32, c64, 1), *conv(c64, c64, 2), *conv(c64, c128, 1),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(1),
        )
        self.regressor = nn.Sequential(nn.Linear(c128, 9), nn.Tanh(), nn.Linear(9, 3), nn.Tanh())

    def forward(self, trunk_map: torch.Tensor) -> torch.Tensor:
        return self.regressor(self.features(trunk_map))


class PooledPyramid(nn.Module):
    """Shared pyramid shell: ``stages`` then each of ``levels``, every level globally pooled and concatenated.

    Families differ only in what the stages and levels are and in the pooling (avg for LW, max for LWCSP).
    """

    def __init__(self, stages: nn.Module, levels: list[nn.Module], pool: nn.Module, out_channels: int) -> None:
        super().__init__()
        self.stages = stages
        self.levels = nn.ModuleList(levels)
        self.pool = pool
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(x)
        pooled = []
        for level in self.levels:
            x = level(x)
            pooled.append(self.pool(x).flatten(1))
        return torch.cat(pooled, 1)


class FaceAlignmentNet(nn.Module):
    """trunk -> pyramid -> landmark head; trunk -> optional face-score and pose heads."""

    def __init__(self, trunk: nn.Module, pyramid: nn.Module, landmark_head: LandmarkHead,
                 face_head: nn.Module | None = None, pose_head: nn.Module | None = None) -> None:
        super().__init__()
        self.trunk = trunk
        self.pyramid = pyramid
        self.landmark_head = landmark_head
        self.face_head = face_head
        self.pose_head = pose_head

    @property
    def output_names(self) -> tuple[str, ...]:
        names = ["landmarks"]
        if self.face_head is not None:
            names.append("face_score")
        if self.pose_head is not None:
            names.append("pose")
        return tuple(names)

    def landmark_modules(self) -> list[nn.Module]:
        """Modules of the landmark network: frozen during face-score training."""
        return [self.trunk, self.pyramid, self.landmark_head]

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        trunk_map = self.trunk(x)
        out = {"landmarks": self.landmark_head(self.pyramid(trunk_map))}
        if self.face_head is not None:
            out["face_score"] = self.face_head(trunk_map)
        if self.pose_head is not None:
            out["pose"] = self.pose_head(trunk_map)
        return out


class TupleOutputs(nn.Module):
    """Wraps a FaceAlignmentNet so exporters that want positional outputs get them in order."""

    def __init__(self, net: FaceAlignmentNet) -> None:
        super().__init__()
        self.net = net
        self.output_names = net.output_names

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.net(x)
        return tuple(out[name] for name in self.output_names)
