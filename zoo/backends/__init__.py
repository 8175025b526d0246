"""Backends: one table of runtimes, one module each behind the same two functions.

``get_backend(name)`` returns a module with ``export(model, out_dir, precision, calib) -> Artifact``
and ``load(artifact, threads) -> Runtime``; ``Runtime.run(batch)`` takes float32 NCHW and returns
the named outputs of the I/O contract whatever the runtime's own layout. Adding a backend is one
row here plus one module. Heavy libraries are imported inside the modules, so listing backends
costs nothing and a missing extra is a one-line ``MissingExtraError``.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType

from .base import (
    PARITY_LIMITS,
    PRECISIONS,
    Artifact,
    ArtifactError,
    BackendError,
    InputError,
    MissingExtraError,
    ParityError,
    Runtime,
    UnsupportedError,
    load_artifact,
)


@dataclass(frozen=True)
class BackendInfo:
    """One row of the backend table."""

    name: str
    module: str
    extra: str | None  # pip extra that installs it (None: core dependency)
    requires: tuple[str, ...]  # import names checked by ``available``
    precisions: tuple[str, ...]
    suffix: str
    layout: str
    description: str


BACKENDS: dict[str, BackendInfo] = {b.name: b for b in (
    BackendInfo("torch", "zoo.backends.torch_backend", None, ("torch",), ("fp32",), ".pt", "NCHW",
                "PyTorch eager (the reference every parity is measured against)"),
    BackendInfo("onnx", "zoo.backends.onnx_backend", None, ("onnx", "onnxruntime"), PRECISIONS, ".onnx", "NCHW",
                "ONNX (opset 17, simplified) on ONNX Runtime; int8 = static QDQ quantisation"),
    BackendInfo("openvino", "zoo.backends.openvino_backend", "openvino", ("openvino", "nncf"), PRECISIONS, ".xml", "NCHW",
                "OpenVINO IR on the CPU plugin at f32 inference precision; int8 = NNCF"),
    BackendInfo("tflite", "zoo.backends.tflite_backend", "tflite", ("onnx2tf", "tensorflow", "ai_edge_litert"), PRECISIONS,
                ".tflite", "NHWC", "TFLite through onnx2tf, run with ai-edge-litert (XNNPACK); int8 = full-integer"),
    BackendInfo("coreml", "zoo.backends.coreml_backend", "coreml", ("coremltools",), PRECISIONS, ".mlpackage", "NCHW",
                "CoreML ML program (.mlpackage); converts anywhere, predicts only on macOS; int8 = weights only"),
)}

#: What ``--format all`` exports: every deployable format (torch is the reference, not a format).
EXPORT_ALL = ("onnx", "openvino", "tflite", "coreml")


def list_backends(installed_only: bool = False) -> list[str]:
    """Registered backend names (only those whose libraries import, when asked)."""
    return [n for n in BACKENDS if not installed_only or available(n)]


def available(name: str) -> bool:
    """Whether a backend's libraries are installed (found, not imported: cheap)."""
    try:
        ensure_available(name)
    except MissingExtraError:
        return False
    return True


def ensure_available(name: str) -> None:
    """Raise the one-line MissingExtraError when a backend's libraries are not installed."""
    b = info(name)
    missing = [m for m in b.requires if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtraError(f"the {name} backend needs {', '.join(missing)}, which is not installed; "
                                f"install it with: pip install 'zoo[{b.extra or 'all'}]'")


def info(name: str) -> BackendInfo:
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    return BACKENDS[name]


def get_backend(name: str) -> ModuleType:
    """The module of a backend (``export``/``load``); its heavy imports happen on first use."""
    return importlib.import_module(info(name).module)


__all__ = [
    "BACKENDS", "EXPORT_ALL", "PARITY_LIMITS", "PRECISIONS", "Artifact", "ArtifactError", "BackendError", "BackendInfo",
    "InputError", "MissingExtraError", "ParityError", "Runtime", "UnsupportedError", "available", "ensure_available",
    "get_backend", "info",
    "list_backends", "load_artifact",
]
