"""``zoo train VARIANT --bench N``: where training time goes, measured three ways.

- data only: the DataLoader (same workers, cache and augmentation as training) drained
  without a model;
- model only: forward + backward + NAdam step on one batch held in memory (no data at all);
- end to end: the trainer's own epoch loop over N batches, with the time spent waiting for
  batches and the time spent computing reported separately.

All three use the trainer's thread and worker settings, after a few warm-up batches.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import torch
from rich.console import Console

from .config import TrainConfig
from .loader import EpochSampler, build_data, make_loader


def measure(cfg: TrainConfig, batches: int, console: Console | None = None, warmup: int = 3) -> dict[str, Any]:
    from .trainer import Trainer

    console = console or Console()
    from zoo.architectures import get_spec

    spec = get_spec(cfg.variant)
    data = build_data(cfg.data, spec.input_size, spec.num_points, spec.affine, cfg.seed, cfg.flip, [], cfg.skip_bad,
                      check=False, cache=cfg.cache)
    cfg = replace(cfg, epochs=1, images_per_epoch=(batches + warmup) * cfg.batch, progress=False, plots=False,
                  out=cfg.out or "runs/bench")
    trainer = Trainer(cfg, data=data)
    stage = trainer._stages()[0]
    for p in trainer.model.parameters():
        p.requires_grad_(False)
    params = [p for m in stage.trainable for p in m.parameters()]
    for p in params:
        p.requires_grad_(True)
    sampler = EpochSampler(data.train, trainer.dist, True, cfg.seed, cfg.images_per_epoch)
    loader = make_loader(data.train, cfg.batch, sampler, trainer.workers, train=True)

    # data only
    it = iter(loader)
    for _ in range(warmup):
        first = next(it)
    t0, n = time.perf_counter(), 0
    for b in it:
        n += b["image"].shape[0]
    data_rate = n / (time.perf_counter() - t0)

    # model only
    from .optim import make_optimizer

    opt = make_optimizer(cfg.optimizer, params, cfg.lr)
    trainer._set_modes(stage)
    x = trainer._to(first["image"])

    def step() -> None:
        loss = trainer._loss(stage, trainer.model(x), first)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(batches):
        step()
    model_rate = batches * x.shape[0] / (time.perf_counter() - t0)

    # end to end: the trainer's epoch loop (the first batches include worker start-up)
    from .optim import WarmupCosine

    sched = WarmupCosine(opt, cfg.lr, batches, 0)
    sampler.set_epoch(1)
    e2e = trainer._train_epoch(stage, trainer.model, loader, opt, sched, None)
    result = {"variant": cfg.variant, "batch": cfg.batch, "workers": trainer.workers, "threads": torch.get_num_threads(),
              "channels_last": trainer.channels_last, "cache": cfg.cache, "data_only_img_s": data_rate,
              "model_only_img_s": model_rate, "end_to_end_img_s": e2e["img_s"], "end_to_end_wait_pct": e2e["wait_pct"],
              "end_to_end_model_img_s": e2e["model_img_s"]}
    console.print(
        f"{cfg.variant} batch {cfg.batch}, {trainer.workers} workers, {result['threads']} threads, "
        f"channels_last {trainer.channels_last}, cache {cfg.cache}:\n"
        f"  data only   {data_rate:7.0f} img/s (DataLoader drained, no model)\n"
        f"  model only  {model_rate:7.0f} img/s (forward+backward+step on a batch in memory)\n"
        f"  end to end  {e2e['img_s']:7.0f} img/s ({e2e['wait_pct']:.0f}% of the time waiting for data; "
        f"compute alone {e2e['model_img_s']:.0f} img/s)", highlight=False)
    return result
