"""The compact ICT head (``zoo.synth.ict_head``) and the annotators' landmark definition on it (``ict_landmarks``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zoo.pose import estimate_pose
from zoo.synth.ict_head import (
    COMPACT,
    KEPT_RANGES,
    PITCH_OFFSET,
    Camera,
    camera_points,
    load_head,
    project,
    raw_landmarks,
    sample_camera,
    sample_expression,
    sample_identity,
)
from zoo.synth.ict_landmarks import RAW, AnnotatorLandmarks, Definition

SOURCE = Path(__file__).resolve().parents[3] / "shared" / "third_party" / "ict-facekit" / "ict_face_model.npz"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def head():
    return load_head()


def _eye_hole_boundary(head) -> np.ndarray:
    """Vertices on the edge of the face mesh's holes and outline (edges used by one polygon)."""
    polys = head.polygons[np.all(head.polygons < 9409, axis=1)]
    rows = []
    for c in range(4):
        a, b = polys[:, c], polys[:, (c + 1) % 4]
        b = np.where(b < 0, polys[:, 0], b)
        rows.append(np.stack([np.minimum(a, b), np.maximum(a, b)], 1)[a >= 0])
    edges = np.concatenate(rows)
    edges, count = np.unique(edges[edges[:, 0] != edges[:, 1]], axis=0, return_counts=True)
    return np.unique(edges[count == 1])


def test_the_package_ships_the_compact_head_with_its_licence() -> None:
    assert COMPACT.is_file() and COMPACT.stat().st_size <= 10_000_000
    licence = (COMPACT.parent / "LICENSE").read_text()
    assert "MIT License" in licence and "Institute for Creative Technologies" in licence
    assert "synth/ict/*.npz" in (ROOT / "pyproject.toml").read_text()  # shipped as package data


@pytest.mark.skipif(not SOURCE.is_file(), reason="ICT-FaceKit's full model is not in ../shared/third_party")
def test_compact_head_matches_the_full_model(head) -> None:
    rng = np.random.default_rng(0)
    ident, expr = sample_identity(rng), sample_expression(rng, head.ex_names)
    with np.load(SOURCE) as z:
        keep = np.concatenate([np.arange(a, b) for a, b in KEPT_RANGES])
        full = z["neutral"][keep] + np.tensordot(ident, z["identity_modes"][: len(ident)][:, keep], axes=1)
        full = full + np.tensordot(expr, z["expression_modes"][:, keep], axes=1)
        assert np.array_equal(keep[head.landmarks68], z["landmarks68"])
    assert np.abs(head.vertices(ident, expr) - full).max() < 0.002  # cm: float16 rounding stays under 0.02 mm


def test_frontal_neutral_landmarks_sit_on_the_nose_tip_and_eye_corners(head) -> None:
    """In ICT's own frontal view, point 30 is the nose's most forward point and 36/45 the eye openings' outer corners."""
    cam = Camera(pitch=-PITCH_OFFSET)  # undo the pitch calibration: ICT's own frame, looking along -z
    v = head.vertices()
    pts, pix, depth = raw_landmarks(head, v, cam), project(v, cam), camera_points(v, cam)[:, 2]
    face = np.arange(9409)
    tip = face[np.argmin(depth[face])]
    # ICT puts point 30 3 mm above its most forward vertex: 3.2 px at 256 px (IOD ~63 px)
    assert np.linalg.norm(pts[30] - pix[tip]) < 4.0
    boundary = _eye_hole_boundary(head)
    n = head.neutral
    for k, side in ((36, -1.0), (45, 1.0)):  # 36: the subject's right eye, on the image's left
        near = boundary[(np.abs(n[boundary, 1] - n[head.landmarks68[k], 1]) < 1.5) & (side * n[boundary, 0] > 1)
                        & (side * n[boundary, 0] < 6) & (n[boundary, 2] > 6)]
        corner = near[np.argmax(side * pix[near, 0])]
        assert np.linalg.norm(pts[k] - pix[corner]) < 1.0


