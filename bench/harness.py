"""The latency harness: time ``Runtime.run`` on a preprocessed batch, round-robin over configurations.

What one number includes (``task=latency``, the default): a single ``Runtime.run(batch)`` call on an already-normalised float32
NCHW batch (the runtime's own layout conversion, e.g. NCHW->NHWC for TFLite, and its output
copies included), measured with ``time.perf_counter_ns``. Not included: face detection,
cropping, resizing, normalisation, landmark decoding, pose. ``task=track`` adds the per-face work
of the tracker around it (see ``make_call``).

Round-robin: after warm-up, every configuration runs a block of ``block`` timed calls (preceded
by one untimed call, so each block starts from that model's steady state rather than from the
previous model's caches), then the next configuration; the order rotates every round. Machine
drift (other processes, thermal) therefore hits all configurations alike.
"""

from __future__ import annotations

import datetime as dt
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.artifacts import ModelSource, ensure_artifact
from bench.hostinfo import backend_version, host, load_average
from zoo import __version__


@dataclass
class Config:
    """One row to measure: a model on a backend at a precision, thread count and batch."""

    source: ModelSource
    backend: str
    precision: str
    threads: int
    batch: int = 1
    artifact: Any = None
    runtime: Any = None
    status: str = "ok"
    times_ns: list[int] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # params, flops, input_size

    @property
    def name(self) -> str:
        return f"{self.source.label} {self.backend} {self.precision} t{self.threads} b{self.batch}"


def statistics(times_ns: Sequence[int]) -> dict[str, float]:
    """p50/p90/p99/mean/min/std in milliseconds."""
    ms = np.asarray(times_ns, dtype=np.float64) / 1e6
    if ms.size == 0:
        return {}
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {"p50_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99), "mean_ms": float(ms.mean()),
            "min_ms": float(ms.min()), "std_ms": float(ms.std())}


def model_info(source: ModelSource) -> dict[str, Any]:
    """params, FLOPs (batch 1) and input size of a source's network."""
    from zoo.architectures import build_model
    from zoo.architectures.summary import count_flops

    if source.checkpoint is None:  # an artifact: cost from its manifest's spec (None for a foreign file)
        spec = source.spec
        size = source.artifact.input_size
        if spec is None:
            return {"params": None, "flops": None, "input_size": size}
        model = build_model(spec)
    else:
        model = source.load()
        size = model.spec.input_size
    return {"params": sum(p.numel() for p in model.parameters()), "flops": count_flops(model, size), "input_size": size}


