"""The map recovers known distortions of rendered landmarks, whatever the target's point count."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo.adapt import fit
from zoo.adapt.adapted import graph_error, landmark_map
from zoo.architectures.adapter import to_eye_frame

IOD = (36, 45)


@pytest.fixture(scope="module")
def rendered() -> np.ndarray:
    """Landmarks [200,70,2] of rendered faces (the renderer's own labels, in pixels).

    Rendered shapes span nearly all 140 eye-frame coordinates, so an exact recovery needs more
    fitting faces than that: 4 folds of 200 fit on 150.
    """
    from zoo.synth.generate import render_face

    rng = np.random.default_rng(7)
    return np.stack([render_face(rng, 96)[1] for _ in range(200)]).astype(np.float64)


def _eye_axes(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Independent of zoo.adapt: origin, x axis scaled to the eye distance, y axis, per face."""
    a, b = p[:, 36], p[:, 45]
    x = b - a
    y = np.stack([-x[:, 1], x[:, 0]], -1)
    return (a + b) / 2, x, y


def distort(p: np.ndarray, mix: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Target j = sum_i mix[j, i] p_i (weights summing to 1) + an offset fixed in each face's eye frame."""
    _, x, y = _eye_axes(p)
    return np.einsum("ji,nic->njc", mix, p) + offsets[None, :, 0:1] * x[:, None] + offsets[None, :, 1:2] * y[:, None]


def convention(k: int) -> np.ndarray:
    """[k,70] weights: 5 = eye centres, nose tip, mouth corners; 68 = iBUG; 98 = iBUG + 30 in-between points."""
    eye = np.eye(70)
    if k == 5:
        return np.stack([eye[36:42].mean(0), eye[42:48].mean(0), eye[30], eye[48], eye[54]])
    if k == 68:
        return eye[:68]
    between = [(eye[i] + eye[i + 1]) / 2 for i in [*range(16), *range(17, 21), *range(22, 26), *range(48, 54)]]
    return np.concatenate([eye[:68], np.stack(between)])


@pytest.mark.parametrize("k", [5, 68, 98])
def test_recovers_a_known_linear_distortion(rendered: np.ndarray, k: int) -> None:
    rng = np.random.default_rng(k)
    mix = convention(k)
    assert mix.shape == (k, 70)
    target = distort(rendered, mix, rng.normal(0, 0.05, (k, 2)))
    iod = (0, 1) if k == 5 else (36, 45)
    cv = fit.cross_validate(rendered, target, iod, fit.ridge_fitter(iod, 4), k=4)
    raw = fit.nme(np.einsum("ji,nic->njc", mix, rendered), target, iod).mean()
    assert raw > 2.0  # the offsets are a real distortion...
    assert cv.mean_nme < 0.1  # ...that the map removes on faces it never saw (alpha comes from a CV on 112 faces)


def test_graph_map_matches_the_fitted_map(rendered: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    target = distort(rendered, convention(5), rng.normal(0, 0.05, (5, 2)))
    for m in (fit.fit_ridge(rendered, target, 1e-4), fit.fit_mlp(rendered, target, 1e-4, steps=50)):
        lm = landmark_map(m, 70, 5)
        assert graph_error(lm, m, rendered / 96.0 - 0.5) < 1e-5, m.kind


def test_eye_frame_ignores_shift_scale_and_roll(rendered: np.ndarray) -> None:
    p = torch.from_numpy(rendered[:4]).float()
    angle = 0.4
    rot = torch.tensor([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], dtype=torch.float32)
    moved = 0.7 * p @ rot.T + torch.tensor([5.0, -3.0])
    assert torch.allclose(to_eye_frame(p)[0], to_eye_frame(moved)[0], atol=1e-4)


def test_numpy_and_torch_eye_frames_agree(rendered: np.ndarray) -> None:
    local_np = fit.to_frame(rendered, fit.eye_frame(rendered))
    local_t = to_eye_frame(torch.from_numpy(rendered))[0].numpy()
    np.testing.assert_allclose(local_np, local_t, atol=1e-9)
