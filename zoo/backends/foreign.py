"""Wrap an ONNX file that zoo did not make (fdfat's published ``model.onnx``) with a manifest.

The file is referenced by absolute path and sha256, never copied. An output preset says how
its raw outputs split into the contract's named outputs, so bench, eval and predict run it
through the same onnx Runtime as a zoo export.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo import __version__

from .base import MANIFEST_FORMAT, Artifact, ArtifactError, input_block, outputs_block, write_manifest

#: How a foreign model's raw outputs map onto named outputs: raw name -> slices of its flat rows.
OUTPUT_PRESETS: dict[str, dict[str, Any]] = {
    "fdfat70": {
        "description": "fdfat: output [N,141] = 70 interleaved x,y in [-0.5, 0.5], then a sigmoid face score",
        "raw": "output", "width": 141, "num_points": 70, "heads": ("landmarks", "face_score"),
        "parts": [{"name": "landmarks", "start": 0, "stop": 140, "shape": [-1, 70, 2]},
                  {"name": "face_score", "start": 140, "stop": 141, "shape": [-1, 1]}],
    },
}


def wrap_onnx(file: Path, outputs: str, out_dir: Path, name: str | None = None) -> Artifact:
    """Check the file matches the preset (input [N,3,S,S], raw output width), run it once, write the manifest."""
    import onnx
    import onnxruntime as ort

    from zoo.checkpoints.checkpoint import sha256_file

    file = Path(file).resolve()
    if outputs not in OUTPUT_PRESETS:
        raise ArtifactError(f"unknown output preset {outputs!r}; known: {', '.join(OUTPUT_PRESETS)}")
    preset = OUTPUT_PRESETS[outputs]
    if not file.is_file():
        raise ArtifactError(f"{file}: no such ONNX file")
    try:
        graph = onnx.load(str(file), load_external_data=False).graph
    except Exception as e:  # noqa: BLE001 - protobuf raises several types on garbage
        why = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise ArtifactError(f"{file}: not a readable ONNX model ({why})") from None
    inputs = [i for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    if len(inputs) != 1:
        raise ArtifactError(f"{file}: expected one image input, found {len(inputs)}")
    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or dims[1] != 3 or dims[2] != dims[3] or dims[2] <= 0:
        raise ArtifactError(f"{file}: wrong input size {dims} for input {inputs[0].name!r}; "
                            "zoo runs square RGB crops [N,3,S,S] (NCHW)")
    size = dims[2]
    raw_names = [o.name for o in graph.output]
    if preset["raw"] not in raw_names:
        raise ArtifactError(f"{file}: preset {outputs!r} needs an output named {preset['raw']!r}; the model has {raw_names}")
    try:
        session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
        batch = 1 if dims[0] > 0 else 2
        raw = session.run([preset["raw"]], {inputs[0].name: np.zeros((batch, 3, size, size), np.float32)})[0]
    except Exception as e:  # noqa: BLE001
        raise ArtifactError(f"{file}: ONNX Runtime cannot run it ({str(e).strip().splitlines()[0][:160]})") from None
    width = int(np.prod(raw.shape[1:]))
    if width != preset["width"]:
        raise ArtifactError(f"{file}: output {preset['raw']!r} has {width} values per image, "
                            f"preset {outputs!r} expects {preset['width']}")
    manifest = {
        "format": MANIFEST_FORMAT,
        "variant": name or f"onnx:{file.parent.name}",
        "spec": None,
        "checkpoint_sha256": sha256_file(file),
        "source": {"kind": "foreign-onnx", "path": str(file), "sha256": sha256_file(file), "preset": outputs,
                   "description": preset["description"]},
        "backend": "onnx",
        "precision": "fp32",
        "file": str(file),
        "input": {**input_block(size, "NCHW", dims[0] if dims[0] > 0 else None), "name": inputs[0].name},
        "outputs": outputs_block(preset["heads"], preset["num_points"]),
        "output_mapping": {preset["raw"]: preset["parts"]},
        "parity": {"measured": False, "note": "foreign model: no torch reference at wrap time", "passed": None},
        "zoo_version": __version__,
    }
    path = write_manifest(Path(out_dir), manifest)
    return Artifact(file, manifest, path)
