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


HEAVY = ("torch", "cv2", "onnxruntime", "numba", "pandas", "matplotlib")


def _modules_after(code: str) -> list[str]:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys; print([m for m in {HEAVY!r} if m in sys.modules])"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 - our own print of a list of names


def test_help_version_and_models_load_no_heavy_library() -> None:
    """What makes `zoo --help` and `zoo models` answer in well under a second: only the commands that run a model
    import torch, OpenCV or a runtime."""
    assert _modules_after("import zoo.cli") == []
    assert _modules_after("from zoo.cli import app\ntry:\n    app(['models'])\nexcept SystemExit:\n    pass") == []


def test_flags_show_no_type_label() -> None:
    for args in (["--help"], ["track", "--help"], ["export", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "<bool>" not in result.output


def test_models_marks_shipped_weights_and_the_default() -> None:
    from zoo.weights import default_name, shipped_weights

    result = runner.invoke(app, ["models"], env={"COLUMNS": "200"})
    rows = {line.split("│")[1].strip(): line.split("│")[-2].strip() for line in result.output.splitlines()
            if line.startswith("│") and line.count("│") > 8}
    default = default_name().removesuffix(".pt")
    assert rows[default] == "default"
    assert {n for n, mark in rows.items() if mark == "shipped"} == {p.stem for p in shipped_weights()} - {default}
    from zoo.architectures.registry import VARIANTS

    assert rows["lw-relu6"] == "" and len(rows) == len(VARIANTS)  # one row per registered variant


def test_predict_without_model_uses_the_shipped_default(tmp_path) -> None:  # noqa: ANN001 - pytest fixture
    import json

    import cv2
    import numpy as np

    from zoo.track.clips import read_ground_truth, render_clip
    from zoo.weights import default_name

    video = render_clip(tmp_path / "clip", 2, "yaw_sweep", 0)
    ok, frame = cv2.VideoCapture(str(video)).read()
    assert ok and cv2.imwrite(str(tmp_path / "face.png"), frame)
    lm = read_ground_truth(tmp_path / "clip" / "frames.jsonl")[0]["faces"][0]["landmarks"]
    box = ",".join(f"{v:.1f}" for v in np.r_[lm.min(0), lm.max(0)])
    result = runner.invoke(app, ["predict", str(tmp_path / "face.png"), "--box", box, "--json", str(tmp_path / "out.json")])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["model"] == default_name().removesuffix(".pt") and len(doc["faces"]) == 1


def test_demo_explains_its_statistics_and_first_run(tmp_path, monkeypatch) -> None:  # noqa: ANN001 - pytest fixtures
    from zoo.track.demo import default_out_dir, first_run_note, nme_note
    from zoo.weights import WEIGHTS_DIR, default_name

    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    assert default_out_dir() == tmp_path / "demo"
    weights = WEIGHTS_DIR / default_name()
    assert "compiles the renderer's kernels" in first_run_note(str(weights))
    from zoo.fileio import sha256_file

    manifest = tmp_path / "exports" / sha256_file(weights)[:16] / "some-variant" / "onnx-fp32" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("{}")
    assert first_run_note(str(weights)) is None
    note = nme_note({"nme_mean": 5.8, "nme_median": 2.9, "nme_p95": 5.3, "nme_over10": 0.04})
    assert "median" in note and "95 %" in note and "5.80 %" in note and "4 %" in note


def test_predict_announces_a_first_export(tmp_path, monkeypatch) -> None:  # noqa: ANN001 - pytest fixtures
    """With an empty cache the first load exports (half a minute on this machine): the command says so first."""
    import cv2
    import numpy as np

    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    image = tmp_path / "grey.png"
    cv2.imwrite(str(image), np.full((120, 160, 3), 128, np.uint8))
    result = runner.invoke(app, ["predict", str(image), "--box", "40,20,120,100", "--backend", "onnx"])
    assert result.exit_code == 0, result.output
    assert "first run: exporting the model to onnx fp32" in result.output
    again = runner.invoke(app, ["predict", str(image), "--box", "40,20,120,100", "--backend", "onnx"])
    assert again.exit_code == 0 and "first run" not in again.output


@pytest.mark.parametrize(("args", "needle"), [
    (["track-bench", "--threads", "0"], "Invalid value for '--threads'"),
    (["--no-such-flag"], "No such option: --no-such-flag"),
    (["models", "--bogus"], "No such option: --bogus"),
])
def test_usage_mistakes_click_finds_are_one_line(args: list[str], needle: str) -> None:
    """Through the real entry point (``main``), not CliRunner: click's own checks print one error line too."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and "--help" in lines[0]


def test_bare_command_still_shows_help() -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "zoo", "data"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "zoo data [OPTIONS] COMMAND" in proc.stdout + proc.stderr
