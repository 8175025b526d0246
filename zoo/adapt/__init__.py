"""``zoo adapt``: make any zoo model speak a labelled dataset's landmark convention.

``faces`` reads and checks the labelled faces, ``observe`` runs the model on them with the crops
``predict`` and the tracker would give it (cached once per model), ``fit`` fits the eye-frame map
(ridge, optionally an MLP) with k-fold cross-validation, ``report`` scores it, ``adapted`` writes
the checkpoint whose network ends in the map, and ``study`` regenerates docs/adapt.md's table.

The package is also callable, like ``zoo.track``: ``zoo.adapt(model, dataset, out)`` runs
``zoo.adapt.api.adapt`` (same arguments; see there).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from zoo.errors import ZooError


class AdaptError(ZooError, ValueError):
    """Input ``zoo adapt`` cannot use; the message is one line: what, which file, what to do."""


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .api import adapt

        return adapt(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
