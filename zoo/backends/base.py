"""What every backend shares: the artifact and its manifest, the Runtime interface, input checks,
output mapping for foreign models, and parity against torch.

An artifact is a folder holding the exported file(s) and ``manifest.json``: the manifest says
how to feed the model (layout, normalisation) and what it computes (named outputs), and records
the parity measured against torch when it was made, so a downstream user never has to guess
and a drifting export is caught at export time, not in a benchmark table.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from zoo import __version__
from zoo.fileio import atomic_open

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "zoo-artifact/1"
PRECISIONS = ("fp32", "fp16", "int8")
#: Max abs error limits of the landmarks against torch, in [-0.5, 0.5] crop units (issue #6).
PARITY_LIMITS: dict[str, float | None] = {"fp32": 1e-4, "fp16": 2e-3, "int8": None}
#: int8 has no max-error limit (quantisation moves points by a pixel or more), but its NME may not rise by more
#: than this many points over torch's on the labelled calibration batch (or, unlabelled, differ from torch's
#: landmarks by more than INT8_NME_VS_TORCH_LIMIT %). Sound int8 exports of the shipped and fdfat models rise by
#: -0.3 to +1.7 points here; a broken TFLite quantisation of an LWCSP checkpoint rose by 10.9.
INT8_NME_LIMIT = 3.0
INT8_NME_VS_TORCH_LIMIT = 20.0
NOT_MEASURABLE = "not measurable on this OS"


class BackendError(RuntimeError):
    """A backend problem a user can act on; the message is one line."""


class MissingExtraError(BackendError, ImportError):
    """The optional dependencies of a backend are not installed; names the pip extra."""


class ArtifactError(BackendError):
    """An artifact that is missing, corrupted or has no readable manifest."""


class UnsupportedError(BackendError):
    """A precision or an operation this backend cannot do (here)."""


class InputError(BackendError, ValueError):
    """A batch whose shape or type does not match the artifact's input."""


class ParityError(BackendError):
    """The exported model differs from torch beyond the precision's limit."""

    def __init__(self, message: str, parity: dict[str, Any]) -> None:
        super().__init__(message)
        self.parity = parity


def require(module: str, extra: str, backend: str) -> Any:
    """Import a heavy optional module, or raise the one-line pip hint."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        why = str(e).splitlines()[0][:80] if str(e) else type(e).__name__
        raise MissingExtraError(f"the {backend} backend needs `{module}` ({why}); "
                                f"install it with: pip install 'zoo[{extra}]'") from None


@dataclass
class Artifact:
    """An exported model: its main file (or package folder), its manifest and where that lives."""

    path: Path
    manifest: dict[str, Any]
    manifest_path: Path

    @property
    def backend(self) -> str:
        return self.manifest["backend"]

    @property
    def precision(self) -> str:
        return self.manifest.get("precision", "fp32")

    @property
    def input_size(self) -> int:
        return int(self.manifest["input"]["size"])

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.manifest["outputs"])


@runtime_checkable
class Runtime(Protocol):
    """A loaded artifact: ``run`` takes float32 NCHW (normalised) and returns the named outputs."""

    manifest: dict[str, Any]
    input_size: int
    output_names: tuple[str, ...]

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]: ...


# --------------------------------------------------------------------------- manifest
def input_block(size: int, layout: str = "NCHW", batch: int | None = None, name: str = "input") -> dict[str, Any]:
    """The manifest's input description (the I/O contract of DESIGN.md section 4)."""
    n = batch if batch else -1
    shape = [n, 3, size, size] if layout == "NCHW" else [n, size, size, 3]
    from zoo.contract import PIXEL_MEAN, PIXEL_STD

    return {"name": name, "size": size, "shape": shape, "layout": layout, "dtype": "float32", "color": "RGB",
            "normalization": {"mean": PIXEL_MEAN, "std": PIXEL_STD, "formula": "pixel / 127.5 - 1"},
            "runtime_input": "NCHW float32 (the Runtime converts to this layout itself)"}


def outputs_block(heads: tuple[str, ...], num_points: int, source_points: int = 70) -> dict[str, Any]:
    """Named outputs with their shapes and units (``source_landmarks``: an adapted model's own points)."""
    units = "crop coordinates in [-0.5, 0.5]; pixel = (v + 0.5) * size"
    desc = {
        "landmarks": {"shape": [-1, num_points, 2], "units": units},
        "source_landmarks": {"shape": [-1, source_points, 2], "units": f"{units}; the network's points before zoo adapt's map"},
        "face_score": {"shape": [-1, 1], "units": "probability of a face, [0, 1]"},
        "pose": {"shape": [-1, 3], "units": "(yaw, pitch, roll) degrees / 90"},
    }
    return {h: desc[h] for h in heads}


def toolchain_versions(*modules: str) -> dict[str, str]:
    """Versions of the libraries that made an artifact (for reproducing it)."""
    from importlib import metadata

    out = {}
    for m in modules:
        try:
            out[m] = metadata.version(m)
        except metadata.PackageNotFoundError:
            continue
    return out


