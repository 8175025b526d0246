"""Malformed checkpoints and fdfat files: every one gives a CheckpointError, never another exception
(issue 24, part 3). Property-based where the space is large (bytes, truncation points, plain data in
the dict), explicit where the case has a name (zip bomb, wrong shapes, a config that is not a variant).
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

import pytest
import torch
from fuzzing import FUZZ
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from zoo.architectures import create_model
from zoo.checkpoints.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from zoo.checkpoints.fdfat_import import import_fdfat


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("ckpt") / "good.pt"
    save_checkpoint(path, create_model("lw-relu6-w0.5"), meta={"metrics": {"val_nme": 9.9}})
    return path.read_bytes()


def _load_or_refuse(path: Path) -> None:
    """The property: a file either loads and builds, or raises CheckpointError with one line naming it."""
    try:
        load_checkpoint(path).build()
    except CheckpointError as e:
        assert "\n" not in str(e) and str(path) in str(e), str(e)


def _write(data: bytes) -> Path:
    fd, name = tempfile.mkstemp(suffix=".pt")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return Path(name)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_are_refused(data: bytes) -> None:
    path = _write(data)
    try:
        with pytest.raises(CheckpointError):
            load_checkpoint(path)
        with pytest.raises(CheckpointError):
            import_fdfat(path, path.with_suffix(".out.pt"))
    finally:
        path.unlink()


@FUZZ
@given(cut=st.floats(0.0, 0.9999))
def test_truncation_anywhere_is_refused(good_bytes: bytes, cut: float) -> None:
    path = _write(good_bytes[: int(len(good_bytes) * cut)])
    try:
        with pytest.raises(CheckpointError):
            load_checkpoint(path)
    finally:
        path.unlink()


@pytest.mark.parametrize("size", [0, 1, 4, 22, 64, 512, 4096, -4096, -512, -64, -22, -1])
def test_truncation_at_every_size_class(good_bytes: bytes, size: int, tmp_path: Path) -> None:
    """Empty, a header's worth, a block's worth, and a few bytes short of complete (the end record)."""
    path = tmp_path / "cut.pt"
    path.write_bytes(good_bytes[:size])
    with pytest.raises(CheckpointError, match="not a zoo checkpoint"):
        load_checkpoint(path)


@FUZZ
@given(flips=st.lists(st.tuples(st.floats(0, 0.9999), st.integers(1, 255)), min_size=1, max_size=8))
def test_flipped_bytes_load_or_are_refused(good_bytes: bytes, flips: list[tuple[float, int]]) -> None:
    """Corruption inside the archive: CRC-checked members, so a flip is caught or lands in slack space."""
    data = bytearray(good_bytes)
    for where, xor in flips:
        data[int(where * len(data))] ^= xor
    path = _write(bytes(data))
    try:
        _load_or_refuse(path)
    finally:
        path.unlink()


plain = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
                     lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                     max_leaves=12)


@FUZZ
@given(doc=st.dictionaries(st.sampled_from(["format", "arch", "config", "state_dict", "meta", "adapter", "extra"]), plain))
def test_plain_data_in_place_of_a_checkpoint(doc: dict, tmp_path: Path) -> None:
    """Any plain dict torch.save can write: loads with weights_only, then must be refused for what it lacks."""
    path = tmp_path / "plain.pt"
    torch.save(doc, path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path).build()


@FUZZ
@given(config=plain)
def test_a_config_that_is_not_a_variant(config: object, good_bytes: bytes, tmp_path: Path) -> None:
    doc = torch.load(io.BytesIO(good_bytes), weights_only=True)
    doc["config"] = config
    path = tmp_path / "config.pt"
    torch.save(doc, path)
    _load_or_refuse(path)


@pytest.mark.parametrize("config", [{"family": "resnet", "activation": "relu"}, {"family": "lw", "activation": "relu6",
                                    "num_points": 5}, {"family": "lw", "activation": "relu6", "input_size": -3},
                                    {"family": "lw", "activation": "relu6", "width": "wide"}, "lw-relu6", [1, 2], None])
def test_named_bad_configs(config: object, good_bytes: bytes, tmp_path: Path) -> None:
    doc = torch.load(io.BytesIO(good_bytes), weights_only=True)
    doc["config"] = config
    path = tmp_path / "config.pt"
    torch.save(doc, path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path).build()


@pytest.mark.parametrize("damage", ["shape", "missing", "extra", "not-tensor", "not-dict"])
def test_wrong_tensors(damage: str, good_bytes: bytes, tmp_path: Path) -> None:
    doc = torch.load(io.BytesIO(good_bytes), weights_only=True)
    state = doc["state_dict"]
    name = next(k for k, v in state.items() if v.ndim == 4)
    if damage == "shape":
        state[name] = torch.zeros(3, 3)
    elif damage == "missing":
        del state[name]
    elif damage == "extra":
        state["head.surprise"] = torch.zeros(2)
    elif damage == "not-tensor":
        state[name] = [1.0, 2.0]
    else:
        doc["state_dict"] = [1, 2, 3]
    path = tmp_path / "tensors.pt"
    torch.save(doc, path)
    with pytest.raises(CheckpointError, match="weights do not fit|state_dict"):
        load_checkpoint(path).build()


def test_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    """A deflated 256 MB member of a 256 KB file: refused from the zip directory, never read."""
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("bomb/data.pkl", b"\x80\x02}q\x00.")
        with z.open("bomb/data/0", "w", force_zip64=True) as f:
            block = bytes(1 << 20)
            for _ in range(256):
                f.write(block)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(CheckpointError, match="compressed member"):
        load_checkpoint(path)


@pytest.mark.parametrize("obj", [[1, 2, 3], {"model": {"a": 1}}, torch.zeros(3), {"state_dict": {}}])
def test_foreign_plain_files_through_the_cli(obj: object, tmp_path: Path) -> None:
    """Through ``zoo export`` and ``zoo import-fdfat``: one error line, exit 1, no traceback."""
    from zoo.cli import app

    path = tmp_path / "foreign.pt"
    torch.save(obj, path)
    for args in (["export", str(path), "--out", str(tmp_path / "x")], ["import-fdfat", str(path), "--out",
                                                                       str(tmp_path / "o.pt")]):
        result = CliRunner().invoke(app, args)
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert "Traceback" not in result.output
