"""fdfat's published model.onnx wrapped with a manifest runs like a zoo artifact, same numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zoo.backends import ArtifactError, get_backend, load_artifact
from zoo.backends.foreign import wrap_onnx


def _fdfat_onnx(fdfat_dir: Path) -> Path:
    path = fdfat_dir / "LWModel_ReLU6_affine_cls" / "model.onnx"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


def test_wrapped_equals_onnxruntime(fdfat_dir: Path, tmp_path: Path) -> None:
    import onnxruntime as ort

    file = _fdfat_onnx(fdfat_dir)
    art = wrap_onnx(file, "fdfat70", tmp_path / "wrap")
    assert art.path == file.resolve() and not any(tmp_path.rglob("*.onnx"))  # referenced, never copied
    art = load_artifact(tmp_path / "wrap")
    assert art.manifest["input"]["shape"] == [1, 3, 96, 96] and art.output_names == ("landmarks", "face_score")
    x = np.random.default_rng(0).uniform(-1, 1, (3, 3, 96, 96)).astype(np.float32)
    out = get_backend("onnx").load(art, 1).run(x)  # batch 3 on a batch-1 model: run item by item
    session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    direct = np.concatenate([session.run(None, {"input": x[i:i + 1]})[0] for i in range(3)])
    # The runtime runs 1 thread, the direct session ORT's default: kernels may split work differently.
    np.testing.assert_allclose(out["landmarks"], direct[:, :140].reshape(3, 70, 2), rtol=0, atol=1e-6)
    np.testing.assert_allclose(out["face_score"], direct[:, 140:], rtol=0, atol=1e-6)


def test_wrong_input_size_and_garbage(tmp_path: Path, small_model) -> None:
    import torch

    odd = tmp_path / "odd.onnx"
    torch.onnx.export(torch.nn.Conv2d(3, 4, 3).eval(), (torch.zeros(1, 3, 64, 80),), str(odd), input_names=["input"],
                      output_names=["output"], dynamo=False)
    with pytest.raises(ArtifactError, match="wrong input size"):
        wrap_onnx(odd, "fdfat70", tmp_path / "w")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08" * 50)
    with pytest.raises(ArtifactError):
        wrap_onnx(junk, "fdfat70", tmp_path / "w")
    with pytest.raises(ArtifactError, match="unknown output preset"):
        wrap_onnx(odd, "yolo", tmp_path / "w")
