"""Which landmark model the tracker runs, and the predictor that runs it stage by stage.

The shipped default comes from one function, ``default_model()``:

1. ``zoo/weights/DEFAULT`` (a file naming one checkpoint there), else the first ``*.pt`` in
   ``zoo/weights/`` by name: the zoo's own trained weights once they ship;
2. else fdfat's LW checkpoint, when ``../shared/peers/fdfat`` sits beside the checkout: imported
   once (``zoo.checkpoints.fdfat_import``) into the cache folder, never into the project;
3. else a ``ModelError`` saying to pass ``--model``.

``--budget-ms`` asks ``zoo.results.select_model`` for the most accurate variant that fits on
this host (real-photo NME where measured, ``zoo.results.accuracy_key``); a chosen *variant* still
needs weights, so the pick maps to a shipped checkpoint of that variant and falls back to the
default (saying so) when none ships.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import zoo
from zoo import weights as shipped

WEIGHTS_DIR = shipped.WEIGHTS_DIR
FDFAT_LW = Path(zoo.__file__).resolve().parents[1].parent / "shared" / "peers" / "fdfat" / "LWModel_ReLU6_affine_cls" / "best.pt"


class ModelError(ValueError):
    """No usable landmark model (nothing shipped, a bad path, a variant without weights)."""


@dataclass
class ModelPick:
    """A model to load (checkpoint or artifact path, or variant name) and why it was chosen."""

    spec: str
    reason: str


def shipped_weights() -> list[Path]:
    """Checkpoints in ``zoo/weights/``, the DEFAULT one first."""
    return shipped.shipped_weights(WEIGHTS_DIR)


def default_model() -> ModelPick:
    """The shipped default (see the module docstring for the order)."""
    weights = shipped_weights()
    if weights:
        return ModelPick(str(weights[0]), f"shipped default zoo/weights/{weights[0].name}")
    if FDFAT_LW.is_file():
        from zoo.checkpoints.fdfat_import import IMPORT_LAYOUT
        from zoo.data import cache_dir

        out = cache_dir() / "fdfat" / f"lw-relu6-affine-cls-layout{IMPORT_LAYOUT}.pt"
        if not out.is_file():
            from zoo.checkpoints.fdfat_import import import_fdfat

            out.parent.mkdir(parents=True, exist_ok=True)
            import_fdfat(FDFAT_LW, out)
        return ModelPick(str(out), f"no zoo weights ship yet: fdfat's LW checkpoint imported from {FDFAT_LW} into {out}")
    raise ModelError(f"no shipped weights in {WEIGHTS_DIR} and no fdfat checkpoint at {FDFAT_LW}; pass --model CHECKPOINT")


def shipped_variants() -> dict[str, tuple[Path, str]]:
    """Variant name -> (shipped checkpoint, its sha256): the first one per variant, DEFAULT first."""
    from zoo.checkpoints.checkpoint import load_checkpoint

    out: dict[str, tuple[Path, str]] = {}
    for path in shipped_weights():
        try:
            ck = load_checkpoint(path)
        except Exception:  # noqa: BLE001 - an unreadable shipped file is simply not a candidate
            continue
        out.setdefault(ck.spec.name, (path, ck.sha256))
    return out


def choose_model(model: str | None, budget_ms: float | None, backend: str) -> tuple[ModelPick, list[str]]:
    """The model to track with and the lines explaining the choice (printed by ``zoo track``)."""
    notes: list[str] = []
    if model:
        return ModelPick(model, f"--model {model}"), notes
    if budget_ms is not None:
        from zoo.results import select_model

        shipped = shipped_variants()
        # variant -> sha256: the accuracy that ranks a variant is that of the checkpoint that ships for it
        choice = select_model(budget_ms, backend, only={v: sha for v, (_, sha) in shipped.items()} if shipped else None)
        notes.append(f"--budget-ms {budget_ms:g}: {choice.reason}")
        if choice.variant and choice.variant in shipped:
            path = shipped[choice.variant][0]
            return ModelPick(str(path), f"{choice.variant} within {budget_ms:g} ms ({path.name})"), notes
        if choice.variant:
            notes.append(f"{choice.variant} has no shipped weights in zoo/weights/; using the shipped default")
        else:
            notes.append("falling back to the shipped default")
    return default_model(), notes


@dataclass
class StagedPrediction:
    landmarks: np.ndarray  # the network's own points (image px): the tracker crops, smooths and poses on these
    face_score: float | None
    box: np.ndarray
    pose: Any = None
    reported: np.ndarray | None = None  # an adapted model's points in its target convention (image px)


class TrackingPredictor:
    """``zoo.predict.Predictor`` as the tracker uses it: a crop box in, landmarks out, each stage timed.

    The tracker already holds the crop box (from the previous landmarks, shifted by the face's
    motion), so this runs the predictor's own steps on it: training's ``crop_and_resize`` +
    ``normalize`` (``crop``), ``Predictor.predict_batch`` and the exact inverse affine
    (``landmarks``, face score included). Pose is left to the tracker, which seeds solvePnP with
    the track's previous pose.
    """

    def __init__(self, predictor: Any) -> None:
        self.predictor = predictor
        self.size = int(predictor.input_size)
        self.name = getattr(predictor, "label", "") or "model"

    def predict_stages(self, image_rgb: np.ndarray, box: np.ndarray) -> tuple[StagedPrediction, dict[str, float]]:
        from zoo.data.dataset import crop_and_resize, normalize
        from zoo.predict import crop_to_image

        t0 = time.perf_counter()
        pixels, matrix = crop_and_resize(image_rgb, box, self.size)
        x = normalize(pixels)[None]
        t1 = time.perf_counter()
        out = self.predictor.predict_batch(x)
        points = crop_to_image(out["landmarks"][0], matrix, self.size)
        own, reported = points, None
        if "source_landmarks" in out:  # an adapted model: track on its own 70 points, report the target's
            own, reported = crop_to_image(out["source_landmarks"][0], matrix, self.size), points
        score = float(out["face_score"][0, 0]) if "face_score" in out else None
        t2 = time.perf_counter()
        return (StagedPrediction(own, score, np.asarray(box), reported=reported),
                {"crop": (t1 - t0) * 1e3, "landmarks": (t2 - t1) * 1e3})

    def predict(self, image_rgb: np.ndarray, box: np.ndarray) -> StagedPrediction:
        return self.predict_stages(image_rgb, box)[0]


def load_predictor(spec: str, backend: str = "onnx", threads: int = 1) -> TrackingPredictor:
    """The tracker's predictor for a variant, checkpoint or artifact, via ``zoo.predict.Predictor``."""
    from zoo.predict import ARTIFACT_SUFFIXES, Predictor

    path = Path(spec)
    if (path.suffix in (".pt", *ARTIFACT_SUFFIXES) or "/" in spec) and not path.exists():
        raise ModelError(f"model file {spec} not found; give a variant name, a zoo checkpoint (.pt) or an exported artifact")
    try:
        return TrackingPredictor(Predictor.from_spec(spec, backend=backend, threads=threads))
    except (ValueError, OSError, RuntimeError) as e:  # zoo's model/backend errors are ValueError/RuntimeError kinds
        raise ModelError(str(e).strip().splitlines()[0] if str(e).strip() else f"cannot load model {spec!r}") from None
