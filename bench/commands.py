"""``zoo bench``: latency of any variant, checkpoint or fdfat peer on any backend; ``zoo.cli`` calls ``register(app)``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

PRECISIONS = ("fp32", "fp16", "int8")


def _split_ints(values: list[str]) -> list[int]:
    out = []
    for v in values:
        out += [int(x) for x in str(v).split(",") if x.strip()]
    return out


def _split(values: list[str] | None) -> list[str]:
    return [x.strip() for v in values or [] for x in str(v).split(",") if x.strip()]


def bench(
    backend: Annotated[list[str], typer.Option("--backend", "-b", help="Backend(s) or 'all' (comma lists work).")] = ["onnx"],  # noqa: B006
    variant: Annotated[list[str] | None, typer.Option("--variant", "-v", help="Registered variant(s) (random-init weights) "
                                                      "or zoo checkpoint path(s). Default: every -affine-cls variant.")] = None,
    artifact: Annotated[list[Path] | None, typer.Option("--artifact", "-a", help="Exported artifact(s) to measure as they "
                                                        "are (their manifest names backend and precision).")] = None,
    precision: Annotated[list[str], typer.Option("--precision", "-p", help="fp32, fp16, int8 (comma lists work).")] = ["fp32"],  # noqa: B006
    threads: Annotated[list[str], typer.Option("--threads", "-t", help="Thread counts, e.g. 1,2.")] = ["1"],  # noqa: B006
    batch: Annotated[int, typer.Option(help="Batch size of every timed call.")] = 1,
    runs: Annotated[int, typer.Option(help="Timed calls per configuration.")] = 1000,
    warmup: Annotated[int, typer.Option(help="Untimed calls per configuration before timing.")] = 50,
    block: Annotated[int, typer.Option(help="Consecutive timed calls per configuration per round-robin turn.")] = 10,
    peer: Annotated[list[Path] | None, typer.Option("--peer", help="fdfat best.pt to measure beside ours "
                                                    "(default: every one under ../shared/peers/fdfat).")] = None,
    no_peers: Annotated[bool, typer.Option("--no-peers", help="Do not measure fdfat's models.")] = False,
    task: Annotated[str, typer.Option(help="latency: Runtime.run on a preprocessed batch; pipeline: + crop/normalise/"
                                           "decode from a 640x480 frame (the tracker's per-face cost); track: the "
                                           "tracking benchmark on rendered clips (results/tracking.csv).")] = "latency",
    out: Annotated[Path | None, typer.Option(help="Results folder (default: the checkout's results/).")] = None,
    plot: Annotated[bool, typer.Option(help="Draw results/plots/latency-HOST.png.")] = True,
) -> None:
    """Time model inference (Runtime.run on a preprocessed batch; no crop/decode) per backend, precision
    and thread count, round-robin in one run, and upsert the rows into results/latency.csv.

    A plain variant name is measured with random-initialised weights: latency does not depend on weights.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bench import artifacts, harness, hostinfo, report
    from zoo.architectures import UnknownVariantError, list_variants
    from zoo.backends import ArtifactError
    from zoo.console import console, fail

    if out is not None and out.exists() and not out.is_dir():
        fail(f"--out {out}: exists and is not a folder; give the results folder")
    for option, paths in (("--artifact", artifact), ("--peer", peer)):
        missing = [p for p in paths or [] if not p.exists()]
        if missing:
            fail(f"{option} {missing[0]}: no such file or folder")
    from zoo.results import ResultsError, read_table

    try:  # the rows are upserted after minutes of timing: a table that cannot take them is refused now
        read_table("tracking" if task == "track" else "latency", out)
    except ResultsError as e:
        fail(str(e))
    if task == "track":  # scenario clips with ground truth, not a latency table: the tracker's own benchmark
        from zoo.track.benchmark import benchmark_model

        track_backend = (_split(backend) or [""])[0] if backend != ["all"] else "onnx"
        try:
            track_threads = _split_ints(threads)[0]
        except (ValueError, IndexError):
            track_threads = 0
        from zoo.backends import BACKENDS

        if track_backend not in BACKENDS or track_threads < 1:
            fail(f"--task track takes one backend and a thread count of at least 1, not {backend} and {threads}")
        model = variant[0] if variant else None
        try:
            benchmark_model(model=model, backend=track_backend, threads=track_threads, console=console)
        except ValueError as e:
            fail(str(e))
        return
    backends = _split(backend)
    try:
        from zoo.backends import list_backends

        known = list(list_backends())
    except ImportError:
        fail("the backends package is not available (zoo.backends); reinstall zoo")
    if "all" in backends:
        backends = known
    unknown = [b for b in backends if b not in known]
    if unknown:
        fail(f"unknown backend {', '.join(unknown)}; known: {', '.join(known)}, or 'all'")
    precisions = _split(precision)
    bad = [p for p in precisions if p not in PRECISIONS]
    if bad:
        fail(f"unknown precision {', '.join(bad)}; use {', '.join(PRECISIONS)}")
    try:
        thread_counts = _split_ints(threads)
    except ValueError:
        fail(f"--threads takes integers like 1,2, not {threads}")
    if task not in harness.TASKS:
        fail(f"--task must be one of {', '.join(harness.TASKS)}")
    if task == "pipeline" and batch != 1:
        fail("--task pipeline times one face per call: use --batch 1")
    if runs < 1 or warmup < 0 or batch < 1 or block < 1 or not thread_counts or min(thread_counts) < 1:
        fail("--runs, --batch, --block and --threads must be at least 1, --warmup at least 0")

    sources = []
    try:
        for a in artifact or []:
            sources.append(artifacts.from_artifact(a))
        for v in _split(variant) or ([] if artifact else list_variants("*-affine-cls")):
            sources.append(artifacts.from_checkpoint(Path(v)) if Path(v).is_file() else artifacts.from_variant(v))
        if not no_peers:
            for p in peer or artifacts.discover_peers():
                sources.append(artifacts.from_peer(Path(p)))
    except (UnknownVariantError, FileNotFoundError, ValueError, ArtifactError) as e:
        fail(str(e))

    h = hostinfo.host()
    console.print(f"host {h.name}: {h.cpu}, {h.cores} cores, {h.os}; load average {hostinfo.load_average()}")
    console.print(f"{len(sources)} model(s) x {len(backends)} backend(s) x {len(precisions)} precision(s) x "
                  f"{len(thread_counts)} thread setting(s); {runs} runs after {warmup} warm-up, round-robin blocks of {block}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    plan = (sources, backends, precisions, thread_counts, batch, runs, warmup, block)
    if console.is_terminal:
        with Progress(*columns, console=console, transient=True) as progress:
            configs = harness.run_benchmark(*plan, progress, task=task)
    else:
        configs = harness.run_benchmark(*plan, report.LineProgress(lambda line: console.print(line, highlight=False)), task=task)
    rows = [harness.to_row(c, task=task) for c in configs]
    path = report.save_rows(rows, out)
    console.print(report.table(rows))
    console.print(f"load average after: {hostinfo.load_average()}")
    console.print(f"upserted {len(rows)} row(s) into {path}")
    if plot and any(r.get("p50_ms") for r in rows):
        from bench.plots import latency_chart

        png = latency_chart(path, h.name)
        console.print(f"chart: {png}")


def register(app: typer.Typer) -> None:
    """Add ``zoo bench``."""
    app.command("bench")(bench)
