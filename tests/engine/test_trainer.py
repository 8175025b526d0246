"""The training engine on a tiny in-memory dataset: learning, exact resume, step 2, DDP."""

from __future__ import annotations

import os
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from zoo.checkpoints.checkpoint import load_checkpoint, load_checkpoint_dict
from zoo.engine.config import TrainConfig
from zoo.engine.loader import TrainData
from zoo.engine.trainer import Trainer

SIZE = 96


class TinyFaces(Dataset):
    """Dots at the landmarks on a dark square: learnable in a few steps, the contract's item dict.

    Deterministic per (seed, epoch, index) like the real dataset; ``negatives`` adds non-faces
    (noise only, is_face 0) after the faces.
    """

    def __init__(self, n: int, seed: int = 0, train: bool = True, negatives: int = 0) -> None:
        rng = np.random.default_rng(1234)
        template = rng.uniform(-0.25, 0.25, size=(70, 2))
        template[36], template[45] = (-0.2, -0.1), (0.2, -0.1)
        rng = np.random.default_rng(seed)
        self.yaw = rng.uniform(-60, 60, n)
        scale = rng.uniform(0.8, 1.1, (n, 1, 1))
        shift = rng.uniform(-0.08, 0.08, (n, 1, 2))
        pts = template[None] * scale + shift
        pts[:, :, 0] += (self.yaw / 60 * 0.05)[:, None]
        self.points = pts.astype(np.float32)
        self.n, self.negatives, self.seed, self.train, self.epoch = n, negatives, seed, train, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n + self.negatives

    def __getitem__(self, key):
        epoch, i = key if isinstance(key, tuple) else (self.epoch, key)
        rng = np.random.default_rng([self.seed, epoch if self.train else 0, i])
        img = np.full((3, SIZE, SIZE), -0.8, np.float32) + rng.normal(0, 0.05, (3, SIZE, SIZE)).astype(np.float32)
        face = i < self.n
        lm = np.zeros((70, 2), np.float32)
        if face:
            lm = self.points[i]
            for x, y in np.clip(((lm + 0.5) * SIZE).round().astype(int), 1, SIZE - 2):
                img[:, y - 1:y + 2, x - 1:x + 2] = 1.0
        else:
            img += rng.normal(0, 0.5, img.shape).astype(np.float32)
        yaw = float(self.yaw[i]) if face else 0.0
        return {"image": torch.from_numpy(img), "landmarks": torch.from_numpy(lm), "is_face": torch.tensor([float(face)]),
                "pose": torch.tensor([yaw, 0.0, 0.0]) / 90.0, "has_pose": torch.tensor([float(face)]), "index": i}


def tiny_data(n: int = 64, cls: bool = False) -> TrainData:
    data = TrainData(train=TinyFaces(n, seed=1), val=TinyFaces(16, seed=2, train=False),
                     extra={"tiny68": TinyFaces(8, seed=3, train=False)}, info={"data": "in-test", "seed": 0})
    if cls:
        data.cls_train = TinyFaces(n, seed=1, negatives=n // 2)
        data.cls_val = TinyFaces(16, seed=2, train=False, negatives=8)
    return data


def config(out: Path, variant: str = "lw-relu6-w0.5", **kw) -> TrainConfig:
    base = {"epochs": 2, "batch": 16, "workers": 0, "threads": 1, "progress": False, "out": str(out), "warmup_epochs": 0.5}
    base.update(kw)
    return TrainConfig(variant=variant, **base)


def test_two_epochs_lower_the_loss_and_write_the_run_folder(tmp_path: Path) -> None:
    cfg = config(tmp_path / "run", workers=1, ema=True)
    result = Trainer(cfg, data=tiny_data()).fit()
    hist = [r for r in load_checkpoint_dict(tmp_path / "run" / "last.pt")["extra"]["history"]]
    assert len(hist) == 2 and hist[1]["train_loss"] < hist[0]["train_loss"]
    assert result["best"]["val_nme"] == min(r["val_nme"] for r in hist)
    for name in ("config.yaml", "log.csv", "best.pt", "last.pt", "curves.png", "samples.png"):
        assert (tmp_path / "run" / name).is_file(), name
    header = (tmp_path / "run" / "log.csv").read_text().splitlines()[0].split(",")
    for col in ("epoch", "lr", "train_loss", "val_nme", "nme_yaw_le30", "nme_yaw_30_40", "nme_yaw_gt40", "nme_tiny68",
                "data_img_s", "model_img_s"):
        assert col in header
    card = load_checkpoint(tmp_path / "run" / "best.pt").meta
    assert card["training_data"]["data"] == "in-test" and card["recipe"]["lr"] == 0.002
    assert card["metrics"]["val_nme"] == result["best"]["val_nme"] and "nme_yaw_le30" in card["metrics"]
    assert card["hardware"]["cores"] and card["training_time_s"] > 0
    assert TrainConfig.load(tmp_path / "run" / "config.yaml") == cfg


def test_kill_and_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    full = Trainer(config(tmp_path / "full", ema=True), data=tiny_data()).fit()
    cfg = config(tmp_path / "cut", ema=True)
    Trainer(cfg, data=tiny_data()).fit(stop_after=1)  # as if killed after epoch 1
    assert len(load_checkpoint_dict(tmp_path / "cut" / "last.pt")["extra"]["history"]) == 1
    resumed = Trainer(cfg, data=tiny_data(), resume=True).fit()
    assert resumed["last"]["epoch"] == 2
    for key in ("train_loss", "val_nme", "lr"):
        assert resumed["last"][key] == pytest.approx(full["last"][key], rel=1e-5, abs=1e-7), key
    a = load_checkpoint(tmp_path / "full" / "last.pt").state_dict
    b = load_checkpoint(tmp_path / "cut" / "last.pt").state_dict
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)
    log = (tmp_path / "cut" / "log.csv").read_text().splitlines()
    assert len(log) == 3  # header + two epochs, no duplicate rows after the resume


