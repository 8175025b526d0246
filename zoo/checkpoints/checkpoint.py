"""zoo checkpoints: plain dicts that load with ``torch.load(weights_only=True)``.

A checkpoint is ``{"format", "arch", "config", "state_dict", "meta"}``: ``arch`` is the
variant name, ``config`` the VariantSpec as a dict, ``meta`` the model card (training
data, metrics, date, zoo version ...). No code is unpickled on load, so a checkpoint from a
stranger cannot run anything; fdfat's pickled modules go through ``fdfat_import`` instead.
"""

from __future__ import annotations

import datetime as _dt
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from zoo import __version__
from zoo.architectures import FaceAlignmentNet, VariantSpec, build_model
from zoo.fileio import atomic_write, sha256_file  # noqa: F401 - sha256_file is part of this module's API

FORMAT = "zoo-checkpoint/1"
REQUIRED_KEYS = ("arch", "config", "state_dict", "meta")


class CheckpointError(ValueError):
    """A file that is not a readable zoo checkpoint; the message says what it is not."""


class WeightsMismatchError(CheckpointError, RuntimeError):
    """Weights that do not fit the network their config describes (wrong shapes, missing or extra tensors).

    Also a RuntimeError, which is what ``load_state_dict`` raised before ``build`` caught it.
    """


@dataclass
class Checkpoint:
    """A loaded checkpoint: the spec to rebuild the network, its weights and its card."""

    spec: VariantSpec
    state_dict: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    sha256: str | None = None
    adapter: dict[str, Any] | None = None  # ``zoo adapt``'s landmark map (zoo.architectures.adapter)

    @property
    def arch(self) -> str:
        return self.spec.name

    def build(self) -> FaceAlignmentNet:
        """The network with these weights, in eval mode (ending in its landmark map when adapted)."""
        try:
            model = build_model(self.spec)
            model.load_state_dict(self.state_dict)
        except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as e:  # wrong shapes, missing keys
            why = " ".join(str(e).split())[:240] or type(e).__name__  # torch's first line alone says only "Error(s) in"
            raise WeightsMismatchError(f"{self.path or 'checkpoint'}: its weights do not fit {self.spec.name} ({why}); "
                                       "re-export or re-train it") from None
        if self.adapter is not None:
            from zoo.architectures.adapter import attach_adapter

            try:
                return attach_adapter(model.eval(), self.adapter)
            except (ValueError, KeyError, TypeError) as e:
                raise CheckpointError(f"{self.path or 'checkpoint'}: {e}") from None
        return model.eval()


def model_card(**fields: Any) -> dict[str, Any]:
    """A card with the fields every checkpoint carries, plus whatever the caller knows."""
    card: dict[str, Any] = {
        "zoo_version": __version__,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "training_data": None,
        "metrics": {},
    }
    card.update(fields)
    return card


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """Write through a temp file in the same folder and rename: a kill never leaves half a file."""
    atomic_write(path, lambda f: torch.save(obj, f))


def save_checkpoint(path: str | os.PathLike, model: FaceAlignmentNet, meta: dict[str, Any] | None = None,
                    extra: dict[str, Any] | None = None) -> str:
    """Save ``model`` (which must carry its ``spec``) with a model card; returns the file's sha256.

    ``extra`` holds tensors/plain data a trainer needs to resume (optimizer, RNG states); it
    stays loadable with ``weights_only=True`` as long as it holds only tensors and builtins.
    """
    adapter = model.adapter_state() if hasattr(model, "adapter_state") else None
    model = model.base if adapter is not None else model  # an adapted net saves its network + the map
    spec: VariantSpec = model.spec
    card = model_card(variant=spec.name, config=spec.to_dict(), **(meta or {}))
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "arch": spec.name, "config": spec.to_dict(), "state_dict": state, "meta": card}
    if adapter is not None:
        payload["adapter"] = adapter
    if extra:
        payload["extra"] = extra
    atomic_torch_save(payload, path)
    return sha256_file(path)


