"""One training engine for every registered variant: step 1 landmarks, step 2 face score.

Nothing here knows a family: the network comes from the registry, the heads it has decide
the losses (landmarks always, pose when the variant has a pose head, face score in step 2 for
``-cls`` variants), and ``model.landmark_modules()`` says what step 2 freezes. Step 2 keeps the
frozen modules in eval mode, so BatchNorm statistics and landmark outputs stay bit-identical;
the trainer checks that and logs it.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo.architectures import FaceAlignmentNet, get_spec
from zoo.architectures.registry import build_model
from zoo.checkpoints.checkpoint import load_checkpoint, load_checkpoint_dict, save_checkpoint

from . import distributed as D
from .config import TrainConfig
from .int8_aware import Int8Aware
from .loader import EpochSampler, TrainData, build_data, default_split, make_loader, prior_weight, yaw_weights
from .losses import make_landmark_loss, nme, nme_by_yaw, pose_loss
from .optim import ModelEMA, WarmupCosine, make_optimizer, rng_state, seed_everything, set_rng_state
from .progress import TrainProgress, write_log


class TrainingError(RuntimeError):
    """A run that cannot go on (e.g. step 2 changed the landmark outputs); one line."""


@dataclass
class Stage:
    index: int  # 1 landmarks, 2 face score
    name: str
    epochs: int
    lr: float
    trainable: list[nn.Module]
    frozen: list[nn.Module] = field(default_factory=list)


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: no CUDA device is available here; use --device cpu or auto")
    return torch.device("cuda" if name in ("auto", "cuda") and torch.cuda.is_available() else "cpu")


def hardware(device: torch.device, world: int) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name"))
    info = {"cpu": cpu, "cores": os.cpu_count(), "device": str(device), "processes": world,
            "torch": str(torch.__version__), "threads": torch.get_num_threads()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _fork_safe_opencv() -> None:
    """One OpenCV thread in the trainer: forked DataLoader workers then never touch a thread pool
    that exists only in the parent (that deadlocks); each worker is one core of decoding anyway."""
    with contextlib.suppress(ImportError):
        import cv2

        cv2.setNumThreads(1)


class Trainer:
    """Trains ``cfg.variant`` into ``cfg.out`` (config.yaml, log.csv, best.pt, last.pt, plots)."""

    def __init__(self, cfg: TrainConfig, data: TrainData | None = None, resume: bool = False) -> None:
        self.cfg = cfg
        _fork_safe_opencv()
        self.device = pick_device(cfg.device)
        self.dist = D.init(self.device)
        self.main = self.dist.is_main
        workers, threads = default_split(self.dist.world_size, self.device.type == "cuda")
        torch.set_num_threads(cfg.threads or threads)
        self.workers = workers if cfg.workers is None else cfg.workers
        self.out = Path(cfg.out or f"runs/{cfg.variant}")
        self.spec = get_spec(cfg.variant)
        seed_everything(cfg.seed)
        self.model: FaceAlignmentNet = build_model(self.spec).to(self.device)
        self.channels_last = cfg.channels_last and self.device.type == "cpu"
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.init_card: dict[str, Any] | None = None
        if cfg.init and not resume:
            self._load_init(cfg.init)
        self.data = data or build_data(cfg.data, self.spec.input_size, self.spec.num_points, self.spec.affine, cfg.seed,
                                       cfg.flip, cfg.val_extra, cfg.skip_bad, want_cls=self.spec.cls,
                                       cache=cfg.cache, photometric=cfg.photometric)
        self.int8_aware = Int8Aware(self.model) if cfg.int8_aware else None
        self.loss_fn = make_landmark_loss(cfg.loss, self.spec.input_size, cfg.wing_w, cfg.wing_eps)
        from zoo.landmarks import part_weights

        self.point_w = torch.from_numpy(part_weights(cfg.part_weights, self.spec.num_points)).to(self.device)
        self.state: dict[str, Any] = {"stage": 1, "epoch": 0, "history": [], "time_s": 0.0, "best": math.inf}
        if resume:
            self._load_resume()
        if self.main:
            self.out.mkdir(parents=True, exist_ok=True)
            cfg.save(self.out / "config.yaml")
        self.progress = TrainProgress(enabled=cfg.progress and self.main)
        self._eval_loaders: dict[int, Any] = {}

    # ------------------------------------------------------------------ setup
    def _load_init(self, path: str) -> None:
        """Weights of another checkpoint; heads this variant has and it lacks stay freshly initialised."""
        ck = load_checkpoint(path)
        own, source = self.model.state_dict(), ck.state_dict
        from zoo.architectures.slim import can_slim, slim_state_dict

        slim = can_slim(ck.spec, self.spec)
        if slim:  # a wider checkpoint: its strongest channels
            source = slim_state_dict(ck.build(), self.model)
        usable = {k: v for k, v in source.items() if k in own and own[k].shape == v.shape}
        if not any(k.startswith("landmark_head") for k in usable):
            raise TrainingError(f"--init {path}: its landmark network ({ck.arch}) does not fit {self.spec.name}")
        self.model.load_state_dict(usable, strict=False)
        # the card of a run that starts from other weights names them and carries their card: a face-score
        # step or a fine-tune alone would otherwise hide how the landmark network was trained
        self.init_card = {"checkpoint": Path(path).name, "sha256": ck.sha256, "arch": ck.arch, "meta": ck.meta,
                          "slimmed": slim}

    def _load_resume(self) -> None:
        raw = load_checkpoint_dict(self.out / "last.pt")
        if "extra" not in raw:
            raise TrainingError(f"{self.out / 'last.pt'} holds no training state to resume from")
        self.model.load_state_dict(raw["state_dict"])
        self.state = raw["extra"]
        self.init_card = raw.get("meta", {}).get("init")

    def _stages(self) -> list[Stage]:
        m, cfg = self.model, self.cfg
        landmark = list(m.landmark_modules())
        extra_heads = [m.pose_head] if m.pose_head is not None else []
        skip_step1 = bool(cfg.init) and self.spec.cls
        stages = [Stage(1, "landmarks", 0 if skip_step1 else cfg.epochs, cfg.lr, landmark + extra_heads,
                        [m.face_head] if m.face_head is not None else [])]
        if self.spec.cls:
            stages.append(Stage(2, "face", cfg.cls_epochs, cfg.cls_lr, [m.face_head], landmark + extra_heads))
        return stages

    def _set_modes(self, stage: Stage) -> None:
        """Train mode for what trains, eval mode (BatchNorm statistics untouched) for what is frozen."""
        self.model.train()
        for module in stage.frozen:
            module.eval()
        for module in stage.trainable:
            module.train()

    # ------------------------------------------------------------------ run
    def fit(self, stop_after: int | None = None) -> dict[str, Any]:
        """Train every stage; ``stop_after`` epochs ends this process early (as a kill would)."""
        done = 0
        for stage in self._stages():
            if stage.index < self.state["stage"]:
                continue
            done += self._run_stage(stage, None if stop_after is None else stop_after - done)
            if stop_after is not None and done >= stop_after:
                break
        if self.main and self.cfg.plots and self.state["history"]:
            from .plots import plot_curves

            plot_curves(self.state["history"], self.out / "curves.png")
        D.barrier(self.dist)
        self.progress.close()
        return self.summary()

    def summary(self) -> dict[str, Any]:
        out = {"best": self._best_row(), "last": self.state["history"][-1] if self.state["history"] else {}, "out": str(self.out),
               "time_s": self.state["time_s"]}
        out.update({k: self.state[k] for k in ("nme_before_step2", "nme_after_step2", "face") if k in self.state})
        return out

    def _run_stage(self, stage: Stage, budget: int | None) -> int:
        cfg, st = self.cfg, self.state
        resuming = st["stage"] == stage.index and st["epoch"] > 0
        if stage.epochs == 0:
            st.update(stage=stage.index + 1, epoch=0)
            return 0
        if not resuming:
            self._begin_stage(stage)
        for p in self.model.parameters():
            p.requires_grad_(False)
        for module in stage.trainable:
            for p in module.parameters():
                p.requires_grad_(True)
        params = [p for mod in stage.trainable for p in mod.parameters()]
        dataset = self.data.train if stage.index == 1 else self.data.cls_train
        # uniform draws need nothing from the dataset; a prior reads each sample's meta yaw
        weights = yaw_weights(dataset.samples, cfg.yaw_prior) if stage.index == 1 and cfg.yaw_prior != "uniform" else None
        sampler = EpochSampler(dataset, self.dist, True, cfg.seed + stage.index, cfg.images_per_epoch, weights)
        batch = min(cfg.batch, max(1, len(sampler)))
        loader = make_loader(dataset, batch, sampler, self.workers, train=True, pin=self.device.type == "cuda")
        steps = max(1, len(loader))
        opt = make_optimizer(cfg.optimizer, params, stage.lr, cfg.weight_decay)
        sched = WarmupCosine(opt, stage.lr, steps * stage.epochs, round(cfg.warmup_epochs * steps), cfg.lr_final)
        ema = ModelEMA(self.model, cfg.ema_decay) if cfg.ema and stage.index == 1 else None
        if resuming:
            opt.load_state_dict(st["optimizer"])
            sched.load_state_dict(st["scheduler"])
            if ema is not None and st.get("ema"):
                ema.load_state_dict(st["ema"])
            set_rng_state(st["rng"])
        net = D.wrap(self.model, self.dist, self.device)
        if self.main and stage.index == 1 and st["epoch"] == 0 and cfg.plots:
            from .plots import plot_samples

            plot_samples(dataset, self.out / "samples.png", n=min(16, len(dataset)))
        self.progress.start_stage(stage.name, stage.epochs, steps, st["epoch"])
        ran = 0
        for epoch in range(st["epoch"], stage.epochs):
            if budget is not None and ran >= budget:
                break
            sampler.set_epoch(epoch)
            self._set_modes(stage)
            t0 = time.perf_counter()
            train = self._train_epoch(stage, net, loader, opt, sched, ema)
            val_model = ema.module if ema is not None else self.model
            metrics = self._validate(val_model, stage)
            elapsed = time.perf_counter() - t0
            st["time_s"] += elapsed
            row = {"stage": stage.index, "epoch": epoch + 1, "lr": sched.current, **train, **metrics, "epoch_s": elapsed}
            st["history"].append(row)
            st.update(epoch=epoch + 1, optimizer=opt.state_dict(), scheduler=sched.state_dict(), rng=rng_state(),
                      ema=ema.state_dict() if ema is not None else None)
            score = metrics.get(self._selection_key(), metrics["val_nme"]) if stage.index == 1 else metrics["val_bce"]
            improved = score < st["best"]
            if improved:
                st["best"] = score
            self._save(stage, val_model, improved)
            self.progress.end_epoch(row)
            ran += 1
        if st["epoch"] >= stage.epochs:
            self._end_stage(stage)
        return ran

    def _begin_stage(self, stage: Stage) -> None:
        st = self.state
        st.update(stage=stage.index, epoch=0, best=math.inf)
        if stage.index == 2:
            best = self.out / "best.pt"
            D.barrier(self.dist)
            if self.cfg.epochs > 0 and not self.cfg.init and best.is_file():
                self.model.load_state_dict(load_checkpoint(best).state_dict)  # step 2 starts from step 1's best
            st["nme_before_step2"] = self._landmark_nmes()

    def _end_stage(self, stage: Stage) -> None:
        st = self.state
        if stage.index == 1 and self.spec.cls and self.main and (self.out / "best.pt").is_file():
            shutil.copyfile(self.out / "best.pt", self.out / "step1_best.pt")
        if stage.index == 2:
            best = self.out / "best.pt"
            D.barrier(self.dist)
            self.model.load_state_dict(load_checkpoint(best).state_dict)
            after = self._landmark_nmes()
            before = st["nme_before_step2"]
            st["nme_after_step2"] = after
            if after != before:
                raise TrainingError(f"step 2 changed the landmark outputs: val NME {before} before, {after} after")
            st["face"] = self._validate(self.model, stage)
            self.progress.log(f"step 2: val NME before {before['val_nme']:.4f} == after {after['val_nme']:.4f}; "
                              f"face score accuracy {st['face']['face_acc']:.3f} (faces {st['face']['face_acc_faces']:.3f}, "
                              f"non-faces {st['face']['face_acc_nonfaces']:.3f})")
        st.update(stage=stage.index + 1, epoch=0)

    # ------------------------------------------------------------------ epochs
    def _to(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last and x.dim() == 4 else x

    def _loss(self, stage: Stage, out: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> torch.Tensor:
        floor = self.int8_aware.take_penalty() if self.int8_aware is not None else 0.0
        return self._task_loss(stage, out, b) + floor

    def _task_loss(self, stage: Stage, out: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> torch.Tensor:
        if stage.index == 2:
            y = b["is_face"].to(self.device).view(-1, 1)
            n_pos = y.sum().clamp_min(1.0)
            n_neg = (1 - y).sum().clamp_min(1.0)
            w = torch.where(y > 0.5, 0.5 / n_pos, 0.5 / n_neg)  # each class half of the loss, whatever the mix
            return (F.binary_cross_entropy(out["face_score"].float().clamp(1e-6, 1 - 1e-6), y, reduction="none") * w).sum()
        mask = b["is_face"].to(self.device).view(-1)
        loss = self.loss_fn(out["landmarks"], b["landmarks"].to(self.device), self.point_w, mask)
        if "pose" in out:
            loss = loss + self.cfg.pose_weight * pose_loss(out["pose"], b["pose"].to(self.device), b["has_pose"].to(self.device))
        return loss

    def _train_epoch(self, stage: Stage, net: nn.Module, loader, opt, sched, ema) -> dict[str, float]:
        wait = compute = 0.0
        loss_sum, images = 0.0, 0
        t = time.perf_counter()
        for b in loader:
            t1 = time.perf_counter()
            wait += t1 - t
            x = self._to(b["image"])
            loss = self._loss(stage, net(x), b)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update(self.model)
            n = x.shape[0]
            loss_sum += float(loss.detach()) * n
            images += n
            t = time.perf_counter()
            compute += t - t1
            self.progress.step(float(loss.detach()), images / max(wait + compute, 1e-9))
        loss_sum, images_all, wait, compute = D.all_reduce_sum([loss_sum, images, wait, compute], self.dist, self.device)
        w = self.dist.world_size
        return {"train_loss": loss_sum / max(images_all, 1),
                "img_s": images_all / max((wait + compute) / w, 1e-9),
                "data_img_s": images_all / max(wait / w, 1e-9),
                "model_img_s": images_all / max(compute / w, 1e-9),
                "wait_pct": 100.0 * wait / max(wait + compute, 1e-9)}

    @torch.no_grad()
    def _predict(self, model: nn.Module, dataset, keys: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """Run ``model`` over a dataset (in order, deterministic crops); concatenated outputs and targets."""
        was = model.training
        model.eval()
        loader = self._eval_loaders.get(id(dataset))
        if loader is None:  # built once: its persistent worker serves every epoch's evaluation
            sampler = EpochSampler(dataset, D.DistInfo(), shuffle=False)
            loader = self._eval_loaders[id(dataset)] = make_loader(dataset, self.cfg.batch, sampler, min(self.workers, 1),
                                                                   train=False)
        got: dict[str, list[torch.Tensor]] = {}
        for b in loader:
            out = model(self._to(b["image"]))
            for k in keys:
                got.setdefault(k, []).append(out[k].float().cpu())
            for k in ("landmarks", "pose", "has_pose", "is_face"):
                got.setdefault("t_" + k, []).append(b[k])
        model.train(was)
        return {k: torch.cat(v) for k, v in got.items()}

    def _nme_metrics(self, model: nn.Module, dataset, prefix: str = "val_") -> dict[str, float]:
        r = self._predict(model, dataset, ("landmarks",))
        k = r["t_landmarks"].shape[1]
        per = nme(r["landmarks"][:, :k], r["t_landmarks"], k)
        out = {f"{prefix}nme": float(per.mean())}
        if prefix == "val_":
            yaw, known = r["t_pose"][:, 0] * 90.0, r["t_has_pose"].view(-1) > 0.5
            out.update(nme_by_yaw(per, yaw, known))
            if self.cfg.yaw_prior != "uniform":
                # the validation faces weighted like the training draws: what the run optimises, so what picks best.pt
                w = torch.tensor([prior_weight(y, self.cfg.yaw_prior) if k else 1.0
                                  for y, k in zip(yaw.tolist(), known.tolist(), strict=True)], dtype=per.dtype)
                out["val_nme_prior"] = float((per * w).sum() / w.sum())
        return out

    def _selection_key(self) -> str:
        """The stage-1 metric that chooses best.pt: val NME, weighted by the yaw prior when the draws are."""
        return "val_nme" if self.cfg.yaw_prior == "uniform" else "val_nme_prior"

    def _best_row(self) -> dict[str, Any]:
        rows = [r for r in self.state["history"] if r["stage"] == 1]
        key = self._selection_key()
        return min(rows, key=lambda r: r.get(key, r["val_nme"])) if rows else {}

    def _landmark_nmes(self) -> dict[str, float]:
        return self._nme_metrics(self.model, self.data.val)

    def _validate(self, model: nn.Module, stage: Stage) -> dict[str, float]:
        if not self.main:
            return {"val_nme": math.nan, "val_bce": math.nan}
        if stage.index == 1:
            metrics = self._nme_metrics(model, self.data.val)
            for name, dset in self.data.extra.items():
                metrics[f"nme_{name}"] = self._nme_metrics(model, dset, prefix="")["nme"]
        else:
            r = self._predict(model, self.data.cls_val, ("face_score",))
            s, y = r["face_score"].view(-1), r["t_is_face"].view(-1)
            right = (s > 0.5) == (y > 0.5)
            faces, non = y > 0.5, y <= 0.5
            metrics = {"val_nme": math.nan, "val_bce": float(F.binary_cross_entropy(s.clamp(1e-6, 1 - 1e-6), y)),
                       "face_acc": float(right.float().mean()),
                       "face_acc_faces": float(right[faces].float().mean()) if faces.any() else math.nan,
                       "face_acc_nonfaces": float(right[non].float().mean()) if non.any() else math.nan}
        return metrics

    # ------------------------------------------------------------------ files
    def card(self, stage: Stage) -> dict[str, Any]:
        rows = [r for r in self.state["history"] if r["stage"] == 1]
        metrics = {k: v for k, v in self._best_row().items() if k.startswith(("val_nme", "nme_"))}
        if not rows and self.init_card is not None:
            # step 2 alone: the frozen landmark network scores what its --init checkpoint scored (extra sets
            # included); val NME is the one measured here before step 2
            metrics = {k: v for k, v in self.init_card["meta"].get("metrics", {}).items() if k.startswith(("val_nme", "nme_"))}
            metrics.update({k: v for k, v in self.state.get("nme_before_step2", {}).items() if k.startswith(("val_nme", "nme_"))})
        if stage.index == 2 and self.state["history"]:
            metrics.update({k: v for k, v in self.state["history"][-1].items() if k.startswith("face_acc")})
        info = dict(self.data.info)
        info.pop("skipped", None)
        return {"training_data": info, "recipe": self.cfg.to_dict(), "stage": stage.index,
                "epochs": {"landmarks": len(rows), "face": sum(r["stage"] == 2 for r in self.state["history"])},
                "training_time_s": round(self.state["time_s"], 1), "hardware": hardware(self.device, self.dist.world_size),
                "metrics": metrics, **({"init": self.init_card} if self.init_card is not None else {})}

    def _save(self, stage: Stage, val_model: nn.Module, improved: bool) -> None:
        if self.main:
            card = self.card(stage)
            if improved:
                save_checkpoint(self.out / "best.pt", val_model, card)
            save_checkpoint(self.out / "last.pt", self.model, card, extra=self.state)
            write_log(self.state["history"], self.out / "log.csv")
        D.barrier(self.dist)
