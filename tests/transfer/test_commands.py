"""``zoo transfer`` refuses bad arguments before it renders, trains or scores anything."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zoo.cli import app

runner = CliRunner()
EXPENSIVE = [("zoo.transfer.run", "run_transfer"), ("zoo.synth.generate", "write_dataset"), ("zoo.engine.trainer", "Trainer")]


@pytest.fixture
def tripwires(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reached: list[str] = []
    for module, name in EXPENSIVE:
        def wire(*_a, _what=f"{module}.{name}", **_k):  # noqa: ANN002, ANN003, ANN202
            reached.append(_what)
            raise AssertionError(f"{_what} ran before the arguments were checked")
        monkeypatch.setattr(importlib.import_module(module), name, wire)
    return reached


@pytest.mark.parametrize(("args", "message"), [
    ("transfer 'bad name'", "use letters, digits"),
    ("transfer x --images 10", "at least 50 faces"),
    ("transfer x --epochs -1", "--epochs must be >= 0"),
    ("transfer x --lr 0", "--lr > 0"),
    ("transfer x --seeds a,b", "whole numbers"),
    ("transfer x --seeds ,", "at least one seed"),
    ("transfer x --real /no/such.yaml", "no such dataset YAML"),
    ("transfer x --render camera", "is not key=value"),
    ("transfer x --photometric loud", "choose one of standard, strong"),
    ("transfer x --render colour=blue", "is not key=value"),
])
def test_refusals(args: str, message: str, tripwires: list[str]) -> None:
    import shlex

    result = runner.invoke(app, shlex.split(args))
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert result.output.startswith("error:") and "Traceback" not in result.output
    assert not tripwires


def test_a_bad_option_value_is_refused(tripwires: list[str], tmp_path: Path) -> None:
    from zoo.synth.options import DEFAULT

    numeric = next(k for k, v in vars(DEFAULT).items() if isinstance(v, float))
    result = runner.invoke(app, ["transfer", "x", "--render", f"{numeric}=steep"])
    assert result.exit_code != 0 and "is not a float" in result.output
    assert not tripwires
