"""``zoo eval``: NME by yaw, AUC/FR at 10% and a CED plot for any model on any backend; ``zoo.cli`` calls ``register(app)``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from eval.harness import RESAMPLE


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text).strip("_")


def evaluate_cmd(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="synth, facesynthetics, 300w or a YAML path.")] = "synth",
    root: Annotated[Path | None, typer.Option(help="Folder of FaceSynthetics or 300-W data.")] = None,
    variant: Annotated[str | None, typer.Option("--variant", "-v", help="Registered variant with shipped weights.")] = None,
    checkpoint: Annotated[Path | None, typer.Option("--checkpoint", "-c", help="zoo checkpoint to evaluate.")] = None,
    artifact: Annotated[Path | None, typer.Option("--artifact", "-a", help="Exported artifact (manifest names backend).")] = None,
    peer: Annotated[str | None, typer.Option("--peer", help="fdfat-lw, fdfat-lwcsp or an fdfat best.pt path.")] = None,
    backend: Annotated[str, typer.Option("--backend", "-b", help="Backend to run the model on.")] = "onnx",
    precision: Annotated[str, typer.Option("--precision", "-p", help="fp32, fp16 or int8.")] = "fp32",
    split: Annotated[str, typer.Option(help="Split of a dataset YAML (synth: test).")] = "test",
    threads: Annotated[int, typer.Option(help="Runtime threads.")] = 1,
    batch: Annotated[int, typer.Option(help="Faces per runtime call.")] = 32,
    limit: Annotated[int | None, typer.Option(help="Evaluate only the first N faces (quick checks; not recorded).")] = None,
    per_image: Annotated[Path | None, typer.Option("--per-image", help="Write one CSV line per face here.")] = None,
    resample: Annotated[str, typer.Option(help="Crop resampling: zoo (deployed, anti-aliased) or plain (one bilinear "
                                                "warp: the protocol of ../shared/data/real's reference figures).")] = "zoo",
    out: Annotated[Path | None, typer.Option(help="Results folder (default: the checkout's results/).")] = None,
    record: Annotated[bool, typer.Option(help="Upsert the row into results/accuracy.csv.")] = True,
    parts: Annotated[bool, typer.Option("--parts", help="Also print NME by face part and the offset all faces share "
                                                       "(a landmark-definition mismatch rather than scatter).")] = False,
    yaw_detail: Annotated[bool, typer.Option("--yaw-detail", help="Also print and plot NME by 10-degree |yaw| bin in % "
                                             "inter-ocular and in % of the landmark box, and the pose floor.")] = False,
) -> None:
    """Crop every face with the deterministic inference crop (1.5x landmark box, centred), run the model and
    report NME (% inter-ocular, points 36/45) overall and by |yaw| <=30 / 30-40 / >40, AUC and FR at 10%."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from eval.datasets import EvalDatasetError, load_faces
    from eval.harness import crop_protocol, evaluate, write_per_image
    from eval.metrics import summarize
    from eval.plots import ced_plot
    from eval.runner import RunnerError, open_runner
    from zoo import __version__
    from zoo.console import console, fail
    from zoo.results import results_dir, write_table

    if sum(x is not None for x in (variant, checkpoint, artifact, peer)) != 1:
        fail("give exactly one of --variant, --checkpoint, --artifact or --peer")
    if resample not in RESAMPLE:
        fail(f"--resample must be one of {', '.join(RESAMPLE)}")
    _check_eval_args(dataset, root, split, variant, checkpoint, artifact, peer, backend, precision, threads, batch, limit,
                     per_image, record, out)
    try:
        label, split_label, samples = load_faces(dataset, root, split)
    except EvalDatasetError as e:
        fail(str(e))
    faces = [s for s in samples if s.is_face and s.landmarks is not None]
    if not faces:
        fail(f"dataset {label!r} split {split_label!r} has no annotated faces")
    if limit:
        faces = faces[:limit]
    try:
        runner = open_runner(variant=variant, checkpoint=checkpoint, artifact=artifact, peer=peer, backend=backend,
                             precision=precision, threads=threads)
    except RunnerError as e:
        fail(str(e))
    console.print(f"{runner.label} on {runner.backend} {runner.precision}: {len(faces)} faces of {label} ({split_label}), "
                  f"crop {crop_protocol(resample)}, {runner.input_size}px")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("evaluating", total=len(faces))
        result = evaluate(faces, runner.run, runner.input_size, batch, resample, advance=lambda n: progress.advance(task, n),
                          keep_predictions=parts)
    summary = summarize(result.nme, result.yaw)

    t = Table(title=f"{runner.label} / {label} {split_label} ({result.points} points, yaw from {result.yaw_source})")
    for col in ("faces", "NME %", "|yaw|<=30", "30-40", ">40", "AUC@10", "FR@10 %"):
        t.add_column(col, justify="right")
    cell = [f"{summary.nme_by_yaw[b]:.3f} ({summary.faces_by_yaw[b]})" if b in summary.nme_by_yaw else "-"
            for b in ("le30", "30_40", "gt40")]
    t.add_row(str(summary.faces), f"{summary.nme:.3f}", *cell, f"{summary.auc10:.4f}", f"{100 * summary.fr10:.2f}")
    console.print(t)
    if parts:
        _print_parts(console, result, faces)

    base = out or results_dir()
    protocol = "" if resample == "zoo" else f"-{resample}"
    name = _slug(f"{label}{protocol}-{split_label}-{runner.label}-{runner.backend}-{runner.precision}")
    if yaw_detail:
        _print_yaw_detail(console, result, base / "plots" / f"yaw-{name}.png",
                          f"{runner.label} {runner.backend} {runner.precision} on {label} ({split_label})")
    png = ced_plot({f"{runner.label} {runner.backend} {runner.precision}": result.nme}, base / "plots" / f"ced-{name}.png",
                   title=f"CED on {label} ({split_label}), {len(faces)} faces, crop {crop_protocol(resample)}")
    console.print(f"CED plot: {png}")
    if per_image:
        console.print(f"per-image CSV: {write_per_image(per_image, result)}")
    if limit or not record:
        console.print("not recorded in results/accuracy.csv" + (" (--limit)" if limit else ""))
        return
    row = {"variant": runner.label, "checkpoint_sha256": runner.checkpoint_sha256, "backend": runner.backend,
           "precision": runner.precision, "dataset": label, "split": split_label, "zoo_version": __version__,
           "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "points": result.points,
           "yaw_source": result.yaw_source, "crop": crop_protocol(resample), "peer": runner.peer,
           "artifact_sha256": runner.artifact_sha256, **summary.to_row()}
    if resample != "zoo":
        row["dataset"] = f"{label}@{resample}"  # a different protocol is a different row, not a replacement
    console.print(f"upserted into {write_table('accuracy', [row], out)}")


