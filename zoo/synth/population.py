"""Identity populations of the ICT head: where the renderer centres its identity weights.

Why: a model trained on renders inherits their mean shape. Measured on lfpw-train (issue 25), the
shipped default's per-point mean offsets follow the rendered set's mean-shape gap to the photos
point by point (correlation 0.91 in x, 0.85 in y): narrow jaw corners, a short nose and lower face,
a tall upper lip. ICT's identity prior N(0, 1) is the population of its scans, not of the photos
people point ``zoo`` at. A population moves only the prior's mean (weights ~ N(mean, 1)), so faces
keep ICT's variety and every population draws the same random stream.

``"ict"`` is ICT's own prior (mean 0). ``"lfpw"`` is the mean fitted by ``fit_population`` to the
mean 2D shape (eye frame, |yaw| <= 20, yaw-matched) of half of lfpw-train's annotated faces: a few
dozen numbers describing the population, no pixel of any photo (``populations.json`` records the
fit, its data and its residual; docs/renderer.md says how it was made and checked on the other half).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from zoo.data.shape_gap import ShapeSet, shape_gap, with_pnp_pose
from zoo.synth.ict_head import IDENTITY_MODES
from zoo.synth.options import POPULATIONS

FILE = Path(__file__).with_name("ict") / "populations.json"
#: solvePnP (focal = image width, as for photos) reads a far-camera render's yaw at 0.82 of its true yaw, so
#: faces up to this many times 20 degrees are drawn for a comparison at |solvePnP yaw| <= 20.
PNP_YAW_MARGIN = 1.3


@lru_cache(maxsize=4)
def population_mean(name: str) -> np.ndarray:
    """[IDENTITY_MODES] mean identity weights of a population (zeros for ICT's own prior)."""
    if name not in POPULATIONS:
        raise ValueError(f"unknown population {name!r}; choose one of {', '.join(POPULATIONS)}")
    mean = np.zeros(IDENTITY_MODES)
    if name == "ict":
        return mean
    if not FILE.is_file():
        raise FileNotFoundError(f"{FILE}: the fitted populations are missing; reinstall zoo (they ship as package data)")
    fitted = np.asarray(json.loads(FILE.read_text())[name]["mean"], np.float64)
    mean[: len(fitted)] = fitted
    return mean


def label_shapes(n: int, seed: int = 0, options=None, shift: np.ndarray | None = None,  # noqa: ANN001
                 max_yaw: float = 20.0, size: int = 256) -> tuple[ShapeSet, list]:
    """The labels (no pixels) of ``n`` rendered faces with |yaw| <= ``max_yaw``, drawn as the renderer draws
    them under ``options`` (ICT head), with ``shift`` added to every identity: (shapes, the faces' params)."""
    faces = draw_faces(n, seed, options, max_yaw)
    return shapes_of(faces, shift, size), faces


def draw_faces(n: int, seed: int = 0, options=None, max_yaw: float = 20.0) -> list:  # noqa: ANN001
    """``n`` faces' ``FaceParams`` with |yaw| <= ``max_yaw``, drawn as the renderer draws them under ``options``
    with ICT's own identity prior (a population is added by the caller as a shift)."""
    from zoo.synth.options import DEFAULT
    from zoo.synth.render import sample_params

    options = replace(options or DEFAULT, population="ict")
    if options.head != "ict":
        raise ValueError("only the ICT head has identity populations; pass options with head='ict'")
    faces, i = [], 0
    while len(faces) < n:
        p = sample_params(np.random.default_rng([seed, i, 7]), options)
        i += 1
        if abs(p.yaw) <= max_yaw:
            faces.append(p)
    return faces


def shapes_of(faces: list, shift: np.ndarray | None = None, size: int = 256, definition=None) -> ShapeSet:  # noqa: ANN001
    """A ``ShapeSet`` of the labels of ``faces`` (``FaceParams``) with ``shift`` added to their identities
    (labels of ``definition``, an ``ict_landmarks.Definition``, instead of their options' when given)."""
    from zoo.synth.render import view_of
    from zoo.synth.render_ict import face_labels

    add = np.zeros(IDENTITY_MODES) if shift is None else np.pad(shift, (0, IDENTITY_MODES - len(shift)))
    pts = np.stack([face_labels(np.asarray(f.identity) + add, f.expression, view_of(f, size), size,
                                definition or f.options.labels) for f in faces])
    return ShapeSet(pts, np.array([f.yaw for f in faces]), "meta", np.array([f.pitch for f in faces]))


@dataclass
class PopulationFit:
    """A fitted population mean and how well it closes the gap (per-point mean gap, % IOD)."""

    mean: np.ndarray  # [modes]
    gap_before: float  # mean over the 68 points of |mean shape difference|, % IOD
    gap_after: float
    per_point_before: np.ndarray  # [68]
    per_point_after: np.ndarray


def fit_population(real: ShapeSet, modes: int = 20, faces: int = 800, seed: int = 0, ridge: float = 0.1,
                   steps: int = 2, step: float = 0.5, options=None, match_pitch: bool = True) -> PopulationFit:  # noqa: ANN001
    """The identity mean (leading ``modes`` weights) whose renders' mean 2D shape best matches ``real``'s.

    Both sets are posed by solvePnP on their points (``with_pnp_pose``): a photo's pose can only be
    read that way, and reading a render's the same way compares faces turned alike; ``match_pitch`` also
    weights them to the photos' pitch mix, so that the mean does not mimic a pose difference with
    shape (fitted at matched yaw only, it shortened the lower face where the photos look further
    down, and the mouth's gap at matched pitch grew from 1.1 to 2.5 % IOD). Gauss-Newton on
    the mean-shape difference in the eye frame (``zoo.data.shape_gap``: |yaw| <= 20,
    renders weighted to the real set's yaw mix), with a finite-difference Jacobian on a fixed sample
    of faces (the same faces for every perturbation, so sampling noise cancels) and a ridge of
    ``ridge`` per unit weight squared that keeps the mean a plausible population (|mean| well
    inside ICT's N(0, 1))."""
    base, drawn = label_shapes(faces, seed, options, max_yaw=PNP_YAW_MARGIN * 20.0)
    posed = with_pnp_pose(base, (256, 256))  # posed once: the same faces compare with the same photos throughout

    def mean_gap(shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shapes = shapes_of(drawn, shift)
        g = shape_gap(ShapeSet(shapes.points, posed.yaws, "pnp", posed.pitches), real, match_pitch=match_pitch)
        return (g.mean_other - g.mean_real).reshape(-1), g.per_point

    mean = np.zeros(modes)
    r0, before = mean_gap(mean)
    r = r0
    for _ in range(steps):
        jac = np.stack([(mean_gap(mean + step * np.eye(modes)[k])[0] - r) / step for k in range(modes)], axis=1)
        lam = ridge * float(np.mean(np.sum(jac**2, axis=0)))  # the ridge in units of a mode's typical pull
        mean = mean + np.linalg.solve(jac.T @ jac + lam * np.eye(modes), -jac.T @ r - lam * mean)
        r, after = mean_gap(mean)
    return PopulationFit(mean, float(before.mean()), float(after.mean()), before, after)


def fit_arcs(real: ShapeSet, faces: int = 400, seed: int = 1, steps: int = 3, max_yaw: float = 20.0,
             options=None) -> dict[str, tuple[float, ...]]:  # noqa: ANN001
    """The annotators' positions along each semi-landmark chain (``ict_landmarks.CHAINS``): chord fractions.

    The target is the mean chord fraction of each point over ``real``'s faces with |yaw| <= ``max_yaw``.
    A label placed at fraction f along its chain's curve on the head has another chord fraction in
    the image (the chord cuts the curve, the projection foreshortens it, the jaw is marched), so the
    placement is corrected ``steps`` times by the difference measured on renders' labels."""
    from zoo.synth.ict_landmarks import CHAINS, Definition, chord_fractions

    near = np.abs(real.yaws) <= max_yaw
    target = {name: chord_fractions(real.points[near][:, list(chain)]).mean(0) for name, chain in CHAINS.items()}
    drawn = draw_faces(faces, seed, options, max_yaw)
    arcs = dict(target)
    for _ in range(steps):
        definition = Definition(arcs=tuple((n, tuple(float(x) for x in f)) for n, f in arcs.items()))
        pts = shapes_of(drawn, definition=definition).points
        for name, chain in CHAINS.items():
            got = chord_fractions(pts[:, list(chain)]).mean(0)
            arcs[name] = np.clip(arcs[name] + target[name] - got, 0.0, 1.0)
    return {n: tuple(round(float(x), 4) for x in f) for n, f in arcs.items()}
