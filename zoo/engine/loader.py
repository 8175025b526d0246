"""Datasets and DataLoaders for training: deterministic per (seed, epoch, index), fast on 2 cores.

Persistent worker processes keep their own copy of the dataset, so a ``set_epoch`` call in
the main process would never reach them. Instead the sampler yields ``(epoch, index)`` keys
and ``EpochDataset`` switches the epoch inside whichever worker receives the key: the crops
of epoch e are the same whether the run was interrupted or not, with any number of workers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from .config import YAW_PRIORS
from .distributed import DistInfo


class EpochDataset(Dataset):
    """Wraps a dataset with ``set_epoch``; ``dataset[(epoch, i)]`` is item i of that epoch."""

    def __init__(self, inner: Dataset) -> None:
        self.inner = inner
        self._epoch: int | None = None

    def __len__(self) -> int:
        return len(self.inner)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        epoch, index = key
        if epoch != self._epoch and hasattr(self.inner, "set_epoch"):
            self.inner.set_epoch(epoch)
        self._epoch = epoch
        return self.inner[index]


class EpochSampler(DistributedSampler):
    """DistributedSampler (one rank's share) that yields ``(epoch, index)`` keys.

    ``images_per_epoch`` draws that many images per epoch (cycling through fresh
    permutations when it exceeds the dataset), so epoch length is independent of data size.
    ``weights`` (one per item) draws with replacement in proportion to them instead; every rank
    draws the same sequence from the same seed and keeps its share, as without weights.
    """

    def __init__(self, dataset: Dataset, info: DistInfo, shuffle: bool = True, seed: int = 0,
                 images_per_epoch: int | None = None, weights: Sequence[float] | None = None) -> None:
        super().__init__(dataset, num_replicas=info.world_size, rank=info.rank, shuffle=shuffle, seed=seed)
        self.images = images_per_epoch or len(dataset)  # type: ignore[arg-type]
        self.num_samples = math.ceil(self.images / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.weights = None if weights is None else torch.as_tensor(weights, dtype=torch.float64)
        if self.weights is not None and (len(self.weights) != len(dataset) or not bool((self.weights >= 0).all())  # type: ignore[arg-type]
                                         or float(self.weights.sum()) <= 0):
            raise ValueError("sampler weights need one non-negative weight per item and a positive sum")

    def __iter__(self) -> Iterator[tuple[int, int]]:  # type: ignore[override]
        n = len(self.dataset)  # type: ignore[arg-type]
        g = torch.Generator()
        g.manual_seed(self.seed * 100_003 + self.epoch)
        if self.weights is not None:
            order = torch.multinomial(self.weights, self.total_size, replacement=True, generator=g).tolist()
            for i in order[self.rank: self.total_size: self.num_replicas]:
                yield self.epoch, i
            return
        chunks, have = [], 0
        while have < self.total_size:
            chunk = torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)
            chunks.append(chunk)
            have += n
        order = torch.cat(chunks)[: self.total_size].tolist()
        for i in order[self.rank: self.total_size: self.num_replicas]:
            yield self.epoch, i




def yaw_weights(samples: Sequence, prior: str) -> list[float] | None:
    """Per-sample draw weights for ``prior`` (None for uniform); faces without a meta yaw weigh 1."""
    from zoo.data.formats import pose_from_meta

    if prior not in YAW_PRIORS:
        raise ValueError(f"yaw prior must be one of {YAW_PRIORS}, not {prior!r}")
    if prior == "uniform":
        return None
    out = []
    for s in samples:
        pose = pose_from_meta(getattr(s, "meta", None) or {})
        out.append(1.0 if pose is None else prior_weight(pose[0], prior))
    return out


def prior_weight(yaw_deg: float, prior: str) -> float:
    """How much more often than under the renderer's uniform yaw ``prior`` draws a face at this yaw."""
    if prior == "uniform":
        return 1.0
    density = 0.25 + math.exp(-(yaw_deg**2) / (2 * 30.0**2))
    return density / (0.25 + 75.0 / 180.0)  # relative to the density's mean over -90..90


def worker_init(_: int) -> None:
    """Each worker is one core's worth of work: no intra-op threads that fight the trainer."""
    torch.set_num_threads(1)


def default_split(world_size: int = 1, cuda: bool = False) -> tuple[int, int]:
    """(DataLoader workers, intra-op threads) for this machine's cores shared by ``world_size`` processes.

    Measured on the 2-core machine: the model step costs ~8 CPU-ms per image and the data ~1.3,
    so with 2 cores one core steps the model and one worker feeds it. Two intra-op threads only
    pay on an idle machine; when anything else runs, OpenMP's spinning threads make the step 5x
    slower (10-15 img/s instead of 66-85 for lw-relu6), so small machines get one thread.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    per = max(1, cores // max(1, world_size))
    if cuda:  # the GPU computes; the cores decode and augment
        return max(1, min(8, per - 1)), 1
    if per <= 2:
        return 1, 1
    workers = min(8, max(1, per // 4))
    return workers, per - workers


def make_loader(dataset: Dataset, batch: int, sampler: EpochSampler, workers: int, train: bool,
                pin: bool = False) -> DataLoader:
    kw: dict[str, Any] = {}
    if workers > 0:
        kw = {"persistent_workers": True, "prefetch_factor": 4, "worker_init_fn": worker_init}
    return DataLoader(EpochDataset(dataset), batch_size=batch, sampler=sampler, num_workers=workers,
                      drop_last=train and len(sampler) >= batch, pin_memory=pin, **kw)


@dataclass
class TrainData:
    """Datasets of one run; built from a dataset YAML or handed in directly (tests)."""

    train: Dataset  # faces, step 1
    val: Dataset  # faces, validation NME
    extra: dict[str, Dataset] = field(default_factory=dict)  # name -> 68/70-point eval-only sets
    cls_train: Dataset | None = None  # faces + non-faces, step 2
    cls_val: Dataset | None = None
    info: dict[str, Any] = field(default_factory=dict)  # path, seed, counts, skipped files


def _bad_paths(problems: list[str]) -> set[str]:
    """File names named by ``check_dataset`` problem lines ("FILE: what is wrong")."""
    out = set()
    for line in problems:
        head = line.split(": ", 1)[0]
        out.add(head.split(":", 1)[0] if head.endswith(tuple("0123456789")) else head)
    return out


def _skip(samples: list, bad: set[str]) -> list:
    def is_bad(s: Any) -> bool:
        p = Path(s.image_path)
        return str(p) in bad or any(str(p.with_name(p.stem + suf)) in bad for suf in ("_ldmks.txt", ".pts", "_meta.json"))

    return [s for s in samples if not is_bad(s)]


def build_data(data_yaml: str | Path, input_size: int, num_points: int, affine: bool, seed: int, flip: bool = True,
               val_extra: list[str] | None = None, skip_bad: bool = False, want_cls: bool = False,
               check: bool = True, cache: str | None = None, photometric: str = "standard") -> TrainData:
    """Load the splits of a dataset YAML into LandmarkDatasets (raises DatasetError with one line)."""
    from zoo.data.check import check_dataset
    from zoo.data.dataset import LandmarkDataset
    from zoo.data.formats import DatasetError, load_dataset_yaml

    path = Path(data_yaml)
    skipped: list[str] = []
    bad: set[str] = set()
    if check:
        _, problems = check_dataset(path)
        if problems and not skip_bad:
            more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
            raise DatasetError(f"{problems[0]}{more}; run `zoo data check {path}`, fix it, or pass --skip-bad")
        skipped, bad = problems, _bad_paths(problems)

    def load(split: str, negatives: bool) -> list:
        return _skip(load_dataset_yaml(path, split, negatives=negatives, skip_bad=skip_bad), bad)

    train_all = load("train", want_cls)
    val_all = load("val", want_cls)
    faces = [s for s in train_all if s.is_face]
    val_faces = [s for s in val_all if s.is_face]
    if not faces or not val_faces:
        raise DatasetError(f"{path}: needs faces in both 'train' and 'val' (found {len(faces)} and {len(val_faces)})")

    def ds(samples: list, train: bool, k: int = num_points) -> Dataset:
        return LandmarkDataset(samples, input_size, num_points=k, train=train, affine=affine, flip=flip, seed=seed,
                               cache=cache, photometric=photometric)

    data = TrainData(train=ds(faces, True), val=ds(val_faces, False))
    if want_cls:
        data.cls_train, data.cls_val = ds(train_all, True), ds(val_all, False)
    for item in val_extra or []:
        name, dset = _extra(item, input_size, seed, cache)
        data.extra[name] = dset
    data.info = {"data": str(path), "seed": seed, "train_faces": len(faces), "val_faces": len(val_faces),
                 "train_nonfaces": len(train_all) - len(faces), "val_nonfaces": len(val_all) - len(val_faces),
                 "skipped": skipped}
    return data


def _extra(item: str, input_size: int, seed: int, cache: str | None) -> tuple[str, Dataset]:
    """``YAML[:split]`` (default split: test, else val) -> (name, evaluation dataset on its own point count)."""
    from zoo.data.dataset import LandmarkDataset
    from zoo.data.formats import load_dataset_yaml, parse_dataset_yaml

    path_text, _, split = item.partition(":") if not Path(item).exists() else (item, "", "")
    path = Path(path_text)
    if not split:
        splits = parse_dataset_yaml(path).splits
        split = "test" if "test" in splits else "val" if "val" in splits else next(iter(splits), "test")
    samples = [s for s in load_dataset_yaml(path, split) if s.is_face]
    k = min(len(s.landmarks) for s in samples) if samples else 68
    name = f"{path.parent.name}-{split}" if path.stem in ("faces", "data", "dataset") else f"{path.stem}-{split}"
    return name, LandmarkDataset(samples, input_size, num_points=k, train=False, seed=seed, cache=cache)
