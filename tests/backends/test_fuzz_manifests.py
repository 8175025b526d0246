"""Malformed export manifests: ``load_artifact`` gives an Artifact whose fields all read, or a one-line
ArtifactError, never another exception (issue 24, part 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fuzzing import FUZZ
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from zoo.backends.base import MANIFEST_FORMAT, ArtifactError, load_artifact

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                           lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
                           max_leaves=8)
GOOD = {"format": MANIFEST_FORMAT, "file": "model.onnx", "backend": "onnx", "precision": "fp32",
        "input": {"size": 96, "layout": "NCHW"}, "outputs": ["landmarks", "face_score"]}


def _check(folder: Path) -> None:
    try:
        art = load_artifact(folder)
    except ArtifactError as e:
        assert "\n" not in str(e), str(e)
        return
    assert isinstance(art.backend, str) and isinstance(art.precision, str) and 16 <= art.input_size <= 1024
    assert all(isinstance(n, str) for n in art.output_names) and art.path.exists()


@FUZZ
@given(changes=st.dictionaries(st.sampled_from([*GOOD, "rejected", "parity", "variant"]), json_values, max_size=4),
       drop=st.sets(st.sampled_from(list(GOOD)), max_size=2))
def test_damaged_manifest_fields(changes: dict, drop: set, tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    doc = {k: v for k, v in {**GOOD, **changes}.items() if k not in drop}
    (tmp_path / "manifest.json").write_text(json.dumps(doc))
    _check(tmp_path)


@FUZZ
@given(data=st.binary(max_size=400) | json_values.map(json.dumps) | st.just("[" * 100_000))
def test_manifest_bytes(data: bytes | str, tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    _check(tmp_path)


@pytest.mark.parametrize("change", [{"file": 3}, {"file": "../../etc"}, {"input": {"size": "96"}}, {"input": 96},
                                    {"outputs": "landmarks"}, {"outputs": []}, {"backend": None}, {"precision": 16},
                                    {"rejected": 1, "parity": None},  # found by the soak: crashed parity_summary
                                    {"rejected": True, "parity": {"measured": True, "max_abs_error": 3}}])
def test_named_bad_fields_through_the_cli(change: dict, tmp_path: Path) -> None:
    from zoo.cli import app

    (tmp_path / "model.onnx").write_bytes(b"onnx")
    (tmp_path / "manifest.json").write_text(json.dumps({**GOOD, **change}))
    with pytest.raises(ArtifactError):
        load_artifact(tmp_path)
    result = CliRunner().invoke(app, ["bench", "-a", str(tmp_path), "--no-peers", "--runs", "1"])
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.output
