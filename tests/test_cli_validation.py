"""Every command refuses bad arguments at once: a one-line ``error:``, a non-zero exit, no traceback,
and nothing expensive (rendering, training, exporting, benchmarking) started first (issue 24, part 2).

The expensive entry points are replaced by trip-wires that fail the test if a command reaches them,
and each refusal must take well under a second once the modules are imported.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zoo.cli import app

runner = CliRunner()

#: (module, attribute) of every entry point that renders, trains, exports, times or loads a model.
EXPENSIVE = [
    ("zoo.synth.generate", "default_dataset"), ("zoo.synth.generate", "write_dataset"),
    ("zoo.engine.trainer", "Trainer"), ("zoo.engine.throughput", "measure"),
    ("zoo.backends.calibration", "calibration_set"), ("zoo.backends.sources", "export_model"),
    ("zoo.backends.sources", "resolve_model"), ("zoo.predict", "detect_faces"),
    ("bench.harness", "run_benchmark"), ("eval.datasets", "load_faces"), ("eval.runner", "open_runner"),
    ("zoo.track.benchmark", "run_tracking_benchmark"), ("zoo.track.model", "load_predictor"),
    ("zoo.track.clips", "render_clip"), ("zoo.checkpoints.fdfat_import", "import_fdfat"),
    ("zoo.data.check", "check_dataset"), ("zoo.weights.ship", "ship"), ("zoo.transfer.run", "run_transfer"),
]


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Import what the commands import lazily, so the time limit measures the checks, not first imports."""
    import importlib

    for module, _ in EXPENSIVE:
        importlib.import_module(module)
    runner.invoke(app, ["train", "no-such-variant"])


@pytest.fixture
def tripwires(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import importlib

    reached: list[str] = []
    for module, name in EXPENSIVE:
        def wire(*_a, _what=f"{module}.{name}", **_k):  # noqa: ANN002, ANN003, ANN202
            reached.append(_what)
            raise AssertionError(f"{_what} ran before the arguments were checked")
        monkeypatch.setattr(importlib.import_module(module), name, wire)
    return reached


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "face.png").write_bytes(b"")  # an image path that exists (the model check comes first)
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "data.yaml").write_text("base_path: .\ntrain: [face.png]\n")
    (tmp_path / "notyaml.yaml").write_text("just a string\n")
    return {"tmp": str(tmp_path), "png": str(tmp_path / "face.png"), "file": str(tmp_path / "a_file"),
            "yaml": str(tmp_path / "data.yaml"), "badyaml": str(tmp_path / "notyaml.yaml"),
            "missing": str(tmp_path / "missing.pt")}


