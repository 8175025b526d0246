"""nox sessions: tests, lint, bench, eval, tables, docs, soak.

``tests`` and ``lint`` build their own virtual environments (reused between runs). ``bench``,
``eval``, ``tables`` and ``docs`` run in the environment nox itself runs in (``python=False``): they
measure and read this installation, and ``tables`` only needs the installed package, so it takes
seconds. Extra arguments after ``--`` replace a session's defaults, e.g.
``nox -s bench -- --backend onnx --runs 300``; ``nox -s eval -- --only shipped,synth`` narrows the
default eval run instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"

HERE = Path(__file__).resolve().parent

#: torch first and pinned: unpinned torch pulls a multi-GB CUDA build on CPU-only machines.
TORCH = "torch==2.13.0"

BENCH_DEFAULTS = ["--backend", "all", "--precision", "fp32,int8", "--threads", "1,2",
                  "--runs", "1000", "--warmup", "50"]


@nox.session(reuse_venv=True)
def tests(session: nox.Session) -> None:
    """Install torch==2.13.0, then the package with every extra, then run pytest."""
    session.install(TORCH)
    session.install("-e", ".[all,dev]")
    session.run("python", "-m", "pytest", *(session.posargs or ["-q"]))


@nox.session(reuse_venv=True)
def lint(session: nox.Session) -> None:
    """ruff over the whole tree (settings in pyproject.toml)."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", *(session.posargs or ["."]))


#: Where shipped trained weights live, relative to the checkout: ``<variant>.pt`` beside a ``<variant>.md`` card.
WEIGHTS = Path("zoo") / "weights"


def shipped_checkpoints(here: Path) -> list[Path]:
    """Every shipped checkpoint (``zoo/weights/*.pt``), sorted; empty before any weights ship."""
    return sorted((here / WEIGHTS).glob("*.pt"))


def bench_args(here: Path, variants: Sequence[str]) -> list[str]:
    """``zoo bench`` arguments of the default round-robin run: every shipped checkpoint (by path, so its trained
    weights are what is exported) plus each of ``variants`` without shipped weights (random init).

    A variant with shipped weights is measured once, as its checkpoint: both would write the same latency.csv key
    (the row's variant column is the architecture's name). fdfat's peers are not named here: ``zoo bench`` adds every
    one under ../shared/peers/fdfat to the same run unless told ``--no-peers``.
    """
    shipped = shipped_checkpoints(here)
    names = {p.stem for p in shipped}
    models = [str(p) for p in shipped] + [v for v in variants if v not in names]
    return [*BENCH_DEFAULTS, *(a for m in models for a in ("--variant", m))]


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """Latency of every shipped checkpoint, every other -affine-cls variant (random init) and fdfat's peers on every
    backend (CoreML: "needs macOS" off macOS), fp32 and int8, 1 and 2 threads, round-robin in one run; upserts
    results/latency.csv."""
    if session.posargs:
        session.run("zoo", "bench", *session.posargs)
        return
    from zoo.architectures import list_variants

    session.run("zoo", "bench", *bench_args(HERE, list_variants("*-affine-cls")))


#: (backend, precision) pairs every model is scored on, so conversion losses show as NME differences. CoreML is
#: left out on purpose: coremltools converts on Linux, but only macOS can run the converted model.
PARITY = [("torch", "fp32"), ("onnx", "fp32"), ("onnx", "fp16"), ("onnx", "int8"), ("openvino", "fp32"),
          ("openvino", "fp16"), ("openvino", "int8"), ("tflite", "fp32"), ("tflite", "fp16"), ("tflite", "int8")]
PEERS = ("fdfat-lw", "fdfat-lwcsp")
#: The real-photo check sets under ../shared/data/real (each a faces.yaml).
REAL_SETS = ("lfpw-train", "dlib-examples")
#: ``nox -s eval -- --only TAG[,TAG]``: which models (shipped, peers) and which data (synth, real).
ONLY_TAGS = {"shipped": "models", "peers": "models", "synth": "data", "real": "data"}


