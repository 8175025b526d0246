"""The face tracker: detectors, tracker, filters, video I/O and the tracking benchmark.

The package is also callable, so the Python API reads ``for frame in zoo.track("video.mp4")``:
``zoo.track`` cannot be both this package and a function, so calling the package runs
``zoo.track.stream.track_frames`` (same arguments; see there).
"""

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .stream import track_frames

        return track_frames(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
