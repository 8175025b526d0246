"""The training dataset: crop, geometry that keeps points on their content, flip, determinism."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from datafiles import face_points, noise_image, write_fs

from zoo.data.dataset import LandmarkDataset, crop_and_resize, crop_box, normalize, rotate_pose
from zoo.data.formats import DatasetError, Sample, read_facesynthetics
from zoo.landmarks import flip_permutation
from zoo.pose import estimate_pose

S = 96


def dot_dataset(tmp_path: Path, k: int, **kw) -> LandmarkDataset:
    """One face on a black image with a bright dot drawn at landmark ``k`` only."""
    pts = face_points(size=200)
    image = np.zeros((200, 200, 3), np.uint8)
    cv2.circle(image, (round(float(pts[k, 0])), round(float(pts[k, 1]))), 3, (255, 255, 255), -1, lineType=cv2.LINE_AA)
    pts[k] = np.round(pts[k])  # the dot's centre is on the pixel grid
    write_fs(tmp_path, "dot", pts, image)
    return LandmarkDataset(read_facesynthetics(tmp_path), S, photometric_aug=False, **kw)


def bright_centre(image: torch.Tensor) -> np.ndarray:
    """Centroid (x, y) in crop pixels of the pixels brighter than half the maximum."""
    grey = image.numpy().mean(axis=0) + 1
    ys, xs = np.nonzero(grey > grey.max() / 2)
    w = grey[ys, xs]
    return np.array([(xs * w).sum() / w.sum(), (ys * w).sum() / w.sum()])


def to_px(landmarks: torch.Tensor) -> np.ndarray:
    return (landmarks.numpy() + 0.5) * S


def test_inference_crop_is_centred_square_1_5() -> None:
    pts = face_points()
    box = crop_box(pts)
    lo, hi = pts.min(0), pts.max(0)
    assert box[2] - box[0] == pytest.approx(box[3] - box[1])
    assert box[2] - box[0] == pytest.approx(1.5 * max(hi - lo))
    np.testing.assert_allclose((box[:2] + box[2:]) / 2, (lo + hi) / 2)
    rng = np.random.default_rng(0)
    for _ in range(200):
        b = crop_box(pts, rng)
        side = b[2] - b[0]
        assert 1.4 * max(hi - lo) - 1e-6 <= side <= 1.6 * max(hi - lo) + 1e-6
        assert np.all(np.abs((b[:2] + b[2:]) / 2 - (lo + hi) / 2) <= 0.2 * side + 1e-6)


@pytest.mark.parametrize("size", [200, 800])  # 800: the crop shrinks > 2x, through pyrDown
def test_crop_and_resize_maps_points_onto_content(size: int) -> None:
    pts = face_points(size=size)
    image = np.zeros((size, size, 3), np.uint8)
    dot = np.array([0.5, 0.3]) * size
    cv2.circle(image, (round(dot[0]), round(dot[1])), size // 60, (255, 255, 255), -1)
    crop, m = crop_and_resize(image, crop_box(pts), S)
    expected = m[:, :2] @ dot + m[:, 2]
    got = bright_centre(torch.from_numpy(normalize(crop)))
    assert np.linalg.norm(got - expected) < 0.5
    assert crop.shape == (S, S, 3) and crop.dtype == np.uint8


@pytest.mark.parametrize("k", [8, 30, 36, 45, 68])
def test_augmentation_keeps_points_on_their_content(tmp_path: Path, k: int) -> None:
    ds = dot_dataset(tmp_path, k, train=True, affine=True, flip=True)
    partner = int(flip_permutation(70)[k])
    flips = 0
    for epoch in range(12):
        item = ds[(epoch, 0)]
        pts = to_px(item["landmarks"])
        if not np.all((pts[[k, partner]] > 4) & (pts[[k, partner]] < S - 4)):
            continue  # a dot cut by the crop's edge has a biased centroid
        found = bright_centre(item["image"])
        # after a flip the dot's content carries the mirrored index
        near = int(np.argmin(np.linalg.norm(pts - found, axis=1)))
        assert np.linalg.norm(pts[near] - found) < 1.0, (epoch, near, pts[near], found)
        assert near in (k, partner)
        flips += near != k
    assert 0 < flips < 12 or k == partner


def test_flip_swaps_left_and_right(tmp_path: Path) -> None:
    ds = dot_dataset(tmp_path, 36, train=True, affine=False, flip=True)
    seen = set()
    for epoch in range(16):
        item = ds[(epoch, 0)]
        pts = to_px(item["landmarks"])
        # a frontal face stays a frontal face: the subject's right eye (36-41, pupil 68) is on the image left
        assert pts[36, 0] < pts[45, 0] and pts[39, 0] < pts[42, 0]
        assert np.linalg.norm(pts[68] - pts[36:42].mean(0)) < np.linalg.norm(pts[68] - pts[42:48].mean(0))
        assert pts[0, 0] < pts[16, 0] and pts[48, 0] < pts[54, 0]
        dot = bright_centre(item["image"])
        flipped = np.linalg.norm(dot - pts[45]) < 1.0
        assert flipped or np.linalg.norm(dot - pts[36]) < 1.0
        seen.add(flipped)
    assert seen == {True, False}


def test_flip_negates_yaw_and_roll(tmp_path: Path) -> None:
    pts = face_points(yaw=30, roll=10)
    write_fs(tmp_path, "a", pts, noise_image(), meta={"yaw": 30.0, "pitch": 5.0, "roll": 10.0})
    ds = LandmarkDataset(read_facesynthetics(tmp_path), S, train=True, affine=False, flip=True)
    poses = {tuple(np.round(ds[(e, 0)]["pose"].numpy() * 90, 3)) for e in range(12)}
    assert poses == {(30.0, 5.0, 10.0), (-30.0, 5.0, -10.0)}
    assert ds[(0, 0)]["has_pose"].item() == 1.0


def test_rotate_pose_matches_solvepnp_on_rotated_points() -> None:
    pts = face_points(yaw=20, pitch=10, roll=0)
    for angle in (15.0, -25.0):
        c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        rotated = (pts[:68] - 100) @ np.array([[c, -s], [s, c]]).T + 100  # about the principal point
        est = estimate_pose(rotated, (200, 200))
        np.testing.assert_allclose(rotate_pose((20.0, 10.0, 0.0), angle), (est.yaw, est.pitch, est.roll), atol=0.05)


def test_pose_roll_follows_the_affine_rotation(tmp_path: Path) -> None:
    """With rotation augmentation the roll target is the tilt of the eye line in the crop."""
    write_fs(tmp_path, "a", face_points(), noise_image(), meta={"yaw": 0.0, "pitch": 0.0, "roll": 0.0})
    ds = LandmarkDataset(read_facesynthetics(tmp_path), S, train=True, affine=True, flip=True, rotate=30)
    rolls = []
    for epoch in range(10):
        item = ds[(epoch, 0)]
        pts = to_px(item["landmarks"])
        tilt = np.degrees(np.arctan2(pts[45, 1] - pts[36, 1], pts[45, 0] - pts[36, 0]))
        rolls.append(item["pose"][2].item() * 90)
        assert rolls[-1] == pytest.approx(tilt, abs=1.0), epoch
    assert max(np.abs(rolls)) > 5


def test_items_have_the_contract_shapes(good_dataset: Path) -> None:
    from zoo.data.formats import load_dataset_yaml

    samples = load_dataset_yaml(good_dataset, "train", negatives=True)
    ds = LandmarkDataset(samples, S, train=True, affine=True)
    face, neg = ds[0], ds[len(ds) - 1]
    assert face["image"].shape == (3, S, S) and face["image"].dtype == torch.float32
    assert face["image"].min() >= -1.0 and face["image"].max() <= 1.0
    assert face["landmarks"].shape == (70, 2) and face["is_face"].tolist() == [1.0]
    assert neg["is_face"].tolist() == [0.0] and neg["has_pose"].tolist() == [0.0]
    assert torch.count_nonzero(neg["landmarks"]) == 0 and neg["image"].shape == (3, S, S)
    val = LandmarkDataset(load_dataset_yaml(good_dataset, "val"), S, num_points=68, train=False)
    assert val[0]["landmarks"].shape == (68, 2) and val[0]["has_pose"].item() == 0.0


def test_eval_mode_is_the_inference_crop(good_dataset: Path) -> None:
    from zoo.data.formats import load_dataset_yaml

    samples = load_dataset_yaml(good_dataset, "train")
    ds = LandmarkDataset(samples, S, train=False)
    a, b = ds[(0, 1)], ds[(7, 1)]
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["landmarks"], b["landmarks"])
    image = cv2.cvtColor(cv2.imread(str(samples[1].image_path)), cv2.COLOR_BGR2RGB)
    crop, m = crop_and_resize(image, crop_box(samples[1].landmarks), S)
    assert torch.equal(a["image"], torch.from_numpy(normalize(crop)))
    np.testing.assert_allclose(to_px(a["landmarks"]), samples[1].landmarks @ m[:, :2].T + m[:, 2], atol=1e-3)


def test_deterministic_per_seed_epoch_index(good_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    from zoo.data.formats import load_dataset_yaml

    samples = load_dataset_yaml(good_dataset, "train", negatives=True)
    ds = LandmarkDataset(samples, S, train=True, affine=True, seed=3)
    again = LandmarkDataset(samples, S, train=True, affine=True, seed=3)
    other = LandmarkDataset(samples, S, train=True, affine=True, seed=4)
    assert torch.equal(ds[(2, 1)]["image"], again[(2, 1)]["image"])
    assert torch.equal(ds[(2, 1)]["landmarks"], again[(2, 1)]["landmarks"])
    assert not torch.equal(ds[(2, 1)]["image"], ds[(3, 1)]["image"])
    assert not torch.equal(ds[(2, 1)]["image"], other[(2, 1)]["image"])
    ds.set_epoch(2)
    assert torch.equal(ds[1]["image"], again[(2, 1)]["image"])
    # worker count and image cache never change a sample
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    cached = LandmarkDataset(samples, S, train=True, affine=True, seed=3, cache="memmap")
    keys = [(2, i) for i in range(len(ds))]
    serial = [ds[k] for k in keys]
    loader = torch.utils.data.DataLoader(cached, batch_size=2, num_workers=2, sampler=keys)
    batches = list(loader)
    images = torch.cat([b["image"] for b in batches])
    assert torch.equal(images, torch.stack([s["image"] for s in serial]))
    assert list((tmp_path / "cache" / "decoded").glob("*.u8"))


def test_too_few_points_is_a_one_line_error() -> None:
    sample = Sample(Path("x.png"), face_points()[:68], {})
    with pytest.raises(DatasetError, match="68 landmarks, the model needs 70"):
        LandmarkDataset([sample], S)


@pytest.mark.parametrize("cache", [None, "ram", "memmap"])
def test_resolution_cap_keeps_points_on_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: str | None) -> None:
    """An 800 px image stored at most 300 px: the dot still sits under its landmark, in every cache mode."""
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    pts = face_points(size=800)
    image = np.zeros((800, 800, 3), np.uint8)
    cv2.circle(image, (round(float(pts[30, 0])), round(float(pts[30, 1]))), 10, (255, 255, 255), -1, lineType=cv2.LINE_AA)
    pts[30] = np.round(pts[30])
    write_fs(tmp_path / "big", "big", pts, image)
    samples = read_facesynthetics(tmp_path / "big")
    capped = LandmarkDataset(samples, S, affine=True, photometric_aug=False, cache=cache, max_side=300)
    assert capped.images[0][0].shape == (300, 300, 3) and capped.images[0][1] == pytest.approx(300 / 800)
    for epoch in range(4):
        item = capped[(epoch, 0)]
        found = bright_centre(item["image"])
        assert np.linalg.norm(to_px(item["landmarks"])[30] - found) < 1.0
    if cache is not None:
        plain = LandmarkDataset(samples, S, affine=True, photometric_aug=False, max_side=300)
        assert torch.equal(plain[(1, 0)]["image"], capped[(1, 0)]["image"])


def test_resolution_cap_keeps_the_crop_where_the_full_image_puts_it(tmp_path: Path) -> None:
    """A stored (INTER_AREA-shrunk) image is mapped with resize's half-pixel centres: its crop matches the full one's."""
    pts = face_points(size=800)
    image = np.zeros((800, 800, 3), np.uint8)
    cv2.circle(image, (400, 400), 60, (255, 255, 255), -1, lineType=cv2.LINE_AA)
    write_fs(tmp_path / "big", "big", pts, image)
    samples = read_facesynthetics(tmp_path / "big")
    full = LandmarkDataset(samples, 160, train=False, photometric_aug=False)
    capped = LandmarkDataset(samples, 160, train=False, photometric_aug=False, max_side=100)  # 8x smaller
    a, b = bright_centre(full[0]["image"]), bright_centre(capped[0]["image"])
    assert np.linalg.norm(a - b) < 0.1, (a, b)  # mapping stored pixel j to j/scale would shift it ~0.7 crop px


def test_strong_photometric_recipe_changes_pixels_not_points(good_dataset: Path) -> None:
    """``strong`` draws other pixels than ``standard`` from the same seed, moves no landmark, and is
    repeatable per (seed, epoch, index) like every other random choice."""
    from zoo.data.formats import load_dataset_yaml

    samples = load_dataset_yaml(good_dataset, "train")
    standard = LandmarkDataset(samples, S, train=True, affine=True, seed=5)
    strong = LandmarkDataset(samples, S, train=True, affine=True, seed=5, photometric="strong")
    again = LandmarkDataset(samples, S, train=True, affine=True, seed=5, photometric="strong")
    keys = [(e, i) for e in range(4) for i in range(len(samples))]
    assert all(torch.equal(standard[k]["landmarks"], strong[k]["landmarks"]) for k in keys)
    assert all(torch.equal(strong[k]["image"], again[k]["image"]) for k in keys)
    assert sum(not torch.equal(standard[k]["image"], strong[k]["image"]) for k in keys) > len(keys) // 2
    with pytest.raises(ValueError, match="photometric recipe must be one of"):
        LandmarkDataset(samples, S, photometric="heavy")
