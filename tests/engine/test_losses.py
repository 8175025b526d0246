"""Loss and metric values against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from zoo.engine.config import TrainConfig, parse_part_weights
from zoo.engine.losses import L1Loss, WingLoss, make_landmark_loss, nme, nme_by_yaw, pose_loss


def test_l1_is_the_plain_mean_absolute_error_with_weights_and_mask() -> None:
    pred = torch.tensor([[[0.1, 0.2], [0.0, 0.0]], [[9.0, 9.0], [9.0, 9.0]]])
    target = torch.zeros_like(pred)
    loss = L1Loss()
    assert float(loss(pred[:1], target[:1])) == pytest.approx((0.1 + 0.2 + 0 + 0) / 4)
    # point weights 2 and 1: (2 * 0.15 + 1 * 0) / 2 points
    assert float(loss(pred[:1], target[:1], torch.tensor([2.0, 1.0]))) == pytest.approx(0.15)
    # the second sample is a non-face: masked out entirely
    assert float(loss(pred, target, mask=torch.tensor([1.0, 0.0]))) == pytest.approx(0.075)
    assert float(loss(pred, target, mask=torch.zeros(2))) == 0.0


def test_wing_matches_the_formula_in_pixels() -> None:
    wing = WingLoss(w=10.0, eps=2.0, scale=96.0)
    small = torch.full((1, 1, 2), 0.01)  # 0.96 px: the log branch, 10 * ln(1 + 0.96 / 2)
    assert float(wing(small, torch.zeros_like(small))) == pytest.approx(10 * math.log(1.48) / 96, rel=1e-6)
    large = torch.full((1, 1, 2), 0.5)  # 48 px: the linear branch, 48 - C with C = 10 - 10 ln 6
    assert float(wing(large, torch.zeros_like(large))) == pytest.approx((48 - (10 - 10 * math.log(6))) / 96, rel=1e-6)
    # continuous where the branches meet (|x| = w)
    edge = torch.full((1, 1, 2), 10 / 96)
    assert float(wing(edge, torch.zeros_like(edge))) == pytest.approx(10 * math.log(6) / 96, rel=1e-5)
    assert isinstance(make_landmark_loss("wing", 96), WingLoss) and isinstance(make_landmark_loss("l1", 96), L1Loss)


def test_nme_is_percent_of_the_outer_eye_corner_distance() -> None:
    target = torch.zeros(1, 70, 2)
    target[0, 36], target[0, 45] = torch.tensor([-0.2, 0.0]), torch.tensor([0.2, 0.0])
    pred = target + torch.tensor([0.03, 0.04])  # every point 0.05 off, inter-ocular 0.4
    assert float(nme(pred, target)[0]) == pytest.approx(12.5, rel=1e-5)
    # 68-point ground truth: only the first 68 predicted points count
    pred[0, 68:] += 5.0
    assert float(nme(pred, target[:, :68])[0]) == pytest.approx(12.5, rel=1e-5)


def test_nme_by_yaw_uses_fdfat_bins() -> None:
    nmes = torch.tensor([1.0, 2.0, 3.0, 4.0, 100.0])
    yaw = torch.tensor([-30.0, 35.0, -40.0, 70.0, 0.0])
    known = torch.tensor([1, 1, 1, 1, 0])
    bins = nme_by_yaw(nmes, yaw, known)
    assert bins == {"nme_yaw_le30": 1.0, "nme_yaw_30_40": 2.5, "nme_yaw_gt40": 4.0}
    assert math.isnan(nme_by_yaw(nmes, yaw, torch.zeros(5))["nme_yaw_le30"])


def test_pose_loss_counts_only_known_poses() -> None:
    pred, target = torch.tensor([[0.1, 0.2, 0.3], [1.0, 1.0, 1.0]]), torch.zeros(2, 3)
    assert float(pose_loss(pred, target, torch.tensor([[1.0], [0.0]]))) == pytest.approx(0.2)


def test_config_parses_part_weights_and_rejects_bad_values() -> None:
    assert parse_part_weights("jaw=2, eyes=1.5") == {"jaw": 2.0, "eyes": 1.5}
    with pytest.raises(ValueError, match="unknown landmark part 'ears'"):
        parse_part_weights("ears=2")
    with pytest.raises(ValueError, match="not NAME=WEIGHT"):
        parse_part_weights("jaw")
    with pytest.raises(ValueError, match="loss must be one of"):
        TrainConfig(variant="lw-relu6", loss="l2")
