"""``zoo train VARIANT --bench N``: where training time goes, measured three ways.

- data only: the DataLoader (same workers, cache and augmentation as training) drained
  without a model;
- model only: forward + backward + NAdam step on one batch held in memory (no data at all);
- end to end: the trainer's own epoch loop over N batches, with the time spent waiting for
  batches and the time spent computing reported separately.

All three use the trainer's thread and worker settings, after a few warm-up batches. On a
machine shared with other jobs wall-clock rates say more about the neighbours than about
zoo, so CPU time is counted too (the trainer's threads and each worker's, from /proc): CPU
seconds per image for the data pipeline and for the model step, and the rate two cores would
reach if they were free, ``cores / (data + model CPU seconds per image)``.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
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
                      check=False, cache=cfg.cache, photometric=cfg.photometric)
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
    pids = [w.pid for w in getattr(it, "_workers", [])]
    c0, t0, n = _cpu(pids) + time.process_time(), time.perf_counter(), 0
    for b in it:
        n += b["image"].shape[0]
    data_rate = n / (time.perf_counter() - t0)
    data_cpu = (_cpu(pids) + time.process_time() - c0) / max(n, 1)

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
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(batches):
        step()
    model_rate = batches * x.shape[0] / (time.perf_counter() - t0)
    model_cpu = (time.process_time() - c0) / (batches * x.shape[0])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    free_rate = cores / (data_cpu + model_cpu)

    # end to end: the trainer's epoch loop (the first batches include worker start-up)
    from .optim import WarmupCosine

    sched = WarmupCosine(opt, cfg.lr, batches, 0)
    sampler.set_epoch(1)
    e2e = trainer._train_epoch(stage, trainer.model, loader, opt, sched, None)
    result = {"variant": cfg.variant, "batch": cfg.batch, "workers": trainer.workers, "threads": torch.get_num_threads(),
              "channels_last": trainer.channels_last, "cache": cfg.cache, "data_only_img_s": data_rate,
              "model_only_img_s": model_rate, "end_to_end_img_s": e2e["img_s"], "end_to_end_wait_pct": e2e["wait_pct"],
              "end_to_end_model_img_s": e2e["model_img_s"], "data_cpu_ms_per_img": 1e3 * data_cpu,
              "model_cpu_ms_per_img": 1e3 * model_cpu, "free_cores_img_s": free_rate, "load": os.getloadavg()[0]}
    console.print(
        f"{cfg.variant} batch {cfg.batch}, {trainer.workers} workers, {result['threads']} threads, "
        f"channels_last {trainer.channels_last}, cache {cfg.cache}:\n"
        f"  data only   {data_rate:7.0f} img/s (DataLoader drained, no model), {1e3 * data_cpu:.2f} CPU-ms/img\n"
        f"  model only  {model_rate:7.0f} img/s (forward+backward+step on a batch in memory), {1e3 * model_cpu:.2f} CPU-ms/img\n"
        f"  end to end  {e2e['img_s']:7.0f} img/s ({e2e['wait_pct']:.0f}% of the time waiting for data; "
        f"compute alone {e2e['model_img_s']:.0f} img/s)\n"
        f"  {cores} free cores would give {free_rate:.0f} img/s end to end (CPU time); load average now {os.getloadavg()[0]:.1f}",
        highlight=False, soft_wrap=True)
    return result


def _cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes (DataLoader workers)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total