def _check_eval_args(dataset: str, root: Path | None, split: str, variant: str | None, checkpoint: Path | None,
                     artifact: Path | None, peer: str | None, backend: str, precision: str, threads: int, batch: int,
                     limit: int | None, per_image: Path | None, record: bool = True, out: Path | None = None) -> None:
    """Refuse bad arguments before the dataset is loaded (``synth`` renders the standard set on first use)
    and before the model is exported for the backend."""
    from zoo.backends.commands import check_backend
    from zoo.console import fail

    check_backend(backend, precision)
    if threads < 1 or batch < 1 or (limit is not None and limit < 1):
        fail("--threads, --batch and --limit must be at least 1")
    if dataset not in ("synth", "facesynthetics", "300w"):
        if Path(dataset).suffix.lower() not in (".yaml", ".yml"):
            fail(f"unknown dataset {dataset!r}: use synth, facesynthetics, 300w or a dataset YAML path")
        if not Path(dataset).is_file():
            fail(f"{dataset}: no such dataset YAML; give the path of a file with base_path and train/val/test lists")
    elif dataset != "synth" and (root is None or not root.is_dir()):
        fail(f"--dataset {dataset} needs --root DIR, an existing folder of its images and annotations"
             + (f" ({root} is not one)" if root is not None else ""))
    elif dataset == "synth" and split not in ("train", "val", "test"):
        fail(f"--split {split!r}: the synth set has train, val and test")
    if checkpoint is not None and not checkpoint.is_file():
        fail(f"--checkpoint {checkpoint}: no such file; give a zoo checkpoint (.pt)")
    if artifact is not None and not artifact.exists():
        fail(f"--artifact {artifact}: no such file or folder; give an export's folder or manifest.json")
    if variant is not None:
        from eval.runner import RunnerError, shipped_weights
        from zoo.architectures import UnknownVariantError, get_spec

        try:
            get_spec(variant)
            shipped_weights(variant)
        except (UnknownVariantError, RunnerError) as e:
            fail(str(e))
    if peer is not None and not Path(peer).is_file():
        from bench.artifacts import discover_peers, peer_label

        known = [peer_label(p) for p in discover_peers()]
        if peer not in known:
            fail(f"--peer {peer}: neither a file nor a known peer ({', '.join(known) or 'none found'}); "
                 "give fdfat-lw, fdfat-lwcsp or the path of a best.pt")
    if per_image is not None and per_image.is_dir():
        fail(f"--per-image {per_image}: is a folder; give a CSV file name")
    if record and not limit:
        from zoo.results import ResultsError, read_table

        try:  # the row is upserted after the whole evaluation: a table that cannot take it is refused now
            read_table("accuracy", out)
        except ResultsError as e:
            fail(str(e))


