"""int8-aware training: 8-bit rounding only in train mode, a floor that lifts SiLU inputs, plain checkpoints."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from tests.engine.test_trainer import config, tiny_data
from zoo.checkpoints.checkpoint import load_checkpoint
from zoo.engine.int8_aware import FLOOR, Int8Aware
from zoo.engine.trainer import Trainer


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.SiLU(), nn.Conv2d(8, 4, 1), nn.ReLU6())


def test_train_mode_rounds_to_256_levels_and_eval_mode_is_untouched() -> None:
    net, x = _net(), torch.randn(2, 3, 16, 16)
    plain = net.eval()(x)
    aware = Int8Aware(net)
    assert aware.modules == 2
    assert torch.equal(net.eval()(x), plain)  # eval: the hooks do nothing
    seen = {}
    net[1].register_forward_hook(lambda m, a, out: seen.update(silu_in=a[0], silu_out=out))
    net.train()(x)
    for name in ("silu_in", "silu_out"):
        assert 2 < len(torch.unique(seen[name])) <= 256, name
    assert float(aware.take_penalty().detach()) == 0.0  # inputs of a fresh conv lie far above the floor
    assert aware.take_penalty() == 0.0  # and the penalty was taken: nothing left
    aware.remove()
    assert torch.equal(net.eval()(x), plain)


def test_the_floor_penalises_only_what_lies_below_it_and_lifts_it() -> None:
    net = _net()
    with torch.no_grad():
        net[0].bias.fill_(FLOOR - 30.0)  # every SiLU input far below the floor
    aware = Int8Aware(net)
    x = torch.randn(8, 3, 16, 16)
    opt = torch.optim.Adam(net.parameters(), lr=1.0)
    first = None
    for _ in range(60):
        net.train()(x)
        penalty = aware.take_penalty()
        first = float(penalty) if first is None else first
        opt.zero_grad()
        penalty.backward()
        opt.step()
    assert first > 0.1
    net.train()(x)
    assert float(aware.take_penalty().detach()) < 0.01 * first
    with torch.no_grad():
        net[0].bias.fill_(0.0)
        net[0].weight.mul_(1e-3)  # inputs near 0, above the floor
    net.train()(x)
    assert float(aware.take_penalty().detach()) == 0.0


def test_int8_aware_training_writes_plain_checkpoints_that_record_it(tmp_path: Path) -> None:
    cfg = config(tmp_path / "run", variant="lwcsp-silu-w0.5", epochs=1, int8_aware=True)
    trainer = Trainer(cfg, data=tiny_data())
    assert trainer.int8_aware is not None and trainer.int8_aware.modules > 10
    trainer.fit()
    ck = load_checkpoint(tmp_path / "run" / "best.pt")
    assert ck.meta["recipe"]["int8_aware"] is True
    fresh = ck.build()
    assert set(fresh.state_dict()) == set(ck.state_dict)  # nothing of the hooks in the weights
