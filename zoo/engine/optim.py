"""Optimizer, learning-rate schedule, weight EMA and RNG state: the parts ``--resume`` restores.

The schedule is a pure function of the step, so resuming needs only the step count; the
EMA and RNG states are plain tensors and builtins, so they fit a ``weights_only`` checkpoint.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn


def make_optimizer(name: str, params: Iterable[nn.Parameter], lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    params = list(params)
    if name == "nadam":
        return torch.optim.NAdam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}")


class WarmupCosine:
    """Linear warm-up to ``lr``, then cosine down to ``lr * final`` at ``total`` steps."""

    def __init__(self, optimizer: torch.optim.Optimizer, lr: float, total: int, warmup: int, final: float = 0.1) -> None:
        self.optimizer, self.lr, self.total, self.final = optimizer, lr, max(1, total), final
        self.warmup = min(max(0, warmup), self.total // 2)
        self.step_count = 0
        self._apply()

    def value(self, step: int) -> float:
        if step < self.warmup:
            return self.lr * (step + 1) / (self.warmup + 1)
        t = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))
        return self.lr * (self.final + (1 - self.final) * 0.5 * (1 + math.cos(math.pi * t)))

    def _apply(self) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.value(self.step_count)

    def step(self) -> None:
        self.step_count += 1
        self._apply()

    @property
    def current(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step_count, "total": self.total, "warmup": self.warmup}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step_count = int(state["step"])
        self._apply()


class ModelEMA:
    """Exponential moving average of weights (buffers copied), with the usual ramp-up of the decay."""

    def __init__(self, model: nn.Module, decay: float = 0.9999, ramp: float = 2000.0) -> None:
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay, self.ramp, self.updates = decay, ramp, 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.ramp))
        src = model.state_dict()
        for k, v in self.module.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(d).add_(src[k].detach(), alpha=1 - d)
            else:
                v.copy_(src[k])

    def state_dict(self) -> dict[str, Any]:
        return {"updates": self.updates, "weights": {k: v.clone() for k, v in self.module.state_dict().items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.updates = int(state["updates"])
        self.module.load_state_dict(state["weights"])


def rng_state() -> dict[str, Any]:
    """torch, numpy and python RNG states as tensors and builtins (``weights_only``-loadable)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
