"""pose.py: the mean face, the angle convention and solvePnP round trips."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.landmarks import mirror_pairs
from zoo.pose import MEAN_FACE_68, HeadPose, draw_axes, estimate_pose, euler_from_matrix, project_points, rotation_matrix

SIZE = (256, 256)


def test_mean_face_axes_and_symmetry() -> None:
    assert MEAN_FACE_68.shape == (68, 3)
    assert MEAN_FACE_68[16, 0] > 0 > MEAN_FACE_68[0, 0]  # point 16 on the subject's left = image right
    assert MEAN_FACE_68[8, 1] > MEAN_FACE_68[27, 1]  # chin below the nose bridge (y down)
    assert MEAN_FACE_68[30, 2] == MEAN_FACE_68[:, 2].max()  # nose tip nearest the camera
    for a, b in mirror_pairs(68):
        assert abs(MEAN_FACE_68[a, 0] + MEAN_FACE_68[b, 0]) < 4.0
        assert abs(MEAN_FACE_68[a, 1] - MEAN_FACE_68[b, 1]) < 4.0


@pytest.mark.parametrize("angles", [(0, 0, 0), (35, -10, 5), (-70, 20, -15), (85, 0, 10), (-20, 28, 28)])
def test_euler_round_trip(angles: tuple[float, float, float]) -> None:
    assert np.allclose(euler_from_matrix(rotation_matrix(*angles)), angles, atol=1e-9)


def test_sign_convention() -> None:
    frontal = project_points(HeadPose.from_angles(0, 0, 0, [0, 0, 600]), SIZE)
    turned = project_points(HeadPose.from_angles(30, 0, 0, [0, 0, 600]), SIZE)
    up = project_points(HeadPose.from_angles(0, 20, 0, [0, 0, 600]), SIZE)
    tilt = project_points(HeadPose.from_angles(0, 0, 20, [0, 0, 600]), SIZE)
    assert turned[30, 0] > frontal[30, 0] + 5  # yaw > 0: nose to image right
    assert up[30, 1] < frontal[30, 1] - 5  # pitch > 0: nose up
    assert tilt[27, 0] > frontal[27, 0] + 5  # roll > 0: top of the face to image right


@pytest.mark.parametrize("angles", [(0, 0, 0), (25, -10, 5), (-45, 15, -10), (60, -20, 20), (-80, 5, 0), (88, 10, -5)])
def test_estimate_pose_round_trip(angles: tuple[float, float, float]) -> None:
    truth = HeadPose.from_angles(*angles, tvec=[8.0, -5.0, 550.0])
    pts = project_points(truth, SIZE)
    pose = estimate_pose(pts, SIZE)
    assert np.allclose([pose.yaw, pose.pitch, pose.roll], angles, atol=0.5)
    assert np.allclose(pose.tvec, truth.tvec, atol=2.0)
    assert pose.error < 0.1
    again = estimate_pose(np.vstack([pts, [[1, 1], [2, 2]]]), SIZE, prev=pose)  # 70 points, seeded
    assert np.allclose([again.yaw, again.pitch, again.roll], angles, atol=0.5)
    assert set(pose.to_dict()) >= {"yaw", "pitch", "roll", "rvec", "tvec"}


def test_estimate_pose_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="68"):
        estimate_pose(np.zeros((10, 2)), SIZE)
    with pytest.raises(ValueError, match="non-finite"):
        estimate_pose(np.full((68, 2), np.nan), SIZE)


def test_draw_axes_draws() -> None:
    img = np.zeros((256, 256, 3), np.uint8)
    draw_axes(img, HeadPose.from_angles(20, 10, 0, [0, 0, 600]))
    assert img.sum() > 0
