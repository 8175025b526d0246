"""``zoo adapt``: make any zoo model speak a labelled dataset's landmark convention.

``faces`` reads and checks the labelled faces, ``observe`` runs the model on them with the crops
``predict`` and the tracker would give it (cached once per model), ``fit`` fits the eye-frame map
(ridge, optionally an MLP) with k-fold cross-validation, ``report`` scores it, ``adapted`` writes
the checkpoint whose network ends in the map, and ``study`` regenerates docs/adapt.md's table.
"""

from __future__ import annotations


class AdaptError(ValueError):
    """Input ``zoo adapt`` cannot use; the message is one line: what, which file, what to do."""
