"""int8-aware fine-tuning: the runtimes' 8-bit rounding in the training loop, and a floor under SiLU's input.

Why: a post-training int8 export (ONNX Runtime, TFLite) gives every activation tensor one uint8 scale over
the range it saw during calibration. Trained freely, LWCSP-SiLU drove the convolution outputs that feed its
SiLUs to -48..-101, deep in SiLU's flat tail, so one scale over [-101, 0.7] is a step of 0.4 where the
values that reach the head differ by hundredths, and its int8 exports broke (docs/export.md). Clipping the
calibrated range alone did not save that network: it had learned to live on tiny signals. So the fix is in
training, as the export doc concluded:

- a penalty on SiLU inputs below ``FLOOR`` keeps the ranges short: a layer whose "off" channels sit at
  -15 spends most of its 256 levels on SiLU's flat tail (SiLU(-3) = -0.14, SiLU(-15) = -0.000005), and
  the network learns to switch channels off at the floor instead;
- every activation's output, and a SiLU's input (the convolution output the runtimes quantise before it),
  is rounded to 8 bits per tensor over a running min/max, as a minmax calibrator would, with a
  straight-through gradient, so the network learns to be right *after* that rounding; inside SiLU the
  sigmoid is rounded to TFLite's fixed 1/256 step as well.

Only modules in train mode are touched: validation, the saved weights and the exports are plain float.
Nothing is stored in the state dict, so an int8-aware checkpoint loads and exports like any other.
"""

from __future__ import annotations

import torch
from torch import nn

#: SiLU inputs below this are penalised. -6 (first tried) left the TFLite export of a 3-epoch pilot at +9.8 NME on the
#: calibration crops, -3 at +7.9 (ONNX Runtime: +0.37 and +0.04); see docs/export.md.
FLOOR = -3.0
#: Weight of the mean squared excess below FLOOR, next to an L1 landmark loss of about 0.01-0.1.
PENALTY_WEIGHT = 1e-2
#: Running range update per training step (exponential moving average of each batch's min and max).
MOMENTUM = 0.05
_QUANTISED = (nn.SiLU, nn.ReLU6, nn.ReLU, nn.LeakyReLU, nn.PReLU)


class _Range:
    """Running [min, max] of one tensor, always containing 0 (a uint8 zero point must be exact)."""

    def __init__(self) -> None:
        self.lo: float | None = None
        self.hi = 0.0

    def update(self, x: torch.Tensor) -> tuple[float, float]:
        lo_t, hi_t = torch.aminmax(x.detach())  # one pass over the tensor, not two
        lo, hi = min(float(lo_t), 0.0), max(float(hi_t), 0.0)
        if self.lo is None:
            self.lo, self.hi = lo, hi
        else:
            self.lo += MOMENTUM * (lo - self.lo)
            self.hi += MOMENTUM * (hi - self.hi)
        return self.lo, self.hi


def fake_uint8(x: torch.Tensor, rng: _Range) -> torch.Tensor:
    """``x`` rounded to 256 levels over the running range; gradient passes straight through inside it."""
    lo, hi = rng.update(x)
    scale = max((hi - lo) / 255.0, 1e-8)
    zero = int(min(max(round(-lo / scale), 0), 255))
    return torch.fake_quantize_per_tensor_affine(x, scale, zero, 0, 255)


class Int8Aware:
    """Hooks on a network's activation modules; ``take_penalty()`` after each forward adds the floor's loss."""

    def __init__(self, model: nn.Module) -> None:
        self._penalty: list[torch.Tensor] = []
        self._handles = []
        self.modules = 0
        for module in model.modules():
            if isinstance(module, _QUANTISED):
                self._handles.append(module.register_forward_pre_hook(self._before(module, _Range())))
                self._handles.append(module.register_forward_hook(self._after(module, _Range())))
                self.modules += 1

    def _before(self, module: nn.Module, rng: _Range):
        silu = isinstance(module, nn.SiLU)

        def hook(mod: nn.Module, args: tuple[torch.Tensor, ...]):
            if not mod.training or not silu:  # other activations fuse into their convolution in int8
                return None
            x = args[0]
            self._penalty.append(torch.relu(FLOOR - x).square().mean())
            return (fake_uint8(x, rng),)

        return hook

    @staticmethod
    def _after(module: nn.Module, rng: _Range):
        silu = isinstance(module, nn.SiLU)

        def hook(mod: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor):
            if not mod.training:
                return None
            if silu:  # int8 runs SiLU as a sigmoid table with a fixed 1/256 output step (TFLite's LOGISTIC), then a multiply
                x = args[0]
                out = x * torch.fake_quantize_per_tensor_affine(torch.sigmoid(x), 1.0 / 256, 0, 0, 255)
            return fake_uint8(out, rng)

        return hook

    def take_penalty(self) -> torch.Tensor | float:
        """The floor's weighted penalty of the forward passes since the last call (0.0 if none)."""
        terms, self._penalty = self._penalty, []
        return PENALTY_WEIGHT * torch.stack(terms).sum() if terms else 0.0

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