def _print_parts(console, result, faces) -> None:  # noqa: ANN001 - rich console, EvalResult, samples
    import numpy as np
    from rich.table import Table

    from eval.metrics import part_errors

    k = result.points
    r = part_errors(np.stack([p[:k] for p in result.predictions]),
                    np.stack([np.asarray(f.landmarks, dtype=np.float64)[:k] for f in faces]))
    t = Table(title="NME by part (% inter-ocular) and the offset every face shares")
    for col in (*r.parts, "offset x, y", "NME without it"):
        t.add_column(col, justify="right")
    t.add_row(*(f"{v:.2f}" for v in r.parts.values()), f"{r.offset[0]:+.2f}, {r.offset[1]:+.2f}", f"{r.nme_without_offset:.2f}")
    console.print(t)
    console.print("offset: mean error in each face's frame (x along the outer eye corners 36->45, y across)")


def _print_yaw_detail(console, result, png: Path, title: str) -> None:  # noqa: ANN001 - rich console, EvalResult
    from rich.table import Table

    from eval.metrics import pose_floor, yaw_profile
    from eval.plots import yaw_profile_plot

    rows = yaw_profile(result.nme, result.scale, result.yaw)
    floor = pose_floor(result.nme, result.scale, result.yaw)
    t = Table(title="NME by |yaw|: % inter-ocular (36-45) and % landmark box sqrt(w*h)")
    for col in ("|yaw|", "faces", "NME %", "NME box %"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(f"{r.low:.0f}-{r.high:.0f}", str(r.faces), f"{r.nme:.2f}", f"{r.nme_box:.2f}")
    console.print(t)
    console.print(f"pose floor {floor:.2f} % inter-ocular: this split's NME if every face were as accurate for its size "
                  "as the faces within 30 degrees are on average")
    console.print(f"yaw plot: {yaw_profile_plot(rows, floor, png, title)}")


def register(app: typer.Typer) -> None:
    """Add ``zoo eval``."""
    app.command("eval")(evaluate_cmd)
