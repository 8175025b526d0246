"""The synthetic renderer: determinism, geometry that agrees with the pose, eyes where the
landmarks say, and the dataset layout other modules read."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from zoo.pose import estimate_pose
from zoo.synth import generate as synth
from zoo.synth.generate import default_dataset, render_face, write_dataset
from zoo.synth.options import RenderOptions

NEUTRAL = {"jaw_open": 0.0, "smile": 0.0, "brows": 0.0, "pucker": 0.0, "eye_close_r": 0.0, "eye_close_l": 0.0,
           "gaze_x": 0.0, "gaze_y": 0.0}


def test_render_is_deterministic_and_well_formed() -> None:
    a = render_face(np.random.default_rng([3, 7]), 128)
    b = render_face(np.random.default_rng([3, 7]), 128)
    assert a[0].dtype == np.uint8 and a[0].shape == (128, 128, 3)
    assert a[1].shape == (70, 2) and np.all(np.isfinite(a[1]))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert json.dumps(a[2]) == json.dumps(b[2])
    c = render_face(np.random.default_rng([3, 8]), 128)
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("yaw", [-60.0, -42.0, -25.0, -8.0, 0.0, 12.0, 33.0, 51.0, 60.0])
def test_solvepnp_recovers_yaw(yaw: float) -> None:
    """On the near camera: solvePnP assumes focal = image width, so a far camera's reading is off by design
    (docs/real-faces.md, finding 6); tests/synth/test_options.py checks the far camera's pitch sign."""
    img, pts, meta = render_face(np.random.default_rng([21, int(yaw) + 100]), 128, RenderOptions.V3, yaw=yaw,
                                 expression=NEUTRAL)
    pose = estimate_pose(pts, (128, 128))
    assert abs(pose.yaw - meta["yaw"]) < 3.0
    assert meta["yaw"] == yaw


def _lum(img: np.ndarray, p: np.ndarray) -> float:
    x, y = int(round(p[0])), int(round(p[1]))
    return float(img[y - 1:y + 2, x - 1:x + 2].astype(np.float32).mean())


@pytest.mark.parametrize("index", range(4))
def test_pupils_darker_than_sclera(index: int) -> None:
    """The classic head's eyes (NEUTRAL is its expression); tests/synth/test_render_ict.py checks ICT's."""
    rng = np.random.default_rng([5, index])
    img, pts, _ = render_face(rng, 256, RenderOptions(head="classic"), yaw=float(rng.uniform(-20, 20)), pitch=0.0, roll=0.0,
                              expression=NEUTRAL,
                              face_frac=0.6, occluded=False, glasses=None)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    for pupil, (outer, inner) in ((68, (36, 39)), (69, (45, 42))):
        sclera = [_lum(grey, 0.5 * (pts[pupil] + pts[c])) for c in (outer, inner)]
        assert _lum(grey, pts[pupil]) < max(sclera)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".yaml"}


def test_write_dataset_layout_and_worker_independence(tmp_path: Path) -> None:
    one = write_dataset(tmp_path / "one", 11, seed=4, workers=1, size=96)
    two = write_dataset(tmp_path / "two", 11, seed=4, workers=2, size=96)
    assert _tree(one.parent) == _tree(two.parent)
    doc = yaml.safe_load(one.read_text())
    assert Path(doc["base_path"]) == one.parent
    faces = [ln for s in ("train", "val", "test") for ln in (one.parent / doc[s]).read_text().split()]
    negs = [ln for s in ("train", "val", "test") for ln in (one.parent / doc["negatives"][s]).read_text().split()]
    assert len(faces) == 10 and len(negs) == 1 and negs[0].startswith("negatives/")
    for rel in faces:
        image = one.parent / rel
        assert cv2.imread(str(image)).shape == (96, 96, 3)
        lines = image.with_name(image.stem + "_ldmks.txt").read_text().splitlines()
        assert len(lines) == 70 and all(len(ln.split()) == 2 for ln in lines)
        meta = json.loads(image.with_name(image.stem + "_meta.json").read_text())
        assert {"yaw", "pitch", "roll", "identity", "expression", "lighting", "occluders"} <= set(meta)
        assert -90 <= meta["yaw"] <= 90 and abs(meta["pitch"] - meta["options"]["pitch_mean"]) <= 30
        assert abs(meta["roll"]) <= 30
    neg = one.parent / negs[0]
    assert neg.exists() and not neg.with_name(neg.stem + "_ldmks.txt").exists()


