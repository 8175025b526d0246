"""DistributedDataParallel plumbing: the same ``zoo train`` runs alone or under torchrun.

torchrun sets RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT; when they are present the
trainer joins the process group (gloo on CPU, nccl on CUDA) and only rank 0 writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_world() -> DistInfo:
    """What torchrun (or a test's spawn) put in the environment; a single process otherwise."""
    return DistInfo(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                    int(os.environ.get("LOCAL_RANK", 0)))


def init(device: torch.device) -> DistInfo:
    """Join the process group when launched as several processes; a no-op otherwise."""
    info = env_world()
    if info.enabled and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group(backend, rank=info.rank, world_size=info.world_size)
    return info


def barrier(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.barrier()


def all_reduce_sum(values: list[float], info: DistInfo, device: torch.device) -> list[float]:
    """Sum plain numbers over ranks (training loss, image counts) so every rank logs the same."""
    if not (info.enabled and dist.is_initialized()):
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def broadcast_flag(value: bool, info: DistInfo, device: torch.device) -> bool:
    """Rank 0's decision (e.g. "stop: validation failed") on every rank."""
    if not (info.enabled and dist.is_initialized()):
        return value
    t = torch.tensor([int(value)], device=device)
    dist.broadcast(t, 0)
    return bool(t.item())


def cleanup() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, info: DistInfo, device: torch.device) -> torch.nn.Module:
    """DDP around the model when distributed; the model itself otherwise."""
    if not info.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [info.local_rank] if device.type == "cuda" else None
    # Heads without a loss in the current stage are frozen (requires_grad False), so no unused-parameter search.
    return DDP(model, device_ids=ids)