CASES = [
    # zoo train
    ("train no-such-variant --epochs 1", "unknown variant 'no-such-variant'"),
    ("train lw-relu6x", "did you mean"),
    ("train lw-relu6 --loss huber", "loss must be one of"),
    ("train lw-relu6 --device tpu", "device must be one of"),
    ("train lw-relu6 --batch 0", "batch >= 1"),
    ("train lw-relu6 --lr -1", "lr > 0"),
    ("train lw-relu6 --cache disk", "--cache must be"),
    ("train lw-relu6 --photometric loud", "photometric must be"),
    ("train lw-relu6 --yaw-prior sideways", "yaw prior must be"),
    ("train lw-relu6 --part-weights jaw", "NAME=WEIGHT"),
    ("train lw-relu6 --workers -1", "--workers must be at least 0"),
    ("train lw-relu6 --threads 0", "--threads must be at least 1"),
    ("train lw-relu6 --images-per-epoch 0", "--images-per-epoch must be at least 1"),
    ("train lw-relu6 --data {missing}", "dataset YAML not found"),
    ("train lw-relu6 --data {badyaml}", "must be a mapping"),
    ("train lw-relu6 --init {missing}", "--init"),
    ("train lw-relu6 --val-extra {missing}", "--val-extra"),
    ("train lw-relu6 --out {file}", "not a folder"),
    ("train lw-relu6 --resume {missing}", "--resume"),
    # zoo export
    ("export no-such-variant", "unknown variant"),
    ("export {missing}", "not found"),
    ("export lw-relu6 --format caffe", "unknown format caffe"),
    ("export lw-relu6 --precision fp8", "unknown precision fp8"),
    ("export lw-relu6 --calib-count 0", "--calib-count"),
    ("export lw-relu6 --calib-data {missing}", "--calib-data"),
    ("export lw-relu6 --out {file}", "not a folder"),
    ("export --from-onnx {missing}", "no such ONNX file"),
    # zoo predict
    ("predict {png} -m no-such-variant", "unknown variant"),
    ("predict {png} -m {missing}", "not found"),
    ("predict {png} -m lw-relu6 -b caffe", "unknown backend"),
    ("predict {png} -m lw-relu6 -p fp8", "unknown precision"),
    ("predict {png} -m lw-relu6 --threads 0", "--threads must be at least 1"),
    ("predict {png} -m lw-relu6 --box 1,2,3", "--box"),
    ("predict {png} -m lw-relu6 --out {tmp}", "is a folder"),
    ("predict {missing} -m lw-relu6", "no such image file"),
    # zoo bench
    ("bench -b caffe -v lw-relu6 --no-peers", "unknown backend caffe"),
    ("bench -p fp8 -v lw-relu6 --no-peers", "unknown precision fp8"),
    ("bench -t two -v lw-relu6 --no-peers", "--threads takes integers"),
    ("bench -t 0 -v lw-relu6 --no-peers", "must be at least 1"),
    ("bench --runs 0 -v lw-relu6 --no-peers", "must be at least 1"),
    ("bench --block 0 -v lw-relu6 --no-peers", "--block"),
    ("bench --task nap -v lw-relu6 --no-peers", "--task must be one of"),
    ("bench -v no-such-variant --no-peers", "unknown variant"),
    ("bench -a {missing} --no-peers", "--artifact"),
    ("bench --peer {missing}", "--peer"),
    ("bench --out {file} -v lw-relu6 --no-peers", "not a folder"),
    ("bench --task track -b caffe", "--task track takes one backend"),
    # zoo eval
    ("eval -v lw-relu6 -c {missing}", "exactly one of"),
    ("eval -v no-such-variant", "unknown variant"),
    ("eval -c {missing}", "--checkpoint"),
    ("eval -a {missing}", "--artifact"),
    ("eval --peer fdfat-nothing", "--peer"),
    ("eval -c {file} -b caffe", "unknown backend"),
    ("eval -c {file} -p fp8", "unknown precision"),
    ("eval -c {file} --batch 0", "must be at least 1"),
    ("eval -c {file} --dataset imagenet", "unknown dataset"),
    ("eval -c {file} --dataset {missing}.yaml", "no such dataset YAML"),
    ("eval -c {file} --dataset 300w", "needs --root"),
    ("eval -c {file} --resample cubic", "--resample"),
    ("eval -c {file} --split holdout", "--split"),
    # zoo track / track-bench
    ("track {missing}.mp4 --model no-such-variant", "unknown variant"),
    ("track {missing}.mp4 --backend caffe", "unknown backend"),
    ("track {missing}.mp4 --model {missing}", "not found"),
    ("track {missing}.mp4 --filter median", "unknown filter"),
    ("track {missing}.mp4", "not found"),
    ("track-bench --model no-such-variant", "unknown variant"),
    ("track-bench --backend caffe", "unknown backend"),
    ("track-bench --scenario nowhere --oracle", "unknown scenario"),
    ("track-bench --renderer paint --oracle", "unknown renderer"),
    # zoo data
    ("data synth {tmp}/out --images 0", "--images"),
    ("data synth {tmp}/out --size 8", "--size"),
    ("data synth {tmp}/out --negatives 1.5", "--negatives"),
    ("data synth {tmp}/out --workers 0", "--workers"),
    ("data synth {file}", "not a folder"),
    ("data synth {tmp}/clip --video --scenario nowhere", "unknown scenario"),
    ("data synth {tmp}/clip --video --renderer paint", "unknown renderer"),
    ("data synth {file} --video", "not a folder"),
    ("data synth {tmp}/out --head cartoon", "unknown head 'cartoon'"),
    ("data synth {tmp}/out --camera mid", "unknown camera 'mid'"),
    ("data synth {tmp}/out --pitch-mean 45", "pitch mean must be within"),
    ("data synth {tmp}/out --labels mine", "unknown labels 'mine'"),
    ("data synth {tmp}/out --population martians", "unknown population 'martians'"),
    ("data synth {tmp}/out --head classic --population lfpw", "population 'lfpw' is a population of ICT heads"),
    ("data synth {tmp}/clip --video --camera near", "clips (--video) use the default"),
    ("data check {missing}", "dataset YAML not found"),
    ("data check {badyaml}", "must be a mapping"),
    ("data preview {yaml} --out {tmp}/sheet.gif", ".png or .jpg"),
    ("data preview {yaml} --n 0", "--n"),
    ("data preview {missing}", "dataset YAML not found"),
    # zoo weights, import-fdfat, models
    ("weights ship {missing}", "no such"),
    ("weights card {missing}", "no such"),
    ("import-fdfat {missing} --out {tmp}/x.pt", "no such file"),
    ("import-fdfat {file} --out {tmp}", "not a folder"),
    ("models nothing-*", "no registered variant"),
    # zoo transfer
    ("transfer bad/name", "use letters, digits"),
    ("transfer x --images 10", "at least 50 faces"),
    ("transfer x --epochs -1", "--epochs must be >= 0"),
    ("transfer x --lr 0", "--lr > 0"),
    ("transfer x --seeds a,b", "whole numbers"),
    ("transfer x --seeds ,", "at least one seed"),
    ("transfer x --real {missing}", "no such dataset YAML"),
    ("transfer x --render camera", "is not key=value"),
    ("transfer x --render colour=blue", "is not key=value"),
    ("transfer x --render pitch_mean=steep", "is not a float"),
    ("transfer x --render camera=sideways", "unknown camera"),
    ("transfer x --photometric loud", "choose one of standard, strong"),
]


