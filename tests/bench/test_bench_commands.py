"""`zoo bench` and `zoo eval` reject bad input with one line, no traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from zoo.cli import app


@pytest.mark.parametrize(("args", "message"), [
    (["bench", "--backend", "tensorrt"], "unknown backend tensorrt"),
    (["bench", "--precision", "int4"], "unknown precision int4"),
    (["bench", "--threads", "two"], "--threads takes integers"),
    (["bench", "--runs", "0"], "must be at least 1"),
    (["bench", "--variant", "lw-relu7", "--no-peers"], "unknown variant 'lw-relu7'"),
    (["eval", "--dataset", "synth"], "give exactly one of --variant, --checkpoint, --artifact or --peer"),
    (["eval", "--dataset", "300w", "--peer", "fdfat-lw"], "needs --root"),
    (["eval", "--dataset", "nope.yaml", "--peer", "fdfat-lw"], "no such dataset YAML"),
])
def test_bad_input_is_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert message in text and "Traceback" not in text
