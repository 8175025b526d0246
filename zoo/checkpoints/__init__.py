"""Model files: zoo checkpoints (plain dicts, ``weights_only`` loading) and the fdfat importer.

The file format sits below both the training engine, which writes checkpoints, and the runtime
(backends, predict, tracker, bench, eval), which only reads them: neither imports the other.
"""

from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint, sha256_file

__all__ = ["Checkpoint", "CheckpointError", "load_checkpoint", "save_checkpoint", "sha256_file"]