def eval_jobs(here: Path, only: Sequence[str] = ()) -> list[list[str]]:
    """The ``zoo eval`` command lines of the default eval session, in order; nothing is run here.

    fdfat's peers (when ../shared/peers/fdfat exists) and every shipped checkpoint get: each real check set with
    both crop resamplings on ONNX Runtime fp32 (plus every PARITY pair on lfpw-train for the peers, as fdfat's
    reference figures are on it), then every PARITY pair on the synth test split. ``only`` keeps the jobs matching
    its tags: tags of one kind (models: shipped, peers; data: synth, real) widen, two kinds narrow.
    """
    unknown = [t for t in only if t not in ONLY_TAGS]
    if unknown:
        raise ValueError(f"unknown --only tag(s) {', '.join(unknown)}; use {', '.join(ONLY_TAGS)} (comma lists work)")
    real = here.parent / "shared" / "data" / "real"
    models: list[tuple[str, list[str]]] = []
    if (here.parent / "shared" / "peers" / "fdfat").is_dir():
        models += [("peers", ["--peer", p]) for p in PEERS]
    models += [("shipped", ["--checkpoint", str(p)]) for p in shipped_checkpoints(here)]
    jobs: list[tuple[str, str, list[str]]] = []
    for who, model in models:
        for name in REAL_SETS:
            yaml = real / name / "faces.yaml"
            if not yaml.is_file():
                continue
            jobs.append((who, "real", ["--dataset", str(yaml), *model, "--resample", "plain"]))
            pairs = PARITY if who == "peers" and name == "lfpw-train" else [("onnx", "fp32")]
            jobs += [(who, "real", ["--dataset", str(yaml), *model, "--backend", b, "--precision", p]) for b, p in pairs]
        jobs += [(who, "synth", ["--dataset", "synth", *model, "--backend", b, "--precision", p]) for b, p in PARITY]
    wanted = {kind: {t for t in only if ONLY_TAGS[t] == kind} for kind in ("models", "data")}
    return [["zoo", "eval", *args] for who, data, args in jobs
            if (not wanted["models"] or who in wanted["models"]) and (not wanted["data"] or data in wanted["data"])]


@nox.session(python=False)
def eval(session: nox.Session) -> None:  # noqa: A001 - the session's name is the command's name
    """Every shipped checkpoint and fdfat's peers on the synth test split (every PARITY backend/precision) and on
    the real check sets (see eval_jobs). ``-- --only shipped|peers|synth|real`` narrows that (comma lists work);
    any other arguments after ``--`` are one ``zoo eval`` command line instead."""
    args, only = list(session.posargs), []
    while args[:1] == ["--only"] and len(args) > 1:
        only += [t.strip() for t in args[1].split(",") if t.strip()]
        args = args[2:]
    if args:
        session.run("zoo", "eval", *args)
        return
    try:
        jobs = eval_jobs(HERE, only)
    except ValueError as e:
        session.error(str(e))
    if not (HERE.parent / "shared" / "peers" / "fdfat").is_dir():
        session.log("../shared/peers/fdfat is absent: skipping fdfat's models")
    if not shipped_checkpoints(HERE):
        session.log(f"no shipped checkpoints ({WEIGHTS}/*.pt) yet: none of ours to evaluate")
    session.log("coreml: skipped; coremltools converts on Linux, but only macOS can run a CoreML model")
    for job in jobs:
        session.run(*job)


#: ``nox -s soak`` (issue 24): SIGKILLs per writer, fresh fuzz examples per property, and the test files it runs.
SOAK_KILLS = 50
SOAK_FUZZ_EXAMPLES = 1000
SOAK_TESTS = ("tests/checkpoints/test_fuzz_checkpoints.py", "tests/checkpoints/test_hostile_pickles.py",
              "tests/data/test_fuzz_readers.py", "tests/data/test_images.py", "tests/backends/test_fuzz_manifests.py",
              "tests/track/test_fuzz_video.py", "tests/test_results_faults.py", "tests/test_cli_validation.py")


@nox.session(python=False)
def soak(session: nox.Session) -> None:
    """The slow half of the fault tests (docs/reliability.md): SOAK_KILLS kill -9 at random moments per writer
    (checkpoint save, export, results CSV upsert, dataset render; tests/faults.py prints the figures), then the
    fuzz tests with SOAK_FUZZ_EXAMPLES fresh random examples per property and the slow tests among them (two
    trainers sharing one image cache). ``-- ARGS`` replaces tests/faults.py's arguments, e.g. ``-- results:200``."""
    python = sys.executable  # the environment nox runs in, as for bench and eval (not whatever `python` is on PATH)
    session.run(python, str(HERE / "tests" / "faults.py"), *(session.posargs or ["all", "--kills", str(SOAK_KILLS)]))
    session.run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(str(HERE / t) for t in SOAK_TESTS),
                env={"ZOO_FUZZ_EXAMPLES": str(SOAK_FUZZ_EXAMPLES)})


@nox.session(python=False)
def tables(session: nox.Session) -> None:
    """Rewrite the generated tables from results/*.csv (idempotent): the model-choice table in README.md and
    docs/models.md, the latency, accuracy, hardware and tracking tables in docs/benchmarks.md (bench.tables.PAGES)."""
    session.run("python", "-m", "bench.tables", *session.posargs)


@nox.session(python=False)
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/ with ``mkdocs build --strict``: a broken link, a missing page or an
    unresolved API reference fails. Runs in this environment (mkdocs comes with the dev extra) and imports nothing
    of zoo: mkdocstrings reads the source."""
    session.run("mkdocs", "build", "--strict", *(session.posargs or ["--site-dir", "site"]))
