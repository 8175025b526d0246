"""zoo.synth.options: what each RenderOptions changes, that V3 draws version 3's faces, and that options are
recorded wherever a set is described (meta, settings, YAML, folder and results names)."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from zoo.pose import estimate_pose
from zoo.synth import RENDER_VERSION
from zoo.synth import generate as synth
from zoo.synth import head_parts as parts
from zoo.synth.head_deform import sample_expression, sample_identity
from zoo.synth.options import DEFAULT, RenderOptions
from zoo.synth.render import FaceParams, render_face, sample_params, sample_pose
from zoo.synth.shade import sample_lighting
from zoo.synth.texture import sample_appearance

NEUTRAL = {"jaw_open": 0.0, "smile": 0.0, "brows": 0.0, "pucker": 0.0, "eye_close_r": 0.0, "eye_close_l": 0.0,
           "gaze_x": 0.0, "gaze_y": 0.0}
OPTION_SETS = [RenderOptions.V3, DEFAULT, RenderOptions(camera="near", pitch_mean=-7.6),
               RenderOptions(camera="far", pitch_mean=0)]


def _v3_sample_params(rng: np.random.Generator) -> FaceParams:
    """RENDER_VERSION 3's sample_params, kept verbatim (its ranges and draw order) as the reference."""
    ident, expr = sample_identity(rng), sample_expression(rng)
    app = sample_appearance(rng)
    hair = parts.sample_hair(rng)
    lt = sample_lighting(rng)
    yaw = float(rng.uniform(-90, 90))
    if rng.uniform() < 0.7:
        pitch, roll = float(np.clip(rng.normal(0, 11), -30, 30)), float(np.clip(rng.normal(0, 8), -30, 30))
    else:
        pitch, roll = float(rng.uniform(-30, 30)), float(rng.uniform(-30, 30))
    body = (float(yaw * rng.uniform(0.2, 0.8) + rng.normal(0, 8)), float(rng.normal(0, 4)), float(rng.normal(0, 4)))
    r = rng.uniform()
    wear = None if r > 0.12 else "sunglasses" if r < 0.03 else "glasses"
    return FaceParams(ident, expr, app, hair, lt, yaw, pitch, roll, body, float(rng.uniform(1.0, 1.5)),
                      float(rng.uniform(0.36, 0.62)), (float(rng.normal(0, 0.07)), float(rng.normal(0, 0.07))), wear,
                      bool(rng.uniform() < 0.25), int(rng.integers(2**31)))


def _same(a: object, b: object) -> bool:
    return json.dumps(a, sort_keys=True, default=lambda o: o.to_dict() if hasattr(o, "to_dict") else repr(o)) == \
        json.dumps(b, sort_keys=True, default=lambda o: o.to_dict() if hasattr(o, "to_dict") else repr(o))


@pytest.mark.parametrize("seed", [0, 1, 7, 123, 2026])
def test_v3_options_draw_exactly_the_version_3_params(seed: int) -> None:
    new = sample_params(np.random.default_rng([seed, 5]), RenderOptions.V3)
    old = _v3_sample_params(np.random.default_rng([seed, 5]))
    for f in fields(FaceParams):
        if f.name != "options":
            assert _same(getattr(new, f.name), getattr(old, f.name)), f.name
    assert new.options == RenderOptions.V3


#: The classic head with version 4's camera and pitch (DEFAULT's head is ICT's, which draws its own identities).
CLASSIC_FAR = RenderOptions(head="classic", camera="far", pitch_mean=-7.6)


def test_camera_and_pitch_options_keep_the_stream_aligned() -> None:
    """Same number and order of draws for every camera and pitch: everything but focal and pitch stays the same face."""
    near = sample_params(np.random.default_rng(4), RenderOptions.V3)
    far = sample_params(np.random.default_rng(4), CLASSIC_FAR)
    assert far.seed == near.seed and far.yaw == near.yaw and _same(far.identity, near.identity)
    assert far.pitch == pytest.approx(near.pitch + CLASSIC_FAR.pitch_mean)


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: f"{o.camera}{o.pitch_mean:g}")
def test_render_is_deterministic_per_seed_for_each_option_set(options: RenderOptions) -> None:
    a = render_face(np.random.default_rng([9, 2]), 96, options)
    b = render_face(np.random.default_rng([9, 2]), 96, options)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and json.dumps(a[2]) == json.dumps(b[2])
    assert a[2]["options"] == options.to_dict()


def test_pitch_centre_moves_to_pitch_mean() -> None:
    base = np.array([sample_pose(np.random.default_rng([0, i]))[1] for i in range(4000)])
    shifted = np.array([sample_pose(np.random.default_rng([0, i]), -7.6)[1] for i in range(4000)])
    assert np.allclose(shifted - base, -7.6)
    assert abs(base.mean()) < 0.6 and abs(shifted.mean() + 7.6) < 0.6
    assert shifted.min() >= -37.6 and shifted.max() <= 22.4
    pitches = [sample_params(np.random.default_rng([1, i]), DEFAULT).pitch for i in range(600)]
    assert abs(np.mean(pitches) - DEFAULT.pitch_mean) < 1.5, np.mean(pitches)