def artifact_size(artifact: Any) -> int:
    """Bytes on disk of what a deployment ships: the model file, its weights sidecar, or a package folder."""
    path = Path(artifact.path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    size = path.stat().st_size
    sidecar = path.with_suffix(".bin")  # OpenVINO IR keeps weights beside the .xml
    if path.suffix == ".xml" and sidecar.is_file():
        size += sidecar.stat().st_size
    return size


def prepare(config: Config, on_linux_coreml: str = "needs macOS") -> Config:
    """Export (cached) and load one configuration; a failure becomes the row's status, not a crash."""
    from zoo.backends import MissingExtraError, ParityError, get_backend

    if config.backend == "coreml" and platform.system() != "Darwin":
        config.status = on_linux_coreml
        return config
    try:
        drift = config.source.random_init
        config.artifact = ensure_artifact(config.source, config.backend, config.precision, allow_drift=drift)
        try:
            config.runtime = get_backend(config.backend).load(config.artifact, config.threads)
        except MissingExtraError:
            raise
        except Exception:  # a cached export that no longer loads (e.g. made by an older zoo): export again, once
            if config.source.artifact is not None:
                raise
            config.artifact = ensure_artifact(config.source, config.backend, config.precision, allow_drift=drift, force=True)
            config.runtime = get_backend(config.backend).load(config.artifact, config.threads)
    except MissingExtraError as e:
        config.status = f"missing extra: {str(e).splitlines()[0]}"
    except ParityError as e:  # short enough for a table cell; the export command prints the whole story
        nme = e.parity.get("nme_difference")
        config.status = "refused: parity" + (f" (NME {nme:+.1f})" if nme is not None else "")
    except Exception as e:  # noqa: BLE001 - one failing backend must not stop the others' rows
        config.status = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"
    return config


TASKS = ("latency", "pipeline")


def make_call(config: Config, task: str, rng: np.random.Generator) -> Callable[[], Any]:
    """The zero-argument call one timing measures.

    ``latency``: ``Runtime.run`` on a fixed preprocessed batch. ``track``: what a tracker pays per face
    per frame besides detection: crop + resize from a 640x480 frame, normalise, ``Runtime.run``,
    and landmarks mapped back to frame pixels (no detection, smoothing or pose).
    """
    if task not in TASKS:
        raise ValueError(f"unknown bench task {task!r}; known: {', '.join(TASKS)}")
    size = config.info.get("input_size") or 96
    run = config.runtime.run
    if task == "latency":
        x = rng.uniform(-1, 1, size=(config.batch, 3, size, size)).astype(np.float32)
        return lambda: run(x)
    from zoo.data.dataset import crop_and_resize, normalize

    frame = rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    box = np.array([220.0, 140.0, 420.0, 340.0])

    def call() -> np.ndarray:
        crop, m = crop_and_resize(frame, box, size)
        out = run(normalize(crop)[None])
        px = (out["landmarks"][0] + 0.5) * size
        return (px - m[:, 2]) / m[0, 0]  # crop_and_resize's matrix is a pure scale + shift

    return call


def measure(configs: Sequence[Config], runs: int, warmup: int, block: int = 10,
            advance: Callable[[int], None] | None = None, seed: int = 0, task: str = "latency") -> None:
    """Fill ``times_ns`` of every ready configuration: warm-up, then round-robin blocks."""
    ready = [c for c in configs if c.runtime is not None]
    calls = {id(c): make_call(c, task, np.random.default_rng(seed)) for c in ready}
    for c in ready:
        for _ in range(warmup):
            calls[id(c)]()
    block = max(1, min(block, runs))
    rounds = -(-runs // block)
    clock = time.perf_counter_ns
    for r in range(rounds):
        n = min(block, runs - r * block)
        shift = r % len(ready) if ready else 0
        for c in ready[shift:] + ready[:shift]:
            call = calls[id(c)]
            call()  # untimed: back to this model's steady state
            for _ in range(n):
                t0 = clock()
                call()
                c.times_ns.append(clock() - t0)
        if advance:
            advance(n * len(ready))


def to_row(config: Config, task: str = "latency", date: str | None = None) -> dict[str, Any]:
    """The latency.csv row of a configuration (numbers empty when its status is not ok)."""
    h = host()
    art = config.artifact
    manifest = getattr(art, "manifest", None) or {}
    row: dict[str, Any] = {
        "host": h.name, "cpu": h.cpu, "cores": h.cores, "os": h.os, "backend": config.backend,
        "backend_version": backend_version(config.backend), "variant": config.source.label, "precision": config.precision,
        "threads": config.threads, "batch": config.batch, "input_size": config.info.get("input_size"),
        "runs": len(config.times_ns), "artifact_sha256": _sha(art), "zoo_version": __version__,
        "date": date or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "device": manifest.get("device", "cpu"), "task": task, "size_bytes": artifact_size(art) if art else None,
        "params": config.info.get("params"), "flops": config.info.get("flops"), "peer": config.source.peer,
        "status": config.status, "checkpoint_sha256": config.source.sha256,
        "load_avg": f"{config.info.get('load_before', '')}->{load_average().split()[0]}",
    }
    row.update(statistics(config.times_ns))
    return row


def _sha(artifact: Any) -> str | None:
    if artifact is None:
        return None
    from zoo.checkpoints.checkpoint import sha256_file

    path = Path(artifact.path)
    return sha256_file(path) if path.is_file() else None


def run_benchmark(sources: Sequence[ModelSource], backends: Sequence[str], precisions: Sequence[str],
                  threads: Sequence[int], batch: int, runs: int, warmup: int, block: int = 10,
                  progress: Any = None, task: str = "latency") -> list[Config]:
    """Prepare every (source, backend, precision, threads) configuration and measure them together."""
    from zoo.backends import info as backend_info

    info = {s.label: {**model_info(s), "load_before": load_average().split()[0]} for s in sources}
    # a precision a backend does not offer (torch is the fp32 reference) is not a row at all
    configs = []
    for s in sources:
        if s.artifact is not None:  # measured as exported: its own backend and precision
            configs += [Config(s, s.artifact.backend, s.artifact.precision, t, batch, info=dict(info[s.label])) for t in threads]
            continue
        configs += [Config(s, b, p, t, batch, info=dict(info[s.label]))
                    for b in backends for p in precisions for t in threads if p in backend_info(b).precisions]
    bar = progress.add_task("export + load", total=len(configs)) if progress else None
    for c in configs:
        if progress:
            progress.update(bar, description=f"export + load {c.name}")
        prepare(c)
        if progress:
            progress.advance(bar)
    ready = [c for c in configs if c.runtime is not None]
    if progress:
        timing = progress.add_task(f"timing {len(ready)} configurations", total=runs * len(ready))
        measure(configs, runs, warmup, block, advance=lambda n: progress.advance(timing, n), task=task)
    else:
        measure(configs, runs, warmup, block, task=task)
    return configs
