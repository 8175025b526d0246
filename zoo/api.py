"""The Python API: what the ``zoo`` command does, as typed functions (re-exported from ``zoo``).

```python
import zoo
zoo.list_models("lw*")
net = zoo.create_model("lw-relu6-112-affine-cls", pretrained=True)   # a torch module
face = zoo.load()                                                     # the shipped default, ONNX Runtime
for r in face.predict(image):                                         # a path or an RGB array
    r.landmarks, r.score, r.pose.yaw
```

Every function imports what it needs when it runs, so ``import zoo`` stays cheap (no torch, no
OpenCV). Errors are ``ZooError`` subclasses whose message is the one line the CLI prints for the
same mistake, so a script can catch the kind it can fix and show the sentence as it is.

Layering: this module sits at the top beside the CLI and uses the runtime packages (predict,
backends, track, weights, architectures). ``evaluate`` imports the ``eval`` harness inside the
function, as ``zoo/cli.py`` does: the library never needs the harness to import, only to score.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - types only
    import numpy as np
    import torch

    from zoo.backends.base import Artifact
    from zoo.pose import HeadPose
    from zoo.track.stream import TrackedFrame


from zoo.errors import (  # noqa: F401 - re-exported: the API's errors are part of the API
    BackendUnavailableError,
    DatasetError,
    ExportError,
    ImageReadError,
    ModelNotFoundError,
    NoFaceError,
    SourceError,
    ZooError,
)
from zoo.errors import first_line as _line


# --------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class ModelInfo:
    """One registered variant: its architecture, its cost and whether trained weights ship with zoo."""

    name: str
    family: str
    activation: str
    width: float
    input_size: int
    heads: tuple[str, ...]
    params: int
    flops: int  #: at batch 1; one multiply-add counts 2
    weights: Path | None  #: the shipped checkpoint, if any
    default: bool  #: whether it is the shipped default (``zoo/weights/DEFAULT``)

    @property
    def shipped(self) -> bool:
        return self.weights is not None


def list_models(pattern: str | None = None, pretrained: bool = False) -> list[str]:
    """Registered variant names matching a shell pattern (``"lw*"``), in registry order.

    ``pretrained=True`` keeps only variants whose trained weights ship in ``zoo/weights/``.
    """
    from zoo.architectures import list_variants
    from zoo.weights import weights_for

    names = list_variants(pattern)
    if pretrained:
        names = [n for n in names if weights_for(n) is not None]
    if not names:
        raise ModelNotFoundError(f"no registered variant matches {pattern!r}"
                                 + (" with shipped weights" if pretrained else "") + "; run `zoo models` for the full list")
    return names


def model_info(name: str) -> ModelInfo:
    """Architecture, parameters, FLOPs and shipped weights of a variant, without importing torch."""
    from zoo.architectures import UnknownVariantError, get_spec
    from zoo.architectures.costs import cost
    from zoo.weights import default_name, weights_for

    try:
        spec = get_spec(name)
    except UnknownVariantError as e:
        raise ModelNotFoundError(_line(e)) from None
    params, flops = cost(name)
    weights = weights_for(name)
    return ModelInfo(name, spec.family, spec.activation, spec.width, spec.input_size, spec.heads, params, flops,
                     weights, weights is not None and weights.name == default_name())


def default_model() -> Path:
    """The shipped default checkpoint (``zoo/weights/DEFAULT``): what ``zoo predict``, ``zoo track`` and ``load()`` use."""
    from zoo.weights import WEIGHTS_DIR, shipped_weights

    found = shipped_weights()
    if not found:
        raise ModelNotFoundError(f"no shipped weights in {WEIGHTS_DIR}; give a model (a zoo checkpoint or an exported artifact)")
    return found[0]


def create_model(name: str, pretrained: bool = False) -> torch.nn.Module:
    """The torch network of a variant (eval mode); ``pretrained=True`` loads its shipped weights.

    Outputs follow the I/O contract: a dict with ``landmarks`` ``[N,K,2]`` in crop units
    [-0.5, 0.5], plus ``face_score`` and ``pose`` for variants with those heads.
    """
    from zoo.architectures import UnknownVariantError
    from zoo.architectures import create_model as build

    if not pretrained:
        try:
            return build(name).eval()
        except UnknownVariantError as e:
            raise ModelNotFoundError(_line(e)) from None
    from zoo.checkpoints.checkpoint import CheckpointError, load_checkpoint
    from zoo.weights import weights_for

    path = weights_for(name)
    if path is None:
        have = ", ".join(list_models(pretrained=True))
        raise ModelNotFoundError(f"variant {name!r} has no shipped weights (shipped: {have}); use pretrained=False "
                                 "or load a checkpoint with zoo.load(PATH)")
    try:
        return load_checkpoint(path).build().eval()
    except CheckpointError as e:
        raise ModelNotFoundError(_line(e)) from None


# --------------------------------------------------------------------------- prediction
@dataclass
class Face:
    """One face in an image: landmarks in image pixels, the model's face score and the head pose."""

    landmarks: np.ndarray  #: [K,2] float32, image pixels (K = 70: iBUG-68 order plus both pupils)
    score: float | None  #: face/non-face score in [0, 1] (``-cls`` variants), else None
    pose: HeadPose | None  #: ``.yaw``, ``.pitch``, ``.roll`` in degrees (solvePnP), None when it failed
    box: np.ndarray  #: the square crop (x1, y1, x2, y2) the model saw
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``zoo predict`` writes for one face."""
        from zoo.predict import Prediction

        return Prediction(self.landmarks, self.score, self.pose, self.box, self.extra).to_dict()


def _as_box(box: Any) -> np.ndarray:
    import numpy as np

    vals = np.asarray(box, dtype=np.float64).ravel()
    if vals.shape != (4,) or not (vals[2] > vals[0] and vals[3] > vals[1]):
        raise ValueError(f"box {box!r}: expected x1, y1, x2, y2 with x2 > x1 and y2 > y1 (pixels)")
    return vals


class FaceModel:
    """A loaded landmark model: ``predict`` finds faces (or takes a box) and returns one ``Face`` each."""

    def __init__(self, predictor: Any) -> None:
        self.predictor = predictor  #: the ``zoo.predict.Predictor`` underneath (runtime, crop, uncrop)

    @property
    def name(self) -> str:
        return self.predictor.label

    @property
    def input_size(self) -> int:
        return self.predictor.input_size

    def predict(self, image: str | Path | np.ndarray, box: Any = None, refine: int = 1) -> list[Face]:
        """Faces in an image: a file path or an RGB uint8 array ``[H,W,3]``.

        Without ``box`` dlib's HOG detector finds frontal faces (largest first) and ``NoFaceError``
        says when it finds none; with ``box`` (x1, y1, x2, y2 pixels, or a list of them) exactly those
        faces are returned. ``refine`` re-crops that many times from the predicted landmarks.
        """
        import numpy as np

        from zoo.predict import ImageError, detect_faces, read_image

        if isinstance(image, (str, Path)):
            try:
                rgb = read_image(Path(image))
            except ImageError as e:
                raise ImageReadError(str(e)) from None
        else:
            rgb = np.asarray(image)
            if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
                raise ImageReadError(f"image array of shape {rgb.shape} and dtype {rgb.dtype}: expected RGB uint8 [H,W,3]")
        if box is None:
            boxes = detect_faces(rgb)
            if not boxes:
                where = image if isinstance(image, (str, Path)) else "image"
                raise NoFaceError(f"{where}: the face detector (dlib HOG, frontal faces) found no face; "
                                  "give one with box=(x1, y1, x2, y2)")
        else:
            arr = np.asarray(box, dtype=np.float64)
            boxes = [_as_box(b) for b in (arr if arr.ndim == 2 else [arr])]
        out = []
        for b in boxes:
            p = self.predictor.predict(rgb, b, refine=refine)
            out.append(Face(p.landmarks, p.face_score, p.pose, p.box, p.extra))
        return out


def _model_ref(model: str | Path | None) -> str:
    """A model argument as ``Predictor.from_spec`` takes it; refuses variants that would run random weights."""
    if model is None:
        return str(default_model())
    from zoo.predict import ARTIFACT_SUFFIXES

    ref = str(model)
    path = Path(ref)
    if path.exists():
        return ref
    if path.suffix in (".pt", ".pth", *ARTIFACT_SUFFIXES) or "/" in ref:  # not "w0.5" in a variant name
        raise ModelNotFoundError(f"model file {ref} not found; give a variant name, a zoo checkpoint (.pt) "
                                 "or an exported artifact")
    from zoo.weights import weights_for

    model_info(ref)  # unknown names raise ModelNotFoundError
    if weights_for(ref) is None:
        have = ", ".join(list_models(pretrained=True))
        raise ModelNotFoundError(f"variant {ref!r} has no shipped weights (shipped: {have}); give a trained checkpoint path")
    return ref


def load(model: str | Path | None = None, backend: str = "onnx", precision: str = "fp32", threads: int = 1) -> FaceModel:
    """A ready-to-run landmark model.

    ``model`` is a variant with shipped weights, a zoo checkpoint (``.pt``) or an exported artifact
    (folder, manifest or model file; it runs on the backend its manifest names); None means the
    shipped default. Checkpoints and variants are exported once to ``backend`` at ``precision``
    (cached under ``$ZOO_CACHE``) with parity checked against torch.
    """
    from zoo.backends import BACKENDS, BackendError, MissingExtraError
    from zoo.predict import Predictor

    if backend not in BACKENDS:
        raise BackendUnavailableError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    ref = _model_ref(model)
    try:
        return FaceModel(Predictor.from_spec(ref, backend, threads, precision))
    except MissingExtraError as e:
        raise BackendUnavailableError(_line(e)) from None
    except (BackendError, ValueError, OSError) as e:
        raise ModelNotFoundError(_line(e)) from None


# --------------------------------------------------------------------------- tracking
def track(source: str | Path, model: str | Path | None = None, backend: str = "onnx", threads: int = 1,
          detector: str = "hog", detect_hz: float = 5.0, min_score: float = 0.5, filter: str = "oneeuro",  # noqa: A002
          max_frames: int | None = None) -> Iterator[TrackedFrame]:
    """Track faces through a video file, a folder of frames or ``"camera:N"``, yielding a ``TrackedFrame`` each.

    The same tracker as ``zoo track`` (dlib HOG detector in a background thread at ``detect_hz``,
    landmarks re-cropped from the previous frame, ``filter`` smoothing, a track ends when its face
    score stays under ``min_score``). ``zoo.track(...)`` (the callable ``zoo.track`` package) is
    this same function. The source and the detector thread are released when the loop ends.
    """
    from zoo.track.stream import track_frames

    if model is not None:
        model = _model_ref(model)
    return track_frames(source, model, backend, threads, detector, detect_hz, min_score, filter, max_frames)


# --------------------------------------------------------------------------- export and evaluation
def export(model: str | Path, format: str = "onnx", precision: str = "fp32", out: str | Path = "exports",  # noqa: A002
           calib_data: str | Path | None = None, calib_count: int = 32, allow_drift: bool = False,
           force: bool = False) -> Artifact:
    """Export a variant or checkpoint to one backend and precision, with a manifest and parity vs torch.

    Writes ``out/<variant>/<backend>-<precision>/`` and returns the ``Artifact`` (``.path``,
    ``.manifest``). An identical earlier export is reused unless ``force``. A parity beyond the
    limit raises ``ExportError`` (``.parity`` holds the numbers) unless ``allow_drift``.
    """
    from zoo.backends import BACKENDS, BackendError, MissingExtraError, ParityError, ensure_available
    from zoo.backends.calibration import calibration_set
    from zoo.backends.sources import export_model, resolve_model

    if format not in BACKENDS:
        raise ExportError(f"unknown format {format!r}; choose from {', '.join(BACKENDS)}")
    if precision not in BACKENDS[format].precisions:
        raise ExportError(f"{format} has no {precision} export; choose from {', '.join(BACKENDS[format].precisions)}")
    try:
        ensure_available(format)
        net = resolve_model(str(model))
        calib = calibration_set(net.spec.input_size, calib_count, dataset=None if calib_data is None else Path(calib_data))
        art, _, _ = export_model(net, format, precision, Path(out), calib, allow_drift, force)
    except MissingExtraError as e:
        raise BackendUnavailableError(_line(e)) from None
    except ParityError as e:
        raise ExportError(_line(e), e.parity) from None
    except (BackendError, ValueError, OSError, RuntimeError) as e:
        raise ExportError(_line(e)) from None
    return art


@dataclass(frozen=True)
class Evaluation:
    """NME in % of the inter-ocular distance, overall and by |yaw| bin (le30, 30_40, gt40), AUC and FR at 10 %."""

    model: str
    backend: str
    precision: str
    dataset: str
    split: str
    faces: int
    nme: float
    nme_by_yaw: dict[str, float]
    faces_by_yaw: dict[str, int]
    auc10: float
    fr10: float


def evaluate(model: str | Path | None = None, dataset: str = "synth", split: str = "test", backend: str = "onnx",
             precision: str = "fp32", limit: int | None = None, threads: int = 1, resample: str = "zoo") -> Evaluation:
    """Score a model on a dataset the way ``zoo eval`` does (nothing is written to ``results/``).

    ``model``: a variant with shipped weights, a zoo checkpoint or an exported artifact; None is the
    shipped default. ``dataset``: ``synth`` (the renderer's standard set), or a dataset YAML.
    """
    from eval.datasets import EvalDatasetError, load_faces
    from eval.harness import RESAMPLE
    from eval.harness import evaluate as run_eval
    from eval.metrics import summarize
    from eval.runner import RunnerError, open_runner

    if resample not in RESAMPLE:
        raise ValueError(f"resample must be one of {', '.join(RESAMPLE)}")
    ref = _model_ref(model)
    path = Path(ref)
    kind = ({"artifact": path} if path.exists() and (path.is_dir() or path.suffix != ".pt")
            else {"checkpoint": path} if path.exists() else {"variant": ref})
    try:
        label, split_label, samples = load_faces(dataset, None, split)
    except EvalDatasetError as e:
        raise DatasetError(_line(e)) from None
    faces = [s for s in samples if s.is_face and s.landmarks is not None][:limit]
    if not faces:
        raise DatasetError(f"dataset {label!r} split {split_label!r} has no annotated faces")
    try:
        runner = open_runner(**kind, backend=backend, precision=precision, threads=threads)
    except RunnerError as e:
        raise ModelNotFoundError(_line(e)) from None
    result = run_eval(faces, runner.run, runner.input_size, 32, resample)
    s = summarize(result.nme, result.yaw)
    return Evaluation(runner.label, runner.backend, runner.precision, label, split_label, s.faces, s.nme,
                      s.nme_by_yaw, s.faces_by_yaw, s.auc10, s.fr10)