def load_checkpoint_dict(path: str | os.PathLike) -> dict[str, Any]:
    """The raw checkpoint dict, with one-line errors for missing, corrupted and foreign files."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a zoo checkpoint: not a torch zip archive (truncated or another format)")
    _refuse_compressed_members(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except RuntimeError as e:
        reason = _first_line(e)
        raise CheckpointError(f"{path} is not a zoo checkpoint: the archive is corrupted or truncated ({reason})") from None
    except Exception as e:  # weights_only refusing a class: the file pickles code, not a plain dict
        msg = _first_line(e)
        hint = " (an fdfat training checkpoint? use `zoo import-fdfat`)" if "fdfat" in str(e) else ""
        raise CheckpointError(f"{path} is not a zoo checkpoint: it pickles objects, not plain data{hint} [{msg}]") from None
    if not isinstance(data, dict) or any(k not in data for k in REQUIRED_KEYS):
        have = sorted(map(str, data))[:6] if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(f"{path} is not a zoo checkpoint: expected keys {list(REQUIRED_KEYS)}, found {have}")
    return data


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Load a zoo checkpoint without unpickling any code."""
    data = load_checkpoint_dict(path)
    try:
        spec = _checked_spec(VariantSpec.from_dict(data["config"]))
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise CheckpointError(f"{path} is not a zoo checkpoint: its config is not a variant spec ({_first_line(e)})") from None
    state = data["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise CheckpointError(f"{path} is not a zoo checkpoint: its state_dict is not a map of names to tensors")
    if not isinstance(data.get("meta", {}), dict):
        raise CheckpointError(f"{path} is not a zoo checkpoint: its meta (model card) is a {type(data['meta']).__name__}, "
                              "not a map")
    adapter = data.get("adapter")
    if adapter is not None and not isinstance(adapter, dict):
        raise CheckpointError(f"{path} is not a zoo checkpoint: its adapter is a {type(adapter).__name__}, not a map")
    return Checkpoint(spec=spec, state_dict=data["state_dict"], meta=data.get("meta", {}),
                      path=Path(path), sha256=sha256_file(path), adapter=adapter)


def _refuse_compressed_members(path: Path) -> None:
    """torch.save stores every member uncompressed; a deflated member is not torch's, and a small one can
    inflate to gigabytes (a zip bomb), so it is refused before anything is read."""
    try:
        with zipfile.ZipFile(path) as archive:
            packed = [i.filename for i in archive.infolist() if i.compress_type != zipfile.ZIP_STORED]
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as e:
        raise CheckpointError(f"{path} is not a zoo checkpoint: the archive is corrupted or truncated ({_first_line(e)})") \
            from None
    if packed:
        raise CheckpointError(f"{path} is not a zoo checkpoint: {len(packed)} compressed member(s) (e.g. {packed[0][:80]}); "
                              "torch writes none, so it was not written by torch.save")


def _checked_spec(spec: VariantSpec) -> VariantSpec:
    """A spec whose fields have the types and ranges any network could be built from (ValueError otherwise)."""
    if not (isinstance(spec.family, str) and isinstance(spec.activation, str)):
        raise ValueError("family and activation must be names")
    if isinstance(spec.width, bool) or not isinstance(spec.width, (int, float)) or not 0 < spec.width <= 8:
        raise ValueError(f"width {spec.width!r} is not a multiplier in (0, 8]")
    if isinstance(spec.input_size, bool) or not isinstance(spec.input_size, int) or not 16 <= spec.input_size <= 1024:
        raise ValueError(f"input_size {spec.input_size!r} is not a size in pixels")
    if spec.num_points not in (68, 70) or not all(isinstance(getattr(spec, f), bool) for f in ("affine", "cls", "pose")):
        raise ValueError("num_points must be 68 or 70 and affine/cls/pose true or false")
    return spec


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__