def test_far_camera_draws_focal_lengths_of_3_to_6_image_widths() -> None:
    far = [sample_params(np.random.default_rng([2, i]), RenderOptions(camera="far")).focal_scale for i in range(300)]
    near = [sample_params(np.random.default_rng([2, i]), RenderOptions(camera="near")).focal_scale for i in range(300)]
    assert min(far) >= 3.0 and max(far) <= 6.0 and max(far) - min(far) > 2.5
    assert min(near) >= 1.0 and max(near) <= 1.5
    _, _, meta = render_face(np.random.default_rng(3), 128, RenderOptions(camera="far"))
    assert 3.0 * 128 <= meta["focal"] <= 6.0 * 128
    assert 150 * 3.0 / 0.62 <= meta["tvec"][2] <= 150 * 6.0 / 0.36  # mm: a 150 mm face 36-62 % of the image wide


@pytest.mark.parametrize("options", [RenderOptions.V3, CLASSIC_FAR], ids=["near", "far"])
def test_rendered_pitch_and_solvepnp_pitch_agree_in_sign(options: RenderOptions) -> None:
    """The docstring's convention: negative pitch looks down, both in _meta.json and in zoo.pose's reading."""
    for pitch in (-10.0, 10.0):
        _, pts, meta = render_face(np.random.default_rng(3), 256, options, yaw=0.0, pitch=pitch, roll=0.0, expression=NEUTRAL)
        read = estimate_pose(pts, (256, 256)).pitch
        assert meta["pitch"] == pitch and np.sign(read) == np.sign(pitch) and abs(read - pitch) < 3.5


def test_options_validate_and_round_trip() -> None:
    for bad in ({"head": "cartoon"}, {"camera": "mid"}, {"labels": "mine"}, {"pitch_mean": 45.0},
                {"pitch_mean": float("nan")}):
        with pytest.raises(ValueError):
            RenderOptions(**bad)
    assert RenderOptions.from_dict(DEFAULT.to_dict()) == DEFAULT
    assert RenderOptions.V3 != DEFAULT and RenderOptions.V3.key() != DEFAULT.key()
    assert RenderOptions(pitch_mean=-7) == RenderOptions(pitch_mean=-7.0)


def test_options_are_recorded_and_a_resume_with_others_is_refused(tmp_path: Path) -> None:
    opts = RenderOptions(camera="near", pitch_mean=-3.0)
    path = synth.write_dataset(tmp_path / "set", 3, seed=1, workers=1, negatives_fraction=0.34, size=64, options=opts)
    doc = yaml.safe_load(path.read_text())
    assert doc["synth"]["options"] == opts.to_dict() and doc["synth"]["render_version"] == RENDER_VERSION
    assert json.loads((path.parent / synth.RENDER_SETTINGS).read_text())["options"] == opts.to_dict()
    meta = json.loads((path.parent / "000000_meta.json").read_text())
    assert meta["options"] == opts.to_dict()
    synth.write_dataset(tmp_path / "set", 3, seed=1, workers=1, negatives_fraction=0.34, size=64, options=opts)  # resumes
    with pytest.raises(ValueError, match="other settings"):
        synth.write_dataset(tmp_path / "set", 3, seed=1, workers=1, negatives_fraction=0.34, size=64,
                            options=replace(opts, camera="far"))


def test_default_sets_are_named_by_their_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    monkeypatch.delenv("ZOO_STANDARD_IMAGES", raising=False)
    written: list[tuple[Path, RenderOptions]] = []

    def fake_write(folder: Path, images: int, seed: int, options: RenderOptions = DEFAULT) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        written.append((folder, options))
        return folder / "dataset.yaml"

    monkeypatch.setattr(synth, "write_dataset", fake_write)
    default = synth.default_dataset("tiny")
    v3 = synth.default_dataset("tiny", RenderOptions.V3)
    assert default.parent.name == f"synth-tiny-n64-s2-v{RENDER_VERSION}"
    assert v3.parent.name == f"synth-tiny-n64-s2-o{RenderOptions.V3.key()}-v{RENDER_VERSION}"
    assert [o for _, o in written] == [DEFAULT, RenderOptions.V3]
    assert synth.results_label() == f"synth-v{RENDER_VERSION}"
    assert synth.results_label(options=RenderOptions.V3) == f"synth-o{RenderOptions.V3.key()}-v{RENDER_VERSION}"


def test_a_cached_default_set_of_other_options_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DEFAULT changed without a RENDER_VERSION bump must not silently reuse the old default's cached set."""
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    folder = tmp_path / f"synth-tiny-n64-s2-v{RENDER_VERSION}"
    folder.mkdir()
    (folder / synth.MARKER).write_text(json.dumps({"images": 64, "seed": 2, "options": RenderOptions.V3.to_dict()}))
    with pytest.raises(ValueError, match="rendered with other options"):
        synth.default_dataset("tiny")
    (folder / synth.MARKER).write_text(json.dumps({"images": 64, "seed": 2, "options": DEFAULT.to_dict()}))
    assert synth.default_dataset("tiny") == folder / "dataset.yaml"  # the same options: reused, nothing rendered