def test_default_dataset_is_cached_and_rebuilt_when_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    monkeypatch.setitem(synth.KINDS, "tiny", (3, 2, None))
    path = default_dataset("tiny")
    assert path.exists() and (path.parent / synth.MARKER).exists()
    stamp = path.stat().st_mtime_ns
    assert default_dataset("tiny") == path and path.stat().st_mtime_ns == stamp
    (path.parent / synth.MARKER).unlink()  # as if the first run had been interrupted
    (path.parent / "000000.png").unlink()
    assert default_dataset("tiny") == path and (path.parent / "000000.png").exists()
    with pytest.raises(ValueError, match="known kinds"):
        default_dataset("huge")


def test_clip_frames_keep_background_and_person() -> None:
    """Same parameters but another pose (a video frame): background and textures must not change."""
    params = synth.sample_params(np.random.default_rng([6, 1]))
    frames = [synth.render_params(replace(params, yaw=y, face_frac=0.35, offset=(0.0, 0.0), occluded=False), 128)
              for y in (-20.0, 25.0)]
    (a, pa, ma), (b, pb, mb) = frames
    assert np.array_equal(a[:16, :16], b[:16, :16])  # a corner far from the head
    assert not np.array_equal(pa, pb) and ma["identity"] == mb["identity"]


def test_interrupted_write_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    fresh = synth.write_dataset(tmp_path / "fresh", 6, seed=4, workers=1, negatives_fraction=0.34).parent
    resumed = synth.write_dataset(tmp_path / "resumed", 6, seed=4, workers=1, negatives_fraction=0.34).parent
    (resumed / "000001_meta.json").unlink()  # face 1 was being written when the run was killed
    (resumed / "negatives" / "000000.png").unlink()  # so was a negative
    (resumed / "000002_meta.json").write_text("")  # not fsynced before a power cut: renamed but empty
    kept = (resumed / "000000.png").stat().st_mtime_ns
    synth.write_dataset(resumed, 6, seed=4, workers=1, negatives_fraction=0.34)
    assert (resumed / "000000.png").stat().st_mtime_ns == kept  # finished images are not re-rendered
    for f in sorted(fresh.rglob("*")):
        if f.is_file() and f.suffix in (".png", ".txt", ".json") and f.name != synth.RENDER_SETTINGS:
            assert f.read_bytes() == (resumed / f.relative_to(fresh)).read_bytes(), f.name
    with pytest.raises(ValueError, match="other settings"):
        synth.write_dataset(resumed, 6, seed=5, workers=1, negatives_fraction=0.34)


def test_results_label_names_the_render_version_and_any_size_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scores on the renderer's test split carry its version, so a renderer change never mixes old and new rows."""
    from zoo.results import SELECTION_DATASET
    from zoo.synth.generate import RENDER_VERSION, results_label

    monkeypatch.delenv("ZOO_STANDARD_IMAGES", raising=False)
    assert results_label() == SELECTION_DATASET == f"synth-v{RENDER_VERSION}"
    monkeypatch.setenv("ZOO_STANDARD_IMAGES", "500")
    assert results_label() == f"synth-n500-v{RENDER_VERSION}" != SELECTION_DATASET
    assert results_label("test").startswith("synth-test-")


def test_face_texture_is_repeatable_around_its_cached_feature_masks() -> None:
    """Feature masks are drawn once and shared: a face's texture must not depend on the faces drawn before it,
    and the shared masks and label map must be read-only (a stray in-place edit would leak into every face)."""
    from zoo.synth.texture import face_texture, sample_appearance

    app = sample_appearance(np.random.default_rng(1))
    first, label = face_texture(np.random.default_rng(2), app)
    for i in range(5):  # other faces: other brow and lash widths, beards
        face_texture(np.random.default_rng([3, i]), sample_appearance(np.random.default_rng([4, i])))
    again, label2 = face_texture(np.random.default_rng(2), app)
    assert np.array_equal(first, again) and label is label2
    assert not label.flags.writeable
    assert first.min() >= 0 and first.max() <= 1 and set(np.unique(label)) == {0, 1, 2, 3, 4}
