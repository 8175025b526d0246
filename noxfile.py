"""nox sessions: tests, lint, bench, eval, tables.

``tests`` and ``lint`` build their own virtual environments (reused between runs). ``bench``,
``eval`` and ``tables`` run in the environment nox itself runs in (``python=False``): they
measure and read this installation, and ``tables`` only needs the installed package, so it takes
seconds. Extra arguments after ``--`` replace a session's defaults, e.g.
``nox -s bench -- --backend onnx --runs 300``.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"

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


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """Latency of every -affine-cls variant and fdfat's peers on every backend (CoreML: "needs macOS" off macOS),
    fp32 and int8, 1 and 2 threads, round-robin in one run; upserts results/latency.csv."""
    session.run("zoo", "bench", *(session.posargs or BENCH_DEFAULTS))


#: (backend, precision) pairs fdfat's peers are scored on, so conversion losses show as NME differences.
PARITY = [("torch", "fp32"), ("onnx", "fp32"), ("onnx", "int8"), ("openvino", "fp32"), ("openvino", "int8"),
          ("tflite", "fp32"), ("tflite", "int8")]


@nox.session(python=False)
def eval(session: nox.Session) -> None:  # noqa: A001 - the session's name is the command's name
    """fdfat's peers on the real check sets (every backend/precision on lfpw-train; both crop resamplings
    on ONNX Runtime fp32), and every shipped checkpoint on the synth test split."""
    if session.posargs:
        session.run("zoo", "eval", *session.posargs)
        return
    from pathlib import Path

    here = Path(__file__).resolve().parent
    shared = here.parent / "shared"
    real = shared / "data" / "real"
    if (shared / "peers" / "fdfat").is_dir():
        for peer in ("fdfat-lw", "fdfat-lwcsp"):
            for name in ("lfpw-train", "dlib-examples"):
                yaml = real / name / "faces.yaml"
                if not yaml.is_file():
                    continue
                session.run("zoo", "eval", "--dataset", str(yaml), "--peer", peer, "--resample", "plain")
                for backend, precision in PARITY if name == "lfpw-train" else [("onnx", "fp32")]:
                    session.run("zoo", "eval", "--dataset", str(yaml), "--peer", peer, "--backend", backend,
                                "--precision", precision)
    else:
        session.log("../shared/peers/fdfat is absent: skipping fdfat's models")
    for weights in sorted((here / "zoo" / "weights").glob("*.pt")):
        session.run("zoo", "eval", "--dataset", "synth", "--checkpoint", str(weights))


@nox.session(python=False)
def tables(session: nox.Session) -> None:
    """Rewrite README.md's latency, accuracy and hardware tables from results/*.csv (idempotent)."""
    session.run("python", "-m", "bench.tables", *(session.posargs or ["README.md"]))
