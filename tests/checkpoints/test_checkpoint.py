"""Checkpoints: bit-exact round trip, plain-data loading, one-line errors for bad files."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

from zoo.architectures import create_model
from zoo.checkpoints.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, sha256_file


def _trained_looking(name: str = "lw-relu6-w0.5-affine-cls") -> torch.nn.Module:
    torch.manual_seed(0)
    model = create_model(name)
    model.train()
    with torch.no_grad():  # give BatchNorm non-default statistics so the round trip means something
        model(torch.randn(4, 3, 96, 96))
    return model.eval()


def test_round_trip_is_bit_exact(tmp_path: Path) -> None:
    model = _trained_looking()
    path = tmp_path / "m.pt"
    digest = save_checkpoint(path, model, meta={"training_data": "unit test", "metrics": {"nme": 1.5}})
    assert digest == sha256_file(path)

    ckpt = load_checkpoint(path)
    assert ckpt.arch == "lw-relu6-w0.5-affine-cls"
    assert ckpt.sha256 == digest
    for key, value in model.state_dict().items():
        assert torch.equal(value, ckpt.state_dict[key]), key
    x = torch.randn(3, 3, 96, 96)
    with torch.no_grad():
        a, b = model(x), ckpt.build()(x)
    for name in a:
        assert torch.equal(a[name], b[name])
    card = ckpt.meta
    assert card["variant"] == "lw-relu6-w0.5-affine-cls" and card["metrics"] == {"nme": 1.5}
    assert {"zoo_version", "date", "config", "training_data"} <= set(card)


def test_checkpoint_is_plain_data(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    save_checkpoint(path, _trained_looking())
    data = torch.load(path, weights_only=True)
    assert set(data) >= {"arch", "config", "state_dict", "meta"}


def test_truncated_checkpoint_gives_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    save_checkpoint(path, _trained_looking())
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CheckpointError, match="is not a zoo checkpoint") as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value)


def test_foreign_files_say_what_they_are_not(tmp_path: Path) -> None:
    tensor_file = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), tensor_file)
    with pytest.raises(CheckpointError, match="expected keys"):
        load_checkpoint(tensor_file)

    text_file = tmp_path / "notes.pt"
    text_file.write_text("hello")
    with pytest.raises(CheckpointError, match="not a torch zip archive"):
        load_checkpoint(text_file)

    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


class _Payload:
    def __reduce__(self):  # would run `print` on unpickling
        return (print, ("unpickled code ran",))


def test_pickled_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"arch": "lw-relu6", "config": {}, "state_dict": {}, "meta": _Payload()}, path)
    with pytest.raises(CheckpointError, match="pickles objects"):
        load_checkpoint(path)


def test_archive_with_garbage_pickle_is_reported_as_corrupted(tmp_path: Path) -> None:
    path = tmp_path / "garbage.pt"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"x": 1})[:5])
        z.writestr("archive/version", "3\n")
    path.write_bytes(buf.getvalue())
    with pytest.raises(CheckpointError, match="is not a zoo checkpoint"):
        load_checkpoint(path)
