"""Facts about the machine and the runtimes that a latency number depends on."""

from __future__ import annotations

import os
from importlib import metadata

from zoo.results import Host, current_host

#: The pip distribution whose version is the runtime's version, per backend.
RUNTIME_PACKAGES: dict[str, tuple[str, ...]] = {
    "torch": ("torch",),
    "onnx": ("onnxruntime", "onnxruntime-gpu"),
    "openvino": ("openvino",),
    "tflite": ("ai-edge-litert", "tflite-runtime", "tensorflow"),
    "coreml": ("coremltools",),
}


def backend_version(backend: str) -> str:
    """Version of the package that runs ``backend`` ('' when it is not installed)."""
    for dist in RUNTIME_PACKAGES.get(backend, (backend,)):
        try:
            return f"{dist} {metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return ""


def load_average() -> str:
    """1/5/15-minute load averages: the CPU is shared, so a number's context matters."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def host() -> Host:
    """This machine (label, CPU model, logical cores, OS); see ``zoo.results.current_host``."""
    return current_host()
