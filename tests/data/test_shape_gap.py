"""The shape gap (``zoo.data.shape_gap``, ``zoo data check --against``) on tiny sets with known offsets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datafiles import face_points, write_300w, write_fs
from typer.testing import CliRunner

from zoo.cli import app
from zoo.data.shape_gap import ShapeSet, eye_frame, load_shapes, plot_gap, shape_gap, with_pnp_pose
from zoo.landmarks import PARTS

runner = CliRunner()


def _faces(yaws: np.ndarray, shift: dict[int, tuple[float, float]] | None = None, seed: int = 0) -> ShapeSet:
    """Mean-face shapes at the given yaws, in pixels, with per-point shifts in IOD units (eye-frame axes)."""
    rng = np.random.default_rng(seed)
    pts = []
    for yaw in yaws:
        p = face_points(yaw=float(yaw))[:68].astype(np.float64)
        iod = np.linalg.norm(p[45] - p[36])
        for k, (dx, dy) in (shift or {}).items():
            p[k] += np.array([dx, dy]) * iod
        p += rng.normal(0, 0.002 * iod, p.shape)  # a little annotation noise
        pts.append(p)
    return ShapeSet(np.stack(pts), np.asarray(yaws, np.float64), "meta")


def test_eye_frame_removes_position_roll_and_scale() -> None:
    p = face_points()[:68].astype(np.float64)
    angle = np.radians(25)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (p @ rot.T) * 1.7 + np.array([40.0, -12.0])
    a, b = eye_frame(np.stack([p, moved]))
    np.testing.assert_allclose(a, b, atol=1e-9)
    np.testing.assert_allclose(a[36], [-0.5, 0.0], atol=1e-9)
    np.testing.assert_allclose(a[45], [0.5, 0.0], atol=1e-9)
    assert a[8, 1] > 0.5  # the chin is below the eyes (y down)


def test_known_jaw_offset_shows_on_the_jaw_only() -> None:
    yaws = np.linspace(-15, 15, 31)
    jaw = {k: (0.0, 0.05) for k in range(*PARTS["jaw"])}  # every jaw point 5 % IOD lower
    gap = shape_gap(_faces(yaws, jaw, seed=1), _faces(yaws, seed=2))
    assert gap.per_part["jaw"] == pytest.approx(5.0, abs=0.3)
    for part in ("brows", "nose", "eyes", "mouth"):
        assert gap.per_part[part] < 0.3, (part, gap.per_part)
    assert gap.parts_ok() == {"jaw": False, "brows": True, "nose": True, "eyes": True, "mouth": True}
    assert np.all(gap.per_point[:17] > 4.5)


def test_faces_beyond_max_yaw_are_left_out() -> None:
    real = _faces(np.linspace(-15, 15, 31), seed=3)
    near = _faces(np.linspace(-15, 15, 31), seed=4)
    # far-turned faces with a huge nose offset: if they were counted, the nose would show it
    far = _faces(np.array([35.0, -40.0, 60.0]), {30: (0.0, 0.5)}, seed=5)
    both = ShapeSet(np.concatenate([near.points, far.points]), np.concatenate([near.yaws, far.yaws]), "meta")
    gap = shape_gap(both, real, max_yaw=20)
    assert gap.n_other == 31 and gap.per_part["nose"] < 0.3
    plain_far = _faces(np.array([35.0, -40.0, 60.0]), seed=12)
    real_turned = ShapeSet(np.concatenate([real.points, plain_far.points]), np.concatenate([real.yaws, plain_far.yaws]), "meta")
    turned = shape_gap(both, real_turned, min_yaw=30, max_yaw=60)  # only the turned faces: the nose offset shows
    assert turned.n_other == 3 and turned.per_part["nose"] > 5


def test_yaw_matching_reweights_the_other_set() -> None:
    """A rendered set that oversamples one yaw bin must not differ from the real set in mean shape for that reason."""
    real = _faces(np.linspace(-19, 19, 39), seed=6)
    skewed = _faces(np.concatenate([np.linspace(-19, 19, 39), np.full(60, 17.0)]), seed=7)
    matched = shape_gap(skewed, real)
    unmatched = shape_gap(skewed, real, match_yaw=False)
    assert matched.per_part["nose"] < unmatched.per_part["nose"] / 2
    assert matched.effective_other < matched.n_other


def test_pitch_matching_compares_like_with_like() -> None:
    """Faces that look down more than the photos differ in proportions; matching pitch removes that."""
    yaws = np.tile(np.linspace(-15, 15, 7), 12)
    real_pitch = np.repeat(np.linspace(-14, -6, 12), 7)
    other_pitch = np.repeat(np.linspace(-25, 25, 12), 7)

    def at(pitches: np.ndarray, seed: int) -> ShapeSet:
        pts = np.stack([face_points(yaw=float(y), pitch=float(p))[:68] for y, p in zip(yaws, pitches, strict=True)])
        return ShapeSet(pts.astype(np.float64), yaws.copy(), "meta", pitches.copy())

    real, other = at(real_pitch, 1), at(other_pitch, 2)
    plain, matched = shape_gap(other, real), shape_gap(other, real, match_pitch=True)
    assert matched.per_part["nose"] < plain.per_part["nose"] / 2
    assert abs(matched.pitch_other - matched.pitch_real) < 3 < abs(plain.pitch_other - plain.pitch_real)
    with pytest.raises(ValueError, match="pitch"):
        shape_gap(ShapeSet(other.points, other.yaws, "meta"), real, match_pitch=True)


def test_mode_spread_compares_variation_along_the_real_modes() -> None:
    """Mouth opening varies twice as much in the 'other' set: its spread on that mode is twice the real one."""
    rng = np.random.default_rng(8)
    yaws = np.zeros(400)

    def with_opening(scale: float, seed: int) -> ShapeSet:
        base = _faces(yaws, seed=seed)
        opening = rng.normal(0, 0.08 * scale, len(yaws))
        iod = np.linalg.norm(base.points[:, 45] - base.points[:, 36], axis=1)
        base.points[:, 56:60, 1] += (opening * iod)[:, None]  # lower lip down
        base.points[:, 65:68, 1] += (opening * iod)[:, None]
        return base

    gap = shape_gap(with_opening(2.0, 9), with_opening(1.0, 10), modes=3)
    assert gap.real_spread[0] > 5 * gap.real_spread[1]  # the opening is the real set's first mode
    assert gap.spread_ratio[0] == pytest.approx(2.0, rel=0.15)
    assert not gap.modes_ok()[0]


def test_plot_is_written(tmp_path: Path) -> None:
    yaws = np.linspace(-10, 10, 11)
    gap = shape_gap(_faces(yaws, {8: (0.0, 0.1)}), _faces(yaws, seed=11))
    out = plot_gap(gap, tmp_path / "plots" / "gap.png")
    assert out.is_file() and out.stat().st_size > 5000


def _write_sets(root: Path) -> tuple[Path, Path]:
    """A rendered-style set (FaceSynthetics + meta yaw) whose lower nose sits 10 % IOD low, and a 300-W set (no meta)."""
    for i, yaw in enumerate(np.linspace(-12, 12, 9)):
        p = face_points(yaw=float(yaw))
        p[30:36, 1] += 0.1 * np.linalg.norm(p[45] - p[36])
        write_fs(root / "synth", f"{i:06d}", p, meta={"yaw": float(yaw), "pitch": 0.0, "roll": 0.0})
        write_300w(root / "real", f"image_{i:04d}", face_points(yaw=float(-yaw))[:68])
    (root / "synth" / "data.yaml").write_text("base_path: .\ntrain: .\n")
    (root / "real" / "faces.yaml").write_text("base_path: .\ntest: .\n")
    return root / "synth" / "data.yaml", root / "real" / "faces.yaml"


def test_load_shapes_reads_meta_yaw_or_solves_pnp(tmp_path: Path) -> None:
    synth, real = _write_sets(tmp_path)
    s, r = load_shapes(synth), load_shapes(real)
    assert s.yaw_source == "meta" and r.yaw_source == "pnp"
    assert s.points.shape == (9, 68, 2) and r.points.shape == (9, 68, 2)
    # solvePnP on the mean face recovers the yaw it was projected with (the 300-W set mirrors the order)
    np.testing.assert_allclose(np.sort(r.yaws), np.sort(s.yaws), atol=1.5)


def test_pnp_pose_ignores_meta_and_reads_every_set_the_same_way(tmp_path: Path) -> None:
    synth, real = _write_sets(tmp_path)
    meta, pnp = load_shapes(synth), load_shapes(synth, pnp=True)
    assert pnp.yaw_source == "pnp" and np.array_equal(meta.points, pnp.points)
    # the written meta yaws are the projection's own; solvePnP on the mean face reads them back
    np.testing.assert_allclose(pnp.yaws, meta.yaws, atol=1.5)
    faces = load_shapes(real)  # the mean face at yaws -12..12, pitch 0, projected with focal = 200 px
    again = with_pnp_pose(ShapeSet(faces.points, np.zeros(len(faces.yaws)), "meta"), (200, 200))
    np.testing.assert_allclose(again.yaws, -meta.yaws, atol=1.5)
    assert again.pitches is not None and np.all(np.abs(again.pitches) < 1.5)
    result = runner.invoke(app, ["data", "check", str(synth), "--against", str(real), "--pnp-pose"], terminal_width=200)
    assert result.exit_code == 0 and "both by solvePnP" in result.output, result.output


def test_check_against_prints_the_gap_and_plots(tmp_path: Path) -> None:
    synth, real = _write_sets(tmp_path)
    plot = tmp_path / "gap.png"
    result = runner.invoke(app, ["data", "check", str(synth), "--against", str(real), "--gap-plot", str(plot)],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    nose = next(ln for ln in result.output.splitlines() if "nose" in ln)
    assert " 6.7 " in nose and "30: 10." in nose and "over" in nose  # 6 of 9 nose points 10 % off: found and flagged
    eyes = next(ln for ln in result.output.splitlines() if " eyes " in ln)
    assert "ok" in eyes
    assert plot.is_file()


def test_check_against_a_missing_yaml_is_one_line(tmp_path: Path) -> None:
    synth, _ = _write_sets(tmp_path)
    result = runner.invoke(app, ["data", "check", str(synth), "--against", str(tmp_path / "nope.yaml")])
    assert result.exit_code != 0
    assert "nope.yaml" in result.output and "Traceback" not in result.output
