"""The root command: version, help, and errors that keep their brackets."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from zoo import __version__
from zoo.cli import app, fail

runner = CliRunner()


def test_version_and_help() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    result = runner.invoke(app, ["--help"])
    for command in ("models", "import-fdfat", "data", "train", "export", "predict", "bench", "eval", "track", "demo"):
        assert command in result.output


def test_models_lists_variants_and_rejects_a_pattern_without_matches() -> None:
    result = runner.invoke(app, ["models", "lwcsp-silu-affine-cls"])
    assert result.exit_code == 0 and "482,165" in result.output and "122.8" in result.output
    result = runner.invoke(app, ["models", "nothing-*"])
    assert result.exit_code == 1 and "no registered variant" in result.output


def test_fail_keeps_square_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit):
        fail("install it with pip install 'zoo[openvino]'")
    assert "zoo[openvino]" in capsys.readouterr().err
