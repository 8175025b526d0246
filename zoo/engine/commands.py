"""``zoo train``: the training engine's command (``zoo.cli`` calls ``register(app)``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def train(
    variant: Annotated[str, typer.Argument(help="Registered variant, e.g. lwcsp-silu or lw-relu6-affine-cls.")],
    data: Annotated[Path | None, typer.Option(help="Dataset YAML (default: the renderer's standard set).")] = None,
    epochs: Annotated[int, typer.Option(help="Step-1 (landmark) epochs.")] = 100,
    batch: Annotated[int, typer.Option(help="Batch size per process.")] = 64,
    lr: Annotated[float, typer.Option(help="Peak learning rate (warm-up, then cosine to 10%).")] = 0.002,
    loss: Annotated[str, typer.Option(help="Landmark loss: l1 or wing.")] = "l1",
    out: Annotated[Path | None, typer.Option(help="Run folder (default runs/VARIANT).")] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue the run in this folder exactly where last.pt left it.")] = None,
    init: Annotated[Path | None, typer.Option(help="Start from these weights; -cls variants then run step 2 only.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    workers: Annotated[int | None, typer.Option(help="DataLoader worker processes (default: 1 on 2 cores).")] = None,
    threads: Annotated[int | None, typer.Option(help="Intra-op threads per process (default: 1 on 2 cores).")] = None,
    val_extra: Annotated[list[str] | None, typer.Option(help="Dataset YAML[:split] also evaluated each epoch.")] = None,
    ema: Annotated[bool, typer.Option("--ema", help="Keep an exponential moving average of the weights.")] = False,
    part_weights: Annotated[str | None, typer.Option(help="Per-part loss weights, e.g. jaw=2,eyes=1.5.")] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Leave out broken dataset files instead of failing.")] = False,
    images_per_epoch: Annotated[int | None, typer.Option(help="Images drawn per epoch (default: the whole train split).")] = None,
    cls_epochs: Annotated[int, typer.Option(help="Step-2 (face score) epochs for -cls variants.")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of initialisation, sampling and augmentation.")] = 0,
    cache: Annotated[str, typer.Option(help="Decoded-image cache: memmap, ram or none.")] = "memmap",
    photometric: Annotated[str, typer.Option(help="Photometric augmentation: standard or strong.")] = "standard",
    yaw_prior: Annotated[str, typer.Option(help="Landmark-step draws: uniform, or frontal (55% within 30 degrees).")] = "uniform",
    int8_aware: Annotated[bool, typer.Option("--int8-aware", help="Round activations to 8 bits in the loop and "
                                             "floor SiLU inputs, so int8 exports keep parity.")] = False,
    bench: Annotated[int, typer.Option(help="Only measure: data-only, model-only and end-to-end img/s over N batches.")] = 0,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar (logs only).")] = False,
) -> None:
    """Train a variant: step 1 landmarks, then step 2 face score for -cls variants. Works under torchrun."""
    # first, before the imports below pull in torch: a typo is refused in a fraction of a second
    _check_train_args(variant, data, resume, init, out, val_extra, workers, threads, images_per_epoch, cls_epochs,
                      cache, bench)
    _check_recipe(epochs, batch, lr, loss, device, part_weights, photometric, yaw_prior)
    from zoo.checkpoints.checkpoint import CheckpointError
    from zoo.console import console, fail
    from zoo.data.formats import DatasetError

    from .config import TrainConfig, parse_part_weights
    from .trainer import Trainer, TrainingError

    try:
        if resume is not None:
            if not (resume / "config.yaml").is_file() or not (resume / "last.pt").is_file():
                fail(f"--resume {resume}: needs config.yaml and last.pt from an earlier run in that folder")
            cfg = TrainConfig.load(resume / "config.yaml")
            cfg.out, cfg.device = str(resume), device
            cfg.workers = workers if workers is not None else cfg.workers
            if cfg.variant != variant:
                fail(f"--resume {resume} trains {cfg.variant}, not {variant}")
        else:
            cfg = TrainConfig(  # built first: its checks of loss, device, ranges... run before any rendering
                variant=variant, data=str(data) if data else None, epochs=epochs, batch=batch, lr=lr, loss=loss,
                out=str(out or Path("runs") / variant), init=str(init) if init else None, device=device, workers=workers,
                threads=threads, val_extra=list(val_extra or []), ema=ema, part_weights=parse_part_weights(part_weights),
                skip_bad=skip_bad, images_per_epoch=images_per_epoch, cls_epochs=cls_epochs, seed=seed,
                cache=None if cache == "none" else cache, progress=not no_progress, photometric=photometric,
                yaw_prior=yaw_prior, int8_aware=int8_aware,
            )
            if data is None:
                from zoo.synth.generate import default_dataset

                cfg.data = str(default_dataset())  # renders the standard set on first use: minutes
        if bench:
            from .throughput import measure

            measure(cfg, bench, console)
            return
        trainer = Trainer(cfg, resume=resume is not None)
        skipped = trainer.data.info.get("skipped") or []
        if skipped and trainer.dist.is_main:
            console.print(f"--skip-bad: left out {len(skipped)} problem file(s):", highlight=False, soft_wrap=True)
            for line in skipped:
                console.print(f"  skipped {line}", highlight=False, soft_wrap=True)
        result = trainer.fit()
    except (DatasetError, CheckpointError, TrainingError, ValueError) as e:
        fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
    finally:
        from .distributed import cleanup

        cleanup()
    best = result["best"]
    if trainer.dist.is_main:
        if best:
            bins = "  ".join(f"{k[4:]} {v:.3f}" for k, v in best.items() if k.startswith("nme_") and v == v)
            console.print(f"best val NME {best['val_nme']:.3f}% (epoch {best['epoch']})  {bins}", highlight=False, soft_wrap=True)
        if "face" in result:
            f = result["face"]
            console.print(f"face score accuracy {f['face_acc']:.3f} (faces {f['face_acc_faces']:.3f}, "
                          f"non-faces {f['face_acc_nonfaces']:.3f}); landmarks unchanged by step 2",
                          highlight=False, soft_wrap=True)
        console.print(f"wrote {result['out']} in {result['time_s']:.0f} s of training", highlight=False, soft_wrap=True)


def _check_train_args(variant: str, data: Path | None, resume: Path | None, init: Path | None, out: Path | None,
                      val_extra: list[str] | None, workers: int | None, threads: int | None, images_per_epoch: int | None,
                      cls_epochs: int, cache: str, bench: int) -> None:
    """Refuse bad arguments in well under a second, before the standard set is rendered or a model is built."""
    from zoo.console import fail

    if resume is None:
        from zoo.architectures import UnknownVariantError, get_spec

        try:
            get_spec(variant)
        except UnknownVariantError as e:
            fail(str(e))
    elif not resume.is_dir():
        fail(f"--resume {resume}: no such run folder; give the folder of an earlier run (with config.yaml and last.pt)")
    if data is not None:
        from zoo.data.formats import DatasetError, parse_dataset_yaml

        try:
            parse_dataset_yaml(data)
        except DatasetError as e:
            fail(str(e))
    for item in val_extra or []:
        path = Path(item) if Path(item).exists() else Path(item.partition(":")[0])
        if not path.is_file():
            fail(f"--val-extra {item}: no such dataset YAML; give YAML or YAML:split")
    if init is not None and not init.is_file():
        fail(f"--init {init}: no such checkpoint file; give a zoo checkpoint (.pt)")
    if out is not None and out.exists() and not out.is_dir():
        fail(f"--out {out}: exists and is not a folder; give a run folder")
    if cache not in ("memmap", "ram", "none"):
        fail(f"--cache must be memmap, ram or none, not {cache!r}")
    for name, value, low in (("--workers", workers, 0), ("--threads", threads, 1), ("--images-per-epoch", images_per_epoch, 1),
                             ("--cls-epochs", cls_epochs, 0), ("--bench", bench, 0)):
        if value is not None and value < low:
            fail(f"{name} must be at least {low}, not {value}")


def _check_recipe(epochs: int, batch: int, lr: float, loss: str, device: str, part_weights: str | None,
                  photometric: str = "standard", yaw_prior: str = "uniform") -> None:
    """TrainConfig's own checks that need no torch, run before the imports that do."""
    from zoo.console import fail

    from .config import check_recipe, parse_part_weights

    try:
        check_recipe(loss, device, epochs, batch, lr, photometric, yaw_prior)
        parse_part_weights(part_weights)
    except ValueError as e:
        fail(str(e))


def register(app: typer.Typer) -> None:
    """Add ``zoo train`` to the ``zoo`` app."""
    app.command("train")(train)
