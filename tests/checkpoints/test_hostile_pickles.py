"""Hostile pickles through every loader of a user-given model file, in both torch formats.

torch writes two formats: the zip archive (default since 1.6) and the legacy stream of
concatenated pickles (``_use_new_zipfile_serialization=False``), and ``torch.load`` also reads a
bare pickle through the legacy path. The legacy reader calls ``pickle_module.load`` before it
builds an ``Unpickler``, so a restricted ``Unpickler`` alone does not protect it (issue 24).
Every case here would create a marker file if any code in the payload ran.
"""

from __future__ import annotations

import ast
import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from zoo.backends import get_backend
from zoo.backends.base import MANIFEST_FORMAT, ArtifactError, load_artifact
from zoo.checkpoints.checkpoint import CheckpointError, load_checkpoint
from zoo.checkpoints.fdfat_import import fdfat_pickle, import_fdfat

REPO = Path(__file__).resolve().parents[2]


class _System:
    """Unpickling this calls ``os.system(command)``."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple:
        return os.system, (self.command,)


def _write(kind: str, path: Path, obj: object) -> None:
    if kind == "bare-pickle":  # issue 24's repro: not torch's format at all
        path.write_bytes(pickle.dumps(obj))
    elif kind == "torch-legacy":
        torch.save(obj, path, _use_new_zipfile_serialization=False)
    else:
        torch.save(obj, path)


FORMATS = ["bare-pickle", "torch-legacy", "torch-zip"]


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "PWNED"


@pytest.mark.parametrize("kind", FORMATS)
def test_fdfat_import_refuses_code_in_every_format(kind: str, tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "evil.pt"
    _write(kind, path, {"model": _System(f"touch {marker}"), "epoch": 1})
    with pytest.raises(CheckpointError, match="refusing to unpickle .*system"):
        import_fdfat(path)
    assert not marker.exists()


@pytest.mark.parametrize("kind", FORMATS)
def test_checkpoint_loader_refuses_code_in_every_format(kind: str, tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "evil.pt"
    _write(kind, path, {"arch": "x", "config": {}, "state_dict": _System(f"touch {marker}"), "meta": {}})
    with pytest.raises(CheckpointError, match="is not a zoo checkpoint"):
        load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize("kind", FORMATS)
def test_torch_artifact_refuses_code_in_every_format(kind: str, tmp_path: Path, marker: Path) -> None:
    """A hand-made manifest pointing the torch backend at a hostile file."""
    path = tmp_path / "model.pt"
    _write(kind, path, {"arch": "x", "config": {}, "state_dict": _System(f"touch {marker}"), "meta": {}})
    manifest = {"format": MANIFEST_FORMAT, "file": "model.pt", "backend": "torch", "precision": "fp32",
                "input": {"size": 96}, "outputs": ["landmarks"]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="is not a zoo checkpoint"):
        get_backend("torch").load(load_artifact(tmp_path))
    assert not marker.exists()


def test_legacy_format_still_reads_plain_tensors(tmp_path: Path) -> None:
    """The restricted ``load`` must still read what torch's legacy path needs (magic, sys info, storages)."""
    path = tmp_path / "old.pt"
    torch.save({"model": torch.arange(3.0), "epoch": 1}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="no pickled fdfat model under 'model'"):
        import_fdfat(path)  # read fine, then found to hold a tensor rather than a model


def test_cli_repro_from_issue_24(tmp_path: Path, marker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo.cli import app

    monkeypatch.chdir(tmp_path)
    Path("evil.pt").write_bytes(pickle.dumps({"model": _System(f"touch {marker}")}))
    result = CliRunner().invoke(app, ["import-fdfat", "evil.pt", "--out", "x.pt"])
    assert result.exit_code != 0
    assert result.output.strip().startswith("error:") and "refusing to unpickle" in result.output
    assert not marker.exists() and not Path("x.pt").exists()


def test_fdfat_pickle_module_exposes_no_unrestricted_entry() -> None:
    for name in ("load", "loads", "Unpickler"):
        entry = getattr(fdfat_pickle, name, None)
        assert entry not in (pickle.load, pickle.loads, pickle.Unpickler, getattr(pickle, "_Unpickler", None)), name


# --- the source tree: no unrestricted unpickling anywhere -----------------------------------------------

def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, ast.unparse(node.func)


def test_no_unrestricted_unpickling_in_the_code() -> None:
    """Only the fdfat importer may unpickle objects, and only through its allow-list module."""
    bad: list[str] = []
    for path in sorted([*(REPO / "zoo").rglob("*.py"), *(REPO / "bench").rglob("*.py"), *(REPO / "eval").rglob("*.py")]):
        rel = path.relative_to(REPO)
        tree = ast.parse(path.read_text(), str(rel))
        for node, func in _calls(tree):
            kw = {k.arg: ast.unparse(k.value) for k in node.keywords if k.arg}
            where = f"{rel}:{node.lineno}"
            if func in ("pickle.load", "pickle.loads", "pickle.Unpickler", "cloudpickle.load", "dill.load",
                        "joblib.load", "pd.read_pickle", "pandas.read_pickle", "yaml.load", "yaml.unsafe_load",
                        "torch.jit.load", "marshal.loads"):
                bad.append(f"{where}: {func}")
            if func in ("np.load", "numpy.load") and kw.get("allow_pickle") not in (None, "False"):
                bad.append(f"{where}: np.load allow_pickle")
            if func == "torch.load":
                if kw.get("weights_only") == "True":
                    continue
                if kw.get("weights_only") == "False" and kw.get("pickle_module") == "fdfat_pickle" \
                        and rel.as_posix().endswith("fdfat_import.py"):
                    continue
                bad.append(f"{where}: torch.load without weights_only=True")
    assert not bad, "unrestricted unpickling: " + "; ".join(bad)