def base_manifest(backend: str, precision: str, spec: Any, source: Mapping[str, Any], file: str,
                  layout: str = "NCHW", batch: int | None = None) -> dict[str, Any]:
    """The fields every zoo-made artifact carries; backends add theirs."""
    return {
        "format": MANIFEST_FORMAT,
        "variant": spec.name,
        "spec": spec.to_dict(),
        "checkpoint_sha256": source.get("sha256"),
        "source": dict(source),
        "backend": backend,
        "precision": precision,
        "file": file,
        "input": input_block(spec.input_size, layout, batch),
        "outputs": outputs_block(spec.heads, spec.num_points, getattr(spec, "source_points", 70)),
        "zoo_version": __version__,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``manifest.json`` atomically (temp file + rename)."""
    path = folder / MANIFEST_NAME
    with atomic_open(path, "w") as f:
        json.dump(manifest, f, indent=2, default=_json_default)
        f.write("\n")
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def load_artifact(path: str | os.PathLike) -> Artifact:
    """An artifact from its folder, its ``manifest.json`` or its main file; one-line errors."""
    p = Path(path)
    if p.is_dir() and not (p / MANIFEST_NAME).is_file() and p.suffix == ".mlpackage":
        p = p.parent / MANIFEST_NAME  # a CoreML package folder: the manifest sits beside it
    elif p.is_dir():
        p = p / MANIFEST_NAME
    elif p.name != MANIFEST_NAME and p.suffix != ".json":
        if not p.exists():
            raise ArtifactError(f"{p}: no such artifact file")
        p = p.parent / MANIFEST_NAME
    if not p.is_file():
        raise ArtifactError(f"{p}: no artifact manifest there; export with `zoo export` (or wrap an ONNX file with --from-onnx)")
    try:
        manifest = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        why = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise ArtifactError(f"{p}: the manifest is not readable JSON ({why}); re-export the artifact") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT or "file" not in manifest:
        raise ArtifactError(f"{p}: not a zoo artifact manifest (expected format {MANIFEST_FORMAT!r}); re-export the artifact")
    if not isinstance(manifest["file"], str) or not manifest["file"] or "\0" in manifest["file"]:
        raise ArtifactError(f"{p}: broken artifact manifest ('file' must name the model file); re-export the artifact")
    if manifest.get("rejected"):
        parity = manifest.get("parity")
        try:
            numbers = parity_summary(parity) if isinstance(parity, dict) and parity else "no parity numbers"
        except (AttributeError, KeyError, TypeError, ValueError):  # a hand-edited parity block: the verdict still stands
            numbers = "parity numbers unreadable"
        raise ArtifactError(f"{p}: this export failed its parity check against torch ({numbers}); "
                            "re-export, or pass --allow-drift to keep a drifting model")
    file = Path(manifest["file"])
    file = file if file.is_absolute() else p.parent / file
    if not file.exists():
        raise ArtifactError(f"{file}: the model file named by {p} is missing; re-export the artifact")
    problem = _manifest_problem(manifest)
    if problem:
        raise ArtifactError(f"{p}: broken artifact manifest ({problem}); re-export the artifact")
    return Artifact(path=file, manifest=manifest, manifest_path=p)


def _manifest_problem(manifest: Mapping[str, Any]) -> str | None:
    """What makes a manifest unusable by every loader and ``Artifact``'s properties, or None."""
    block, outputs = manifest.get("input"), manifest.get("outputs")
    if not isinstance(manifest.get("backend"), str):
        return "'backend' must be a backend name"
    if not isinstance(manifest.get("precision", "fp32"), str):
        return "'precision' must be fp32, fp16 or int8"
    size = block.get("size") if isinstance(block, dict) else None
    if isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= 1024:
        return "'input.size' must be the model's input side in pixels"
    if not isinstance(outputs, (list, dict)) or not outputs or not all(isinstance(o, str) for o in outputs):
        return "'outputs' must name the model's outputs"
    return None


# --------------------------------------------------------------------------- running
def check_batch(batch: Any, size: int) -> np.ndarray:
    """A contiguous float32 NCHW batch of the artifact's input size, or a one-line InputError."""
    x = np.asarray(batch)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[1] != 3 or x.shape[2] != size or x.shape[3] != size:
        raise InputError(f"input batch has shape {tuple(x.shape)}, this artifact takes [N,3,{size},{size}] float32 NCHW "
                         f"(RGB, pixel / 127.5 - 1)")
    return np.ascontiguousarray(x, dtype=np.float32)


def run_chunked(run: Callable[[np.ndarray], dict[str, np.ndarray]], x: np.ndarray,
                static_batch: int | None) -> dict[str, np.ndarray]:
    """Run a model whose batch size is fixed (``static_batch``) on any batch, chunk by chunk."""
    if not static_batch or x.shape[0] == static_batch:
        return run(x)
    if x.shape[0] % static_batch:
        raise InputError(f"this artifact has a fixed batch of {static_batch}; got a batch of {x.shape[0]}")
    parts = [run(x[i:i + static_batch]) for i in range(0, x.shape[0], static_batch)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def map_outputs(raw: Mapping[str, np.ndarray], manifest: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Named contract outputs from a model's raw outputs.

    A zoo export already names its outputs; a wrapped foreign model has an ``output_mapping``
    ({raw name: [{name, start, stop, shape}]}) that slices its flat outputs into named ones.
    """
    mapping = manifest.get("output_mapping")
    if not mapping:
        return {name: np.asarray(raw[name]) for name in manifest["outputs"]}
    out: dict[str, np.ndarray] = {}
    for raw_name, parts in mapping.items():
        flat = np.asarray(raw[raw_name])
        flat = flat.reshape(flat.shape[0], -1)
        for part in parts:
            shape = [flat.shape[0], *part["shape"][1:]]
            out[part["name"]] = np.ascontiguousarray(flat[:, part["start"]:part["stop"]]).reshape(shape)
    return out


# --------------------------------------------------------------------------- parity
def nme_percent(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean NME in percent of the inter-ocular distance of ``truth`` ([N,K,2], K >= 68)."""
    from zoo.landmarks import interocular

    d = np.maximum(interocular(truth), 1e-6)
    err = np.linalg.norm(pred[:, : truth.shape[1]] - truth, axis=-1).mean(axis=-1)
    return float(np.mean(err / d) * 100.0)


def measure_parity(reference: Mapping[str, np.ndarray], got: Mapping[str, np.ndarray], precision: str, input_size: int,
                   truth: np.ndarray | None = None) -> dict[str, Any]:
    """Compare a backend's outputs to torch's on the same batch.

    ``max_abs_error`` is per output in its own units (landmarks in [-0.5, 0.5] crop units, also
    given in pixels at the input size); ``nme_difference`` is the backend's NME minus torch's
    against the batch's ground truth (when it has one), and ``nme_vs_torch`` the backend's NME
    with torch's landmarks as the truth, which needs no labels.
    """
    errors = {name: float(np.max(np.abs(np.asarray(got[name], np.float64) - np.asarray(ref, np.float64))))
              for name, ref in reference.items() if name in got}
    lm_ref, lm_got = np.asarray(reference["landmarks"], np.float64), np.asarray(got["landmarks"], np.float64)
    limit = PARITY_LIMITS.get(precision)
    worst = errors["landmarks"]  # the limit is in landmark units; the other outputs' errors are recorded beside it
    parity: dict[str, Any] = {
        "measured": True,
        "reference": "torch",
        "batch": int(lm_ref.shape[0]),
        "max_abs_error": errors,
        "max_abs_error_landmarks": errors.get("landmarks"),
        "max_abs_error_px": errors["landmarks"] * input_size if "landmarks" in errors else None,
        "limit": limit,
        "nme_vs_torch": nme_percent(lm_got, lm_ref) if lm_ref.shape[1] >= 68 else None,
        "nme_torch": None,
        "nme_backend": None,
        "nme_difference": None,
    }
    if truth is not None:
        parity["nme_torch"] = nme_percent(lm_ref, truth)
        parity["nme_backend"] = nme_percent(lm_got, truth)
        parity["nme_difference"] = parity["nme_backend"] - parity["nme_torch"]
    passed = limit is None or worst <= limit
    if precision == "int8":
        if parity["nme_difference"] is not None:
            parity["nme_limit"] = INT8_NME_LIMIT
            passed = passed and parity["nme_difference"] <= INT8_NME_LIMIT
        elif parity["nme_vs_torch"] is not None:
            parity["nme_vs_torch_limit"] = INT8_NME_VS_TORCH_LIMIT
            passed = passed and parity["nme_vs_torch"] <= INT8_NME_VS_TORCH_LIMIT
    parity["passed"] = bool(passed)
    return parity


def not_measured(reason: str = NOT_MEASURABLE) -> dict[str, Any]:
    """Parity entry of an artifact that cannot run here (CoreML off macOS)."""
    return {"measured": False, "note": reason, "passed": None}


def parity_summary(parity: Mapping[str, Any]) -> str:
    """One line of the numbers, for the CLI and for ParityError messages."""
    if not parity.get("measured"):
        return parity.get("note", NOT_MEASURABLE)
    errs = ", ".join(f"{k} {v:.2e}" for k, v in parity["max_abs_error"].items())
    nme = parity.get("nme_difference")
    nme_txt = f"NME diff {nme:+.4f} pt" if nme is not None else f"NME vs torch {parity.get('nme_vs_torch') or 0:.4f} %"
    nme_limit = parity.get("nme_limit") if nme is not None else parity.get("nme_vs_torch_limit")
    nme_txt += f" (limit {nme_limit:g})" if nme_limit else ""
    limit = parity.get("limit")
    return f"max abs error {errs} (limit {limit:g})" + f"; {nme_txt}" if limit else f"max abs error {errs}; {nme_txt}"