@pytest.mark.parametrize(("command", "expected"), CASES, ids=[c for c, _ in CASES])
def test_bad_arguments_fail_fast_with_one_line(command: str, expected: str, files: dict[str, str],
                                               tripwires: list[str]) -> None:
    args = command.format(**files).split()
    start = time.perf_counter()
    result = runner.invoke(app, args)
    elapsed = time.perf_counter() - start
    assert not tripwires, f"{command}: reached {tripwires} before refusing"
    assert result.exit_code != 0, f"{command}: exit 0\n{result.output}"
    assert not isinstance(result.exception, AssertionError), result.exception
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{command}: not one error line:\n{result.output}"
    assert expected in lines[0], f"{command}: {lines[0]!r} does not say {expected!r}"
    assert elapsed < 1.0, f"{command}: took {elapsed:.2f} s to refuse"


def test_train_checks_the_variant_before_rendering_the_standard_set(tripwires: list[str]) -> None:
    """The issue's own example: it used to render for minutes and then say the variant does not exist."""
    result = runner.invoke(app, ["train", "no-such-variant", "--epochs", "1"])
    assert result.exit_code == 1 and not tripwires
    assert result.output.strip() == "error: unknown variant 'no-such-variant': run `zoo models` for the list"


@pytest.mark.parametrize("args", [["train", "lw-relu6", "--photometric", "loud"], ["train", "lw-relu6", "--yaw-prior", "x"],
                                  ["train", "no-such-variant", "--epochs", "1"]])
def test_train_refuses_before_torch_loads(args: list[str]) -> None:
    """In a fresh process: the refusal comes before ``import torch`` (1.2-1.5 s here), not after it."""
    import subprocess
    import sys

    code = ("import sys\nfrom zoo.cli import main\nsys.argv = ['zoo', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('torch loaded' if 'torch' in sys.modules else 'no torch')")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)
    assert proc.stderr.strip().startswith("error:") and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stdout.strip() == "no torch"
