"""The training recipe as one dataclass: what ``zoo train`` writes to ``config.yaml``.

Defaults are fdfat's recipe (NAdam, lr 0.002 with warm-up then cosine to 10%, L1 loss,
batch 64, the variant's input size), so a run's config file is the complete answer to "how
was this checkpoint made", and ``--resume`` rebuilds the exact same run from it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

LOSSES = ("l1", "wing")
DEVICES = ("auto", "cpu", "cuda")



#: Yaw priors of the training draws (``zoo.engine.loader``): ``uniform`` draws every face equally often
#: (the renderer's yaw is uniform over -90..90); ``frontal`` reweights the draws to a density
#: proportional to 0.25 + exp(-yaw^2 / (2 * 30^2)), about 55 % within 30 degrees, 29 % at 30-60 and 15 %
#: beyond, closer to the photos and video calls a deployed tracker sees.
YAW_PRIORS = ("uniform", "frontal")

@dataclass
class TrainConfig:
    """Everything that decides a training run (the variant decides the network)."""

    variant: str
    data: str | None = None  # dataset YAML; None = the renderer's standard set
    epochs: int = 100
    batch: int = 64
    lr: float = 0.002
    lr_final: float = 0.1  # cosine ends at lr * lr_final (fdfat's lre_factor)
    warmup_epochs: float = 1.0
    weight_decay: float = 0.0
    optimizer: str = "nadam"
    loss: str = "l1"
    wing_w: float = 10.0  # Wing loss width, in pixels of the model input
    wing_eps: float = 2.0  # Wing loss curvature, in pixels of the model input
    part_weights: dict[str, float] = field(default_factory=dict)
    pose_weight: float = 0.01  # fdfat's aux_pose_weight
    ema: bool = False
    ema_decay: float = 0.9999
    cls_epochs: int = 10  # step 2 (face score) epochs for -cls variants
    cls_lr: float = 0.002
    images_per_epoch: int | None = None
    val_extra: list[str] = field(default_factory=list)  # YAML[:split] evaluated every epoch
    skip_bad: bool = False
    out: str | None = None
    init: str | None = None
    device: str = "auto"
    workers: int | None = None  # None = chosen for the machine
    threads: int | None = None  # intra-op threads of the training process; None = chosen
    seed: int = 0
    cache: str | None = "memmap"  # decoded-image cache of the data helper: memmap, ram or None
    flip: bool = True
    photometric: str = "standard"  # one of zoo.data.PHOTOMETRIC
    yaw_prior: str = "uniform"  # one of YAW_PRIORS above (step-1 draws)
    int8_aware: bool = False  # 8-bit rounding of activations in the loop + a floor under SiLU inputs (int8_aware.py)
    channels_last: bool = True
    progress: bool = True
    plots: bool = True

    def __post_init__(self) -> None:
        check_recipe(self.loss, self.device, self.epochs, self.batch, self.lr, self.photometric, self.yaw_prior)
        if self.optimizer not in ("nadam", "adamw", "sgd"):
            raise ValueError(f"optimizer must be nadam, adamw or sgd, not {self.optimizer!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        return cls.from_dict(yaml.safe_load(Path(path).read_text()) or {})


def check_recipe(loss: str, device: str, epochs: int, batch: int, lr: float, photometric: str = "standard",
                 yaw_prior: str = "uniform") -> None:
    """ValueError (one line) for a recipe value TrainConfig refuses; no torch, so ``zoo train`` runs it first."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, not {device!r}")
    if epochs < 0 or batch < 1 or not lr > 0:
        raise ValueError("epochs must be >= 0, batch >= 1 and lr > 0")
    from zoo.data import PHOTOMETRIC

    if photometric not in PHOTOMETRIC:
        raise ValueError(f"photometric must be {' or '.join(PHOTOMETRIC)}, not {photometric!r}")
    if yaw_prior not in YAW_PRIORS:
        raise ValueError(f"yaw prior must be {' or '.join(YAW_PRIORS)}, not {yaw_prior!r}")


def parse_part_weights(text: str | None) -> dict[str, float]:
    """``"jaw=2,eyes=1.5"`` -> ``{"jaw": 2.0, "eyes": 1.5}``; names are checked by zoo.landmarks."""
    from zoo.landmarks import PARTS

    out: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in (text or "").split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"part weight {item!r} is not NAME=WEIGHT (e.g. jaw=2)")
        if name.strip() not in PARTS:
            raise ValueError(f"unknown landmark part {name.strip()!r}; known parts: {', '.join(PARTS)}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"part weight {item!r}: {value!r} is not a number") from None
    return out