def test_step2_trains_the_face_score_and_leaves_landmarks_bit_identical(tmp_path: Path) -> None:
    cfg = config(tmp_path / "cls", variant="lw-relu6-w0.5-affine-cls", epochs=1, cls_epochs=2, cls_lr=0.01)
    result = Trainer(cfg, data=tiny_data(cls=True)).fit()
    assert result["nme_before_step2"] == result["nme_after_step2"]
    assert 0.0 <= result["face"]["face_acc"] <= 1.0  # 2 tiny epochs: reported, not yet good
    assert not any(k.startswith("face_acc") for k in result["best"])
    step1 = load_checkpoint(tmp_path / "cls" / "step1_best.pt")
    final = load_checkpoint(tmp_path / "cls" / "best.pt")
    for k, v in step1.state_dict.items():
        if not k.startswith("face_head"):
            assert torch.equal(v, final.state_dict[k]), k  # weights and BatchNorm statistics
    assert any(not torch.equal(v, final.state_dict[k]) for k, v in step1.state_dict.items() if k.startswith("face_head"))
    x = torch.stack([TinyFaces(4, seed=9, train=False)[i]["image"] for i in range(4)])
    with torch.no_grad():
        assert torch.equal(step1.build()(x)["landmarks"], final.build()(x)["landmarks"])
    assert "face_acc" in final.meta["metrics"]


def test_init_runs_step2_alone(tmp_path: Path) -> None:
    Trainer(config(tmp_path / "lm", epochs=1), data=tiny_data(32)).fit()
    cfg = config(tmp_path / "s2", variant="lw-relu6-w0.5-affine-cls", init=str(tmp_path / "lm" / "best.pt"), cls_epochs=1)
    result = Trainer(cfg, data=tiny_data(32, cls=True)).fit()
    assert [r["stage"] for r in load_checkpoint_dict(tmp_path / "s2" / "last.pt")["extra"]["history"]] == [2]
    assert result["nme_before_step2"] == result["nme_after_step2"]
    lm = load_checkpoint(tmp_path / "lm" / "best.pt").state_dict
    s2 = load_checkpoint(tmp_path / "s2" / "best.pt").state_dict
    assert all(torch.equal(v, s2[k]) for k, v in lm.items() if k.startswith(("trunk", "pyramid", "landmark_head")))
    card = load_checkpoint(tmp_path / "s2" / "best.pt").meta
    assert card["init"]["checkpoint"] == "best.pt" and card["init"]["meta"]["epochs"]["landmarks"] == 1
    assert card["metrics"]["val_nme"] == result["nme_before_step2"]["val_nme"]  # not empty although step 1 was skipped


def test_init_from_a_wider_checkpoint_slims_it(tmp_path: Path) -> None:
    from zoo.architectures.slim import slim_state_dict

    Trainer(config(tmp_path / "wide", variant="lw-relu6", epochs=1), data=tiny_data(32)).fit()
    wide = load_checkpoint(tmp_path / "wide" / "best.pt")
    trainer = Trainer(config(tmp_path / "narrow", init=str(tmp_path / "wide" / "best.pt")), data=tiny_data(32))
    expected = slim_state_dict(wide.build(), trainer.model)
    got = trainer.model.state_dict()
    assert all(torch.equal(got[k], v) for k, v in expected.items()) and "landmark_head.mlp.0.weight" in expected
    assert trainer.init_card["slimmed"] is True and trainer.init_card["arch"] == "lw-relu6"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    from zoo.engine import distributed

    try:
        Trainer(replace(config(Path(out), epochs=1, threads=1), device="cpu"), data=tiny_data(32)).fit()
    finally:
        distributed.cleanup()


def test_ddp_two_processes_write_one_checkpoint(tmp_path: Path) -> None:
    torch.multiprocessing.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path / "ddp")), nprocs=2, join=True)
    files = sorted(p.name for p in (tmp_path / "ddp").iterdir())
    assert [f for f in files if f.endswith(".pt")] == ["best.pt", "last.pt"]
    assert not [f for f in files if f.endswith(".tmp")]
    state = load_checkpoint_dict(tmp_path / "ddp" / "last.pt")["extra"]
    assert len(state["history"]) == 1 and state["history"][0]["val_nme"] > 0
    assert state["history"][0]["train_loss"] > 0
    assert len((tmp_path / "ddp" / "log.csv").read_text().splitlines()) == 2
