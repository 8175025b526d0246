"""Which landmark model the tracker runs, and the predictor that runs it stage by stage.

The shipped default comes from one function, ``default_model()``:

1. ``zoo/weights/DEFAULT`` (a file naming one checkpoint there), else the first ``*.pt`` in
   ``zoo/weights/`` by name: the zoo's own trained weights once they ship;
2. else fdfat's LW checkpoint, when ``../shared/peers/fdfat`` sits beside the checkout: imported
   once (``zoo.engine.fdfat_import``) into the cache folder, never into the project;
3. else a ``ModelError`` saying to pass ``--model``.

``--budget-ms`` asks ``zoo.results.select_model`` for the most accurate variant that fits on
this host; a chosen *variant* still needs weights, so the pick maps to a shipped checkpoint of
that variant and falls back to the default (saying so) when none ships.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

import zoo

WEIGHTS_DIR = Path(zoo.__file__).resolve().parent / "weights"
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
    found = sorted(WEIGHTS_DIR.glob("*.pt"))
    marker = WEIGHTS_DIR / "DEFAULT"
    if marker.is_file():
        name = marker.read_text().strip()
        found.sort(key=lambda p: p.name != name)
    return found


def default_model() -> ModelPick:
    """The shipped default (see the module docstring for the order)."""
    weights = shipped_weights()
    if weights:
        return ModelPick(str(weights[0]), f"shipped default zoo/weights/{weights[0].name}")
    if FDFAT_LW.is_file():
        from zoo.data import cache_dir

        out = cache_dir() / "fdfat" / "lw-relu6-affine-cls.pt"
        if not out.is_file():
            from zoo.engine.fdfat_import import import_fdfat

            out.parent.mkdir(parents=True, exist_ok=True)
            import_fdfat(FDFAT_LW, out)
        return ModelPick(str(out), f"no zoo weights ship yet: fdfat's LW checkpoint imported from {FDFAT_LW} into {out}")
    raise ModelError(f"no shipped weights in {WEIGHTS_DIR} and no fdfat checkpoint at {FDFAT_LW}; pass --model CHECKPOINT")


def _weights_for_variant(variant: str) -> Path | None:
    from zoo.engine.checkpoint import load_checkpoint

    for path in shipped_weights():
        try:
            if load_checkpoint(path).spec.name == variant:
                return path
        except Exception:  # noqa: BLE001 - an unreadable shipped file is simply not a candidate
            continue
    return None


def choose_model(model: str | None, budget_ms: float | None, backend: str) -> tuple[ModelPick, list[str]]:
    """The model to track with and the lines explaining the choice (printed by ``zoo track``)."""
    notes: list[str] = []
    if model:
        return ModelPick(model, f"--model {model}"), notes
    if budget_ms is not None:
        from zoo.results import select_model

        choice = select_model(budget_ms, backend)
        notes.append(f"--budget-ms {budget_ms:g}: {choice.reason}")
        if choice.variant:
            path = _weights_for_variant(choice.variant)
            if path is not None:
                return ModelPick(str(path), f"{choice.variant} within {budget_ms:g} ms ({path.name})"), notes
            notes.append(f"{choice.variant} has no shipped weights in zoo/weights/; using the shipped default")
        else:
            notes.append("falling back to the shipped default")
    return default_model(), notes


@dataclass
class StagedPrediction:
    landmarks: np.ndarray
    face_score: float | None
    box: np.ndarray
    pose: Any = None


class OnnxStagedPredictor:
    """Crop -> ONNX Runtime -> map back, timing each stage (used until ``zoo.predict`` lands).

    The model is exported once per checkpoint sha256 into the cache folder. Timings: ``crop``
    is the affine warp + normalisation, ``landmarks`` the runtime call plus mapping points back.
    """

    def __init__(self, checkpoint: str, threads: int = 1) -> None:
        import onnxruntime as ort

        from zoo.engine.checkpoint import CheckpointError, load_checkpoint

        try:
            ckpt = load_checkpoint(checkpoint)
        except (CheckpointError, OSError) as e:
            raise ModelError(str(e)) from None
        self.spec = ckpt.spec
        self.size = int(ckpt.spec.input_size)
        onnx_path = self._export(ckpt)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.input = self.session.get_inputs()[0].name
        self.name = ckpt.spec.name

    def _export(self, ckpt: Any) -> Path:
        import torch

        from zoo.architectures import TupleOutputs
        from zoo.data import cache_dir

        out = cache_dir() / "track-onnx" / f"{ckpt.sha256[:16]}.onnx"
        if out.is_file():
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        net = TupleOutputs(ckpt.build()).eval()
        tmp = out.with_suffix(".tmp.onnx")
        torch.onnx.export(net, torch.zeros(1, 3, self.size, self.size), str(tmp), input_names=["input"],
                          output_names=list(net.output_names), opset_version=17, dynamo=False)
        tmp.replace(out)
        return out

    def predict_stages(self, image_rgb: np.ndarray, box: np.ndarray) -> tuple[StagedPrediction, dict[str, float]]:
        t0 = time.perf_counter()
        x1, y1, x2, y2 = (float(v) for v in box)
        s = self.size / max(x2 - x1, 1e-6)
        m = np.array([[s, 0, -x1 * s], [0, s, -y1 * s]], dtype=np.float64)
        crop = cv2.warpAffine(image_rgb, m, (self.size, self.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        x = (crop.astype(np.float32) * (1 / 127.5) - 1.0).transpose(2, 0, 1)[None]
        t1 = time.perf_counter()
        out = dict(zip(self.outputs, self.session.run(None, {self.input: np.ascontiguousarray(x)}), strict=True))
        lm = (out["landmarks"][0].astype(np.float64) + 0.5) * (x2 - x1) + np.array([x1, y1])
        score = float(out["face_score"][0, 0]) if "face_score" in out else None
        t2 = time.perf_counter()
        return StagedPrediction(lm, score, np.asarray(box)), {"crop": (t1 - t0) * 1e3, "landmarks": (t2 - t1) * 1e3}

    def predict(self, image_rgb: np.ndarray, box: np.ndarray) -> StagedPrediction:
        return self.predict_stages(image_rgb, box)[0]


def load_predictor(spec: str, backend: str = "onnx", threads: int = 1) -> Any:
    """A predictor for the tracker: ``zoo.predict.Predictor`` when available, else the local ONNX one."""
    try:
        from zoo.predict import Predictor
    except ImportError:
        Predictor = None  # noqa: N806
    if Predictor is not None:
        try:
            return Predictor.from_spec(spec, backend=backend, threads=threads)
        except (ValueError, OSError) as e:
            raise ModelError(str(e).splitlines()[0]) from None
    if backend != "onnx":
        raise ModelError(f"backend {backend!r} needs zoo.predict, which is not installed in this checkout; use --backend onnx")
    if not Path(spec).is_file():
        raise ModelError(f"model {spec!r} is not a checkpoint file; give a zoo checkpoint (.pt)")
    return OnnxStagedPredictor(spec, threads)
