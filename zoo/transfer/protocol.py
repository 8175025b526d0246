"""The transfer protocol: render with given options, fine-tune a fixed recipe from a fixed checkpoint,
score on annotated photos. One number per renderer change that says what it does on real faces.

Why this shape: a change to the renderer counts by what it does on photos, never by synthetic NME
(issue 25), and training from scratch costs hours on a 2-core CPU. Fine-tuning the shipped default
for a few epochs on the changed renders moves its points to where the new renders put them and
moves its features some way toward their appearance, in minutes. Two seeds give the noise; a
longer run (more epochs, same everything else) says how far the short one predicts a long one.

Every fine-tune starts from the same checkpoint with the same recipe (the checkpoint's hash is part of
each row's recipe), so rows differ only by the renders. The photos are only scored, never trained on.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.landmarks import NUM_LANDMARKS_68
from zoo.transfer.scoring import PhotoScore, score

#: The real sets scored by default, beside the project (``../shared/data/real``), if present.
REAL_SETS = ("lfpw-train", "dlib-examples")


def real_root() -> Path:
    """``../shared/data/real`` beside the checkout (may not exist)."""
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


def default_real_sets() -> list[Path]:
    root = real_root()
    return [root / name / "faces.yaml" for name in REAL_SETS if (root / name / "faces.yaml").is_file()]


@dataclass(frozen=True)
class Recipe:
    """The fixed fine-tune: the shipped default's landmark network from its shipped weights."""

    variant: str = "lw-relu6-112-affine"  # the landmark network of the shipped default (no face-score step)
    init: str = "lw-relu6-112-affine-cls"  # shipped weights it starts from
    epochs: int = 6
    images_per_epoch: int = 4000
    lr: float = 0.001
    batch: int = 64
    yaw_prior: str = "frontal"
    photometric: str = "standard"

    @property
    def label(self) -> str:
        extra = "" if self.photometric == "standard" else f" photometric-{self.photometric}"
        return f"{self.variant}<-{self.init} e{self.epochs}x{self.images_per_epoch} lr{self.lr:g} {self.yaw_prior}{extra}"


def render_set(options: Any, images: int, seed: int, folder: Path) -> tuple[Path, float]:
    """(dataset YAML, images/s) of the renders for ``options``; a finished folder is reused (same bytes per seed)."""
    from zoo.synth.generate import write_dataset

    marker = folder / ".transfer-complete"
    if marker.is_file():
        return folder / "dataset.yaml", float(json.loads(marker.read_text())["images_per_s"])
    start = time.perf_counter()
    path = write_dataset(folder, images, seed, negatives_fraction=0.0, options=options)
    rate = images / (time.perf_counter() - start)
    marker.write_text(json.dumps({"images_per_s": rate}))
    return path, rate


def renderer_fingerprint() -> str:
    """A short hash of the renderer's code and fitted data (``zoo/synth``'s Python and JSON files): cached
    renders are reused only by the renderer that made them, since a label or shading fix, or a re-fitted
    population (``ict/populations.json``), within one render version changes them."""
    import hashlib

    root = Path(__file__).resolve().parents[1] / "synth"
    digest = hashlib.sha256()
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.json")]):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:8]


def init_weights(recipe: Recipe) -> Path:
    """The shipped weights every fine-tune of ``recipe`` starts from (and the control row scores)."""
    from zoo.weights import weights_for

    init = weights_for(recipe.init)
    if init is None:
        raise ValueError(f"recipe init {recipe.init!r} has no shipped weights in zoo/weights")
    return init


def fine_tune(recipe: Recipe, data: Path, seed: int, out: Path, progress: bool = True) -> Path:
    """Fine-tune ``recipe`` on ``data``; the final weights (no selection on renders), reused if already trained."""
    from zoo.engine.config import TrainConfig
    from zoo.engine.trainer import Trainer

    init = init_weights(recipe)
    done = out / "last.pt"
    if (out / ".transfer-complete").is_file() and done.is_file():
        return done
    cfg = TrainConfig(variant=recipe.variant, data=str(data), epochs=recipe.epochs, batch=recipe.batch, lr=recipe.lr,
                      images_per_epoch=recipe.images_per_epoch, init=str(init), seed=seed, out=str(out),
                      yaw_prior=recipe.yaw_prior, photometric=recipe.photometric, plots=False, progress=progress, workers=None)
    Trainer(cfg).fit()
    (out / ".transfer-complete").write_text("{}")
    return done


def photo_predictions(run: Any, input_size: int, dataset: Path) -> tuple[np.ndarray, np.ndarray]:
    """(predictions [N,70,2], annotations [N,68,2]) in pixels of the YAML's ``test`` split (the real sets' only
    split) with the evaluation crop and plain resampling (the protocol of ``../shared/data/real``'s reference
    figures and of issue 25's table)."""
    from eval.datasets import load_faces
    from eval.harness import evaluate

    _, _, samples = load_faces(str(dataset), None, "test")
    faces = [s for s in samples if s.is_face and s.landmarks is not None]
    result = evaluate(faces, run, input_size, resample="plain", keep_predictions=True)
    gt = np.stack([np.asarray(f.landmarks, np.float64)[:NUM_LANDMARKS_68] for f in faces])  # 70-point sets: drop pupils
    return np.stack(result.predictions), gt


def score_checkpoint(checkpoint: Path, datasets: list[Path]) -> list[PhotoScore]:
    """The checkpoint on ONNX Runtime fp32 (exported and loaded once), scored on each photo set."""
    from eval.datasets import dataset_label
    from eval.runner import open_runner

    runner = open_runner(checkpoint=checkpoint, backend="onnx", precision="fp32")
    return [score(*photo_predictions(runner.run, runner.input_size, d), dataset_label(d)) for d in datasets]


def shape_gap_row(data: Path, real: Path) -> dict[str, Any]:
    """The renders' label shapes against the photos' (|yaw| <= 20, both posed by solvePnP, yaw and pitch
    matched: the same estimator for both sets, which a far camera needs; docs/real-faces.md finding 6)."""
    from zoo.data.shape_gap import load_shapes, shape_gap

    gap = shape_gap(load_shapes(data, pnp=True), load_shapes(real, pnp=True), match_pitch=True)
    ratio = gap.other_spread / np.maximum(gap.real_spread, 1e-9)
    row = {f"gap_{p}": round(v, 3) for p, v in gap.per_part.items()}
    row["gap_modes_off"] = int(np.sum(np.abs(ratio - 1.0) > 0.25))
    return row


def save_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, default=lambda o: o.tolist() if isinstance(o, np.ndarray) else str(o)))