def test_poses_mean_what_zoo_pose_reads_back(head) -> None:
    v = head.vertices()
    for yaw, pitch in ((0.0, 0.0), (20.0, 0.0), (-20.0, 8.0)):
        est = estimate_pose(raw_landmarks(head, v, Camera(yaw=yaw, pitch=pitch)), (256, 256))
        assert est.yaw == pytest.approx(yaw, abs=2.5) and est.pitch == pytest.approx(pitch, abs=2.5)
    turned = raw_landmarks(head, v, Camera(yaw=30.0))
    assert turned[30, 0] > 128 + 20  # yaw > 0: the nose moves to image right


def test_sampling_is_deterministic_per_seed(head) -> None:
    def draw(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        v = head.vertices(sample_identity(rng), sample_expression(rng, head.ex_names))
        return AnnotatorLandmarks(head)(v, sample_camera(rng))

    assert np.array_equal(draw(5), draw(5))
    assert not np.allclose(draw(5), draw(6))


def test_expressions_co_activate_like_faces_do(head) -> None:
    rng = np.random.default_rng(1)
    w = np.stack([sample_expression(rng, head.ex_names) for _ in range(600)])
    assert w.min() >= 0.0 and w.max() <= 1.0
    col = {n: w[:, head.expression_index(n)] for n in head.ex_names}
    assert np.corrcoef(col["eyeBlink_L"], col["eyeBlink_R"])[0, 1] > 0.7  # blinks are mostly both eyes
    assert np.corrcoef(col["mouthSmile_L"], col["cheekSquint_L"])[0, 1] > 0.3  # smiles lift the cheeks
    assert 0.15 < np.mean(col["jawOpen"] > 0.1) < 0.5  # an open mouth in about a third of faces
    assert np.mean(col["eyeBlink_L"] > 0.5) < 0.3


def test_jaw_marches_to_the_far_silhouette_and_the_near_side_stays(head) -> None:
    v = head.vertices()
    marked, raw = AnnotatorLandmarks(head, Definition(jaw_drop=0.0, arcs=())), AnnotatorLandmarks(head, RAW)  # marching alone
    for yaw, far, near in ((30.0, slice(12, 16), slice(0, 5)), (-30.0, slice(1, 5), slice(12, 17))):
        cam = Camera(yaw=yaw)
        a, r = marked(v, cam), raw(v, cam)
        outward = np.sign(yaw)  # the far side is the image's right for yaw > 0
        assert np.all(outward * (a[far, 0] - r[far, 0]) > 1.0)  # far-side jaw moves out to the outline
        np.testing.assert_allclose(a[near], r[near], atol=1e-9)  # the near side is already on it
    front = Camera()
    a, r = marked(v, front), raw(v, front)
    assert np.all(np.abs(a[:17, 0] - r[:17, 0]) < 1.5)  # frontal: ICT's jaw vertices are on the outline
    assert np.all(a[7:10, 1] >= r[7:10, 1])  # the chin only ever moves down to its lower edge


@pytest.mark.parametrize("yaw", [0.0, 20.0, -20.0])
def test_an_open_mouth_does_not_pull_the_chin_onto_the_lips(head, yaw: float) -> None:
    """The lips' outlines are contours too: they once caught the chin points' rays (7-9 labelled on the lower
    lip, 10 px above point 57, in a fifth of the renderer's faces); only cheek, jaw and chin contours count."""
    e = np.zeros(53)
    e[head.ex_names.index("jawOpen")] = 0.6
    v = head.vertices(np.zeros(60), e)
    cam = Camera(yaw=yaw, focal=1024, distance=1500)
    a, r = AnnotatorLandmarks(head, Definition(arcs=()))(v, cam), raw_landmarks(head, v, cam)
    iod = np.linalg.norm(r[45] - r[36])
    for labels in (a, AnnotatorLandmarks(head)(v, cam)):  # marching alone, and with the points moved along the outline
        assert np.all(labels[7:10, 1] - labels[57, 1] > 0.25 * iod)  # well below the lower lip
    assert np.all(np.linalg.norm(a[7:10] - r[7:10], axis=1) < 0.1 * iod)  # near-frontal: at most to the chin's lower edge


def test_brow_lift_moves_only_the_brows(head) -> None:
    v = head.vertices()
    cam = Camera()
    brows_only = Definition(jaw_outline=False, nose_tip=False, brow_lift=-0.5, jaw_drop=0.0, arcs=())
    low, raw = AnnotatorLandmarks(head, brows_only)(v, cam), raw_landmarks(head, v, cam)
    iod = np.linalg.norm(raw[45] - raw[36])
    drop = (low[17:27, 1] - raw[17:27, 1]) / iod
    assert np.all((drop > 0.04) & (drop < 0.075))  # 5 mm of an ~89 mm IOD, seen nearly head-on
    np.testing.assert_allclose(np.delete(low, np.s_[17:27], axis=0), np.delete(raw, np.s_[17:27], axis=0))


def test_jaw_drop_lowers_the_upper_jaw_and_leaves_the_chin(head) -> None:
    """The annotators start the jaw lower than ICT's vertices (docs/real-faces.md finding 8): 0/16 drop most."""
    v = head.vertices()
    cam = Camera()
    plain = AnnotatorLandmarks(head, Definition(jaw_drop=0.0, arcs=()))(v, cam)
    low = AnnotatorLandmarks(head, Definition(jaw_drop=0.9, arcs=()))(v, cam)
    iod = np.linalg.norm(plain[45] - plain[36])
    down = (low[:17, 1] - plain[:17, 1]) / iod
    assert np.all(down[[0, 16]] > 0.06) and np.all(down[[0, 16]] > down[[3, 13]])  # ~9 mm, largest at the ends
    np.testing.assert_allclose(low[4:13], plain[4:13])  # the lower jaw and chin are where they were
    np.testing.assert_allclose(low[17:], plain[17:])


def test_even_jaw_spaces_the_traced_outline_evenly(head) -> None:
    v = head.vertices()
    even_def = AnnotatorLandmarks(head, Definition(jaw_even=True))

    def spread(pts: np.ndarray) -> float:
        gaps = np.linalg.norm(np.diff(pts[:17], axis=0), axis=1)
        return float(gaps.max() / gaps.min())

    for yaw, limit in ((0.0, 1.05), (15.0, 1.3)):  # turned: the traced outline has small kinks, chords vary a little
        cam = Camera(yaw=yaw)
        even = even_def(v, cam)
        assert spread(even) < limit < spread(raw_landmarks(head, v, cam))
        np.testing.assert_allclose(even[17:], AnnotatorLandmarks(head)(v, cam)[17:])


def test_ablation_sets_are_reproducible() -> None:
    from zoo.synth.shape_ablation import FAR, ict_set

    a, b = ict_set(4, 3, FAR, Definition()), ict_set(4, 3, FAR, Definition())
    assert a.points.shape == (4, 68, 2) and np.array_equal(a.points, b.points)
    assert np.all(np.abs(a.yaws) <= 25) and a.pitches is not None
    assert np.all(np.abs(ict_set(4, 3, FAR, Definition(), max_yaw=10.0).yaws) <= 10)


def test_nose_tip_is_the_point_nearest_the_camera_and_the_bridge_is_evenly_spaced(head) -> None:
    v = head.vertices()
    front = Camera(pitch=-PITCH_OFFSET)
    pts, pix, depth = AnnotatorLandmarks(head)(v, front), project(v, front), camera_points(v, front)[:, 2]
    tip = np.argmin(depth[:9409])
    assert np.linalg.norm(pts[30] - pix[tip]) < 1e-6
    np.testing.assert_allclose(pts[29] - pts[28], pts[28] - pts[27], atol=1e-9)
    turned = Camera(yaw=30.0)
    moved, raw = AnnotatorLandmarks(head)(v, turned), raw_landmarks(head, v, turned)
    assert np.linalg.norm(moved[30] - raw[30]) < 5.0  # the tip as seen stays on the nose's end
