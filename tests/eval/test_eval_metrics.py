"""eval.metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from eval.metrics import auc_fr, box_over_iod, ced, nme_per_face, pose_floor, summarize, yaw_bin, yaw_profile


def _face(iod: float = 10.0) -> np.ndarray:
    gt = np.zeros((68, 2))
    gt[45] = (iod, 0.0)  # point 36 at the origin: inter-ocular distance = iod
    return gt


def test_nme_hand_computed() -> None:
    gt = _face(10.0)
    pred = gt.copy()
    pred[:, 0] += 1.0  # every point 1 px off: mean error 1 px = 10% of 10 px
    assert nme_per_face(pred, gt)[0] == pytest.approx(10.0)
    pred = gt.copy()
    pred[0] += (3.0, 4.0)  # one point 5 px off: mean error 5/68 px
    assert nme_per_face(pred, gt)[0] == pytest.approx(100 * 5 / 68 / 10)


def test_nme_uses_first_68_of_70_points_and_the_ground_truth_normaliser() -> None:
    gt = _face(20.0)
    pred = np.concatenate([gt, np.full((2, 2), 1e6)])  # wild pupils must not count on 68-point data
    assert nme_per_face(pred[None], gt[None])[0] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="inter-ocular"):
        nme_per_face(gt, np.zeros((68, 2)))


def test_auc_and_failure_rate_hand_computed() -> None:
    # CED at 10%: faces at 0, 5, 10 and 20 % -> areas 1, 0.5, 0, 0 -> AUC 0.375; only 20% fails (10% does not)
    auc, fr = auc_fr(np.array([0.0, 5.0, 10.0, 20.0]))
    assert auc == pytest.approx(0.375)
    assert fr == pytest.approx(0.25)


def test_auc_matches_numeric_integral_of_ced() -> None:
    nme = np.random.default_rng(0).gamma(2.0, 2.5, size=300)
    x, frac = ced(nme, steps=20001)
    assert auc_fr(nme)[0] == pytest.approx(np.trapezoid(frac, x) / 10.0, abs=1e-3)
    assert frac[0] == 0.0 and np.all(np.diff(frac) >= 0)


@pytest.mark.parametrize(("yaw", "expected"), [
    (0, "le30"), (30.0, "le30"), (-30.0, "le30"), (30.0001, "30_40"), (40.0, "30_40"), (-40.0, "30_40"),
    (40.0001, "gt40"), (-89, "gt40"),
])
def test_yaw_bin_edges_belong_to_the_lower_bin(yaw: float, expected: str) -> None:
    assert yaw_bin(yaw) == expected


def test_summarize_by_yaw() -> None:
    s = summarize(np.array([1.0, 3.0, 5.0, 20.0]), np.array([10.0, -30.0, 35.0, 60.0]))
    assert s.nme == pytest.approx(7.25)
    assert s.nme_by_yaw == {"le30": 2.0, "30_40": 5.0, "gt40": 20.0}
    assert s.faces_by_yaw == {"le30": 2, "30_40": 1, "gt40": 1}
    row = s.to_row()
    assert row["images"] == 4 and row["fr10"] == 0.25 and row["nme_yaw_gt40"] == 20.0
    assert summarize(np.array([1.0]), np.array([0.0])).to_row()["nme_yaw_gt40"] is None


def test_part_errors_find_a_shared_offset_in_the_face_frame() -> None:
    from eval.metrics import part_errors

    rng = np.random.default_rng(0)
    gt = rng.uniform(0, 100, (5, 68, 2))
    gt[:, 36], gt[:, 45] = (10.0, 50.0), (50.0, 50.0)  # eye line along +x, inter-ocular 40 px
    gt[2, 36], gt[2, 45] = (50.0, 10.0), (50.0, 50.0)  # one face turned 90 degrees: its frame's x is image +y
    pred = gt.copy()
    pred[[0, 1, 3, 4]] += (-2.0, 0.0)  # 5% inter-ocular against the eye line on every face ...
    pred[2] += (0.0, -2.0)  # ... which for the turned face is image -y
    pred[:, 48:68] += rng.normal(0, 0.01, (5, 20, 2))  # mouth: a hair of extra scatter
    r = part_errors(pred, gt)
    assert r.offset[0] == pytest.approx(-5.0, abs=0.01) and r.offset[1] == pytest.approx(0.0, abs=0.01)
    assert r.nme == pytest.approx(5.0, abs=0.05) and r.nme_without_offset < 0.05
    assert set(r.parts) == {"jaw", "brows", "nose", "eyes", "mouth"} and r.parts["jaw"] == pytest.approx(5.0)


def test_box_over_iod_hand_computed() -> None:
    gt = _face(10.0)
    gt[8] = (5.0, 40.0)  # the landmark box is 10 x 40 px: sqrt(w*h) = 20 px = 2 inter-ocular distances
    assert box_over_iod(gt)[0] == pytest.approx(2.0)
    assert box_over_iod(np.concatenate([gt, [[1e3, 1e3]] * 2]), num_points=68)[0] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="inter-ocular"):
        box_over_iod(np.zeros((68, 2)))


def test_yaw_profile_bins_and_both_yardsticks() -> None:
    nme = np.array([2.0, 4.0, 30.0, 50.0])
    scale = np.array([2.0, 2.0, 10.0, 10.0])
    yaw = np.array([0.0, -10.0, 85.0, -90.0])  # 0 opens the first bin, 10 belongs to it, 90 to the last
    rows = yaw_profile(nme, scale, yaw)
    assert [(r.low, r.high, r.faces) for r in rows] == [(0.0, 10.0, 2), (80.0, 90.0, 2)]
    assert rows[0].nme == pytest.approx(3.0) and rows[0].nme_box == pytest.approx(1.5)
    assert rows[1].nme == pytest.approx(40.0) and rows[1].nme_box == pytest.approx(4.0)


def test_pose_floor_is_frontal_accuracy_read_with_each_faces_yardstick() -> None:
    # frontal faces: 1.5 % of their box on average; the profile faces' boxes are 10 inter-ocular distances,
    # so at that accuracy they would read 15 %: the floor is the mean of 3, 3, 15, 15 = 9
    nme = np.array([2.0, 4.0, 30.0, 50.0])
    scale = np.array([2.0, 2.0, 10.0, 10.0])
    yaw = np.array([0.0, -10.0, 85.0, -90.0])
    assert pose_floor(nme, scale, yaw) == pytest.approx(9.0)
    assert np.isnan(pose_floor(nme[2:], scale[2:], yaw[2:]))
