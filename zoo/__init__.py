"""zoo: fast face-alignment models — train, export, benchmark, evaluate and track.

The public Python API lives in ``zoo.api`` and is re-exported here on first use (module
``__getattr__``), so ``import zoo`` costs nothing beyond this file: torch, OpenCV and the runtimes
load only when a function that needs them runs.

    >>> import zoo
    >>> "lw-relu6-affine-cls" in zoo.list_models("lw*")
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Names ``from zoo import ...`` offers, all defined in ``zoo.api``.
__all__ = [
    "BackendUnavailableError", "DatasetError", "adapt", "Evaluation", "ExportError", "Face", "FaceModel", "ImageReadError",
    "ModelInfo", "ModelNotFoundError", "NoFaceError", "SourceError", "TrackedFrame", "ZooError", "__version__",
    "create_model", "default_model", "evaluate", "export", "list_models", "load", "model_info", "track",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs; at run time __getattr__ imports lazily
    from zoo.api import (  # noqa: F401
        BackendUnavailableError,
        DatasetError,
        Evaluation,
        ExportError,
        Face,
        FaceModel,
        ImageReadError,
        ModelInfo,
        ModelNotFoundError,
        NoFaceError,
        SourceError,
        ZooError,
        create_model,
        default_model,
        evaluate,
        export,
        list_models,
        load,
        model_info,
        track,
    )
    from zoo.track.stream import TrackedFrame  # noqa: F401


def __getattr__(name: str) -> Any:
    import importlib

    # zoo.track and zoo.adapt are callable packages (``for frame in zoo.track("video.mp4")``), so they
    # cannot also be functions here
    if name in ("track", "adapt"):
        return importlib.import_module(f"zoo.{name}")
    if name in __all__ and name != "__version__":
        return getattr(importlib.import_module("zoo.track.stream" if name == "TrackedFrame" else "zoo.api"), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
