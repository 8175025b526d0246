"""noxfile: the default eval and bench sessions cover every shipped checkpoint and fdfat's peers (nothing is run)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def noxfile():
    pytest.importorskip("nox")
    spec = importlib.util.spec_from_file_location("zoo_noxfile", REPO / "noxfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    """work/{main,shared}: two shipped checkpoints, fdfat's peers and both real check sets."""
    here = tmp_path / "main"
    (here / "zoo" / "weights").mkdir(parents=True)
    for name in ("lw-relu6-affine-cls", "lwcsp-silu-affine-cls"):
        (here / "zoo" / "weights" / f"{name}.pt").write_bytes(b"x")
    (tmp_path / "shared" / "peers" / "fdfat").mkdir(parents=True)
    for name in ("lfpw-train", "dlib-examples"):
        (tmp_path / "shared" / "data" / "real" / name).mkdir(parents=True)
        (tmp_path / "shared" / "data" / "real" / name / "faces.yaml").write_text("base_path: .\n")
    return here


def _pairs(jobs: list[list[str]], model: list[str], dataset: str) -> set[tuple[str, str]]:
    out = set()
    for job in jobs:
        text = " ".join(job)
        if " ".join(model) in text and job[job.index("--dataset") + 1].endswith(dataset) and "--backend" in job:
            out.add((job[job.index("--backend") + 1], job[job.index("--precision") + 1]))
    return out


def test_eval_jobs_cover_shipped_and_peers_on_every_backend_but_coreml(noxfile, checkout: Path) -> None:
    jobs = noxfile.eval_jobs(checkout)
    assert all(job[:2] == ["zoo", "eval"] for job in jobs)
    assert not any("coreml" in job for job in jobs)
    parity = set(noxfile.PARITY)
    assert len(parity) == 10 and {b for b, _ in parity} == {"torch", "onnx", "openvino", "tflite"}
    lw = ["--checkpoint", str(checkout / "zoo" / "weights" / "lw-relu6-affine-cls.pt")]
    for model in (lw, ["--peer", "fdfat-lw"], ["--peer", "fdfat-lwcsp"]):
        assert _pairs(jobs, model, "synth") == parity
        assert _pairs(jobs, model, "dlib-examples/faces.yaml") == {("onnx", "fp32")}
    assert _pairs(jobs, lw, "lfpw-train/faces.yaml") == {("onnx", "fp32")}
    assert _pairs(jobs, ["--peer", "fdfat-lw"], "lfpw-train/faces.yaml") == parity  # the peers' behaviour is kept
    plain = [job for job in jobs if "--resample" in job]
    assert len(plain) == 4 * 2 and all(job[job.index("--resample") + 1] == "plain" for job in plain)
    assert len(jobs) == 2 * ((1 + 10) + (1 + 1) + 10) + 2 * ((1 + 1) + (1 + 1) + 10)  # peers, shipped: real + synth


def test_eval_jobs_only_filters_and_peers_need_shared(noxfile, checkout: Path) -> None:
    synth_shipped = noxfile.eval_jobs(checkout, ["shipped", "synth"])
    assert len(synth_shipped) == 2 * 10 and all("--checkpoint" in job and "synth" in job for job in synth_shipped)
    assert len(noxfile.eval_jobs(checkout, ["peers", "shipped"])) == len(noxfile.eval_jobs(checkout))
    assert all("--peer" in job for job in noxfile.eval_jobs(checkout, ["peers"]))
    with pytest.raises(ValueError, match="unknown --only tag"):
        noxfile.eval_jobs(checkout, ["fdfat"])
    (checkout.parent / "shared" / "peers" / "fdfat").rmdir()
    assert not any("--peer" in job for job in noxfile.eval_jobs(checkout))


def test_bench_measures_shipped_checkpoints_instead_of_their_random_init(noxfile, checkout: Path) -> None:
    args = noxfile.bench_args(checkout, ["lw-relu6-affine-cls", "lw-silu-affine-cls"])
    assert args[:len(noxfile.BENCH_DEFAULTS)] == noxfile.BENCH_DEFAULTS
    models = [args[i + 1] for i, a in enumerate(args) if a == "--variant"]
    weights = checkout / "zoo" / "weights"
    assert models == [str(weights / "lw-relu6-affine-cls.pt"), str(weights / "lwcsp-silu-affine-cls.pt"), "lw-silu-affine-cls"]
    assert "--no-peers" not in args  # zoo bench adds fdfat's peers to the same run by default
