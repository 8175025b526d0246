"""The typed errors of the Python API (``zoo.api``, re-exported from ``zoo``).

They live on the ground floor so that every layer can raise them: ``zoo.track``'s frame stream
raises ``SourceError`` itself, without importing the API above it. Each message is the one line
the CLI prints for the same mistake (what, which file, what to do), so a script can catch the
kind of error it can fix and show the sentence as it is.
"""

from __future__ import annotations

from typing import Any


class ZooError(Exception):
    """Base of every error the API raises on purpose; ``str(e)`` is one line saying what to do."""


class ModelNotFoundError(ZooError, LookupError):
    """An unknown variant, a variant without shipped weights, or a model file that does not exist."""


class BackendUnavailableError(ZooError):
    """A backend whose optional libraries are not installed (the message names the pip extra)."""


class ImageReadError(ZooError, ValueError):
    """An image path that does not exist or does not decode."""


class NoFaceError(ZooError):
    """The face detector found no face and no box was given."""


class ExportError(ZooError):
    """An export that failed or whose parity against torch is beyond its limit (``parity`` holds the numbers)."""

    def __init__(self, message: str, parity: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.parity = parity


class SourceError(ZooError):
    """A video, frame folder or camera that cannot be opened, or a detector that cannot be made."""


class DatasetError(ZooError):
    """An evaluation dataset that cannot be read or has no annotated faces."""


def first_line(e: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
