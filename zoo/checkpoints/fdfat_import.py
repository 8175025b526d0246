"""Import fdfat training checkpoints (``best.pt``) without fdfat installed.

fdfat pickles whole ``nn.Module`` objects, so its files can only be read by unpickling
classes named ``fdfat.nn.*``. This is the one place in zoo that unpickles arbitrary
objects, and it does so through an allow-list: fdfat's model classes and torch's module
classes become inert stand-ins whose ``_parameters``/``_buffers``/``_modules`` we walk; only
torch's tensor rebuilders, ``collections.OrderedDict`` and numpy are real; everything else is
refused before it can run.
"""

from __future__ import annotations

import io
import pickle
import re
import types
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

from zoo.architectures import VariantSpec, build_model

from .checkpoint import CheckpointError, save_checkpoint

#: Bumped whenever zoo's layer names change, so caches of imported checkpoints are rebuilt.
IMPORT_LAYOUT = 2

#: fdfat modules whose classes are model layers (mapped to stand-ins).
FDFAT_MODEL_MODULES = ("fdfat.nn.model", "fdfat.nn.module", "fdfat.nn.modulecsp", "fdfat.nn.conv")

#: Data-only classes in fdfat's metadata (training arguments); mapped to stand-ins, never run.
DATA_ONLY = {
    ("types", "SimpleNamespace"), ("fdfat.cfg.yaml_utils", "IterableSimpleNamespace"),
    ("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "Path"),
}


class Stub:
    """Stand-in for a pickled object: keeps constructor args and state, runs nothing."""

    qualname = "?"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__["_args"] = args

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots) form
            state = {**(state[0] or {}), **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.__dict__["_state"] = state


_STUBS: dict[str, type[Stub]] = {}


def _stub(module: str, name: str) -> type[Stub]:
    key = f"{module}.{name}"
    if key not in _STUBS:
        _STUBS[key] = type(name, (Stub,), {"qualname": key})
    return _STUBS[key]


class RefusedClassError(pickle.UnpicklingError):
    """The pickle names a class outside the allow-list."""


#: The torch globals a pickled module needs: tensor rebuilders and storage types, nothing callable beyond them.
TORCH_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"), ("torch", "device"), ("torch", "Size"),
    *(("torch", f"{t}Storage") for t in ("Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool")),
}


class FdfatUnpickler(pickle.Unpickler):
    """Resolves only exact, listed globals; module *prefixes* are trusted for stand-ins alone."""

    def find_class(self, module: str, name: str) -> Any:
        if "." in name:  # protocol 4 resolves dotted names (torch + "os.system"): never follow them
            raise RefusedClassError(f"refusing to unpickle {module}.{name}: dotted names are not allowed")
        if module.startswith(FDFAT_MODEL_MODULES) or module.startswith("torch.nn.modules."):
            return _stub(module, name)
        if (module, name) in DATA_ONLY:
            return _stub(module, name)
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module in ("builtins", "__builtin__") and name in ("set", "frozenset"):
            return super().find_class(module, name)
        if (module, name) in TORCH_GLOBALS:
            return super().find_class(module, name)
        raise RefusedClassError(
            f"refusing to unpickle {module}.{name}: only torch tensors, OrderedDict and fdfat model classes are allowed"
        )


def restricted_load(file: Any, **kwargs: Any) -> Any:
    """``pickle.load`` through the allow-list.

    torch's legacy (non-zip) reader calls ``pickle_module.load`` on the file *before* it builds an
    ``Unpickler``: that call must be as restricted as the unpickler, or a plain pickle runs code there.
    """
    return FdfatUnpickler(file, **kwargs).load()


def restricted_loads(data: bytes, **kwargs: Any) -> Any:
    """``pickle.loads`` through the allow-list (same reason as ``restricted_load``)."""
    return restricted_load(io.BytesIO(data), **kwargs)


#: torch.load wants a module-like object; every entry point in it goes through ``FdfatUnpickler``.
fdfat_pickle = types.SimpleNamespace(Unpickler=FdfatUnpickler, load=restricted_load, loads=restricted_loads,
                                     UnpicklingError=pickle.UnpicklingError, __name__="fdfat_pickle")

# fdfat key -> zoo key, applied in order (first match wins) after block-level renames.
_BLOCK_RENAMES = [
    (r"\.conv1\.(conv|bn)\.", r".expand.\1."), (r"\.conv2\.(conv|bn)\.", r".depthwise.\1."),
    (r"\.conv3\.(conv|bn)\.", r".project.\1."),
    (r"\.cv1\.(conv|bn)\.", r".split.\1."), (r"\.cv2\.(conv|bn)\.", r".fuse.\1."),
]
_CSP_BOTTLENECK = [(r"\.m\.0\.split\.", ".bottleneck.conv1."), (r"\.m\.0\.fuse\.", ".bottleneck.conv2.")]
_HEADS = [
    (r"^classifier\.([01])\.", r"face_head.features.\1."), (r"^classifier\.4\.", "face_head.classifier."),
    (r"^aux\.stack1\.", "pose_head.features."), (r"^aux\.stack2\.", "pose_head.regressor."),
    (r"^logit\.stack\.", "landmark_head.mlp."),
]
_LW_LAYOUT = [
    (r"^backbone\.conv11\.", "trunk.0."),
    *((rf"^backbone\.conv2{i}\.", f"trunk.{i}.") for i in range(1, 6)),
    (r"^mainstream\.conv11\.", "pyramid.stages.0."),
    *((rf"^mainstream\.conv2{i}\.", f"pyramid.stages.{i}.") for i in range(1, 6)),
    *((rf"^mainstream\.convp{i}\.", f"pyramid.levels.{i - 1}.") for i in range(1, 4)),
]
_LWCSP_LAYOUT = [
    (r"^backbone\.conv11\.", "trunk.0."), (r"^backbone\.c2f1\.", "trunk.1."), (r"^backbone\.c2f2\.", "trunk.2."),
    (r"^mainstream\.conv11\.", "pyramid.stages.0."), (r"^mainstream\.conv12\.", "pyramid.stages.1."),
    (r"^mainstream\.conv21\.", "pyramid.levels.0.0."), (r"^mainstream\.conv22\.", "pyramid.levels.0.1."),
    (r"^mainstream\.convp21\.", "pyramid.levels.1.0."), (r"^mainstream\.convp22\.", "pyramid.levels.1.1."),
    (r"^mainstream\.convp31\.", "pyramid.levels.2.0."), (r"^mainstream\.convp32\.", "pyramid.levels.2.1."),
]
FAMILIES = {"LWModel": ("lw", _LW_LAYOUT), "LWCSPModel": ("lwcsp", _LWCSP_LAYOUT)}


def map_key(key: str, family: str) -> str:
    """zoo state-dict key for an fdfat key."""
    layout = _LW_LAYOUT if family == "lw" else _LWCSP_LAYOUT
    for pattern, repl in _HEADS:
        if re.search(pattern, key):
            return re.sub(pattern, repl, key)
    for pattern, repl in layout:
        if re.search(pattern, key):
            key = re.sub(pattern, repl, key)
            break
    else:
        raise KeyError(f"no mapping for fdfat key {key!r}")
    for pattern, repl in _BLOCK_RENAMES:
        key = re.sub(pattern, repl, key)
    for pattern, repl in _CSP_BOTTLENECK:
        key = re.sub(pattern, repl, key)
    return key


def stub_state_dict(module: Stub, prefix: str = "") -> dict[str, torch.Tensor]:
    """Walk a stand-in module tree the way ``nn.Module.state_dict`` would."""
    out: dict[str, torch.Tensor] = {}
    d = module.__dict__
    for kind in ("_parameters", "_buffers"):
        for name, t in (d.get(kind) or {}).items():
            if t is not None and name not in d.get("_non_persistent_buffers_set", set()):
                out[prefix + name] = t.detach().clone()
    for name, child in (d.get("_modules") or {}).items():
        if child is not None:
            out.update(stub_state_dict(child, f"{prefix}{name}."))
    return out


def _plain(obj: Any) -> Any:
    """Metadata stand-ins -> builtins, so the zoo checkpoint loads with weights_only=True."""
    if isinstance(obj, Stub):
        if "_args" in obj.__dict__ and obj.__dict__["_args"] and len(obj.__dict__) == 1:
            return "/".join(str(a) for a in obj.__dict__["_args"])  # a pathlib path
        return {k: _plain(v) for k, v in obj.__dict__.items() if not k.startswith("_")}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


def read_fdfat(path: str | Path) -> dict[str, Any]:
    """Unpickle an fdfat ``best.pt`` through the allow-list; returns its dict with stand-ins."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    try:
        data = torch.load(path, map_location="cpu", pickle_module=fdfat_pickle, weights_only=False)
    except RefusedClassError as e:
        raise CheckpointError(f"{path}: {e}") from None
    except Exception as e:  # any other failure: the file is not a readable fdfat pickle
        why = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]  # a MemoryError from a forged frame size says nothing
        raise CheckpointError(f"{path} is not an fdfat checkpoint: cannot read it ({why})") from None
    if not isinstance(data, dict) or not isinstance(data.get("model"), Stub):
        raise CheckpointError(f"{path} is not an fdfat checkpoint: no pickled fdfat model under 'model'")
    return data


def spec_from_fdfat(model: Stub, args: dict[str, Any]) -> VariantSpec:
    """Infer the zoo variant that has fdfat model ``model``'s architecture."""
    cls = type(model).__name__
    if cls not in FAMILIES:
        raise CheckpointError(f"fdfat model class {cls} has no zoo family (known: {sorted(FAMILIES)})")
    act_name = type(model.__dict__["_modules"]["act"]).__name__.lower()
    return VariantSpec(
        family=FAMILIES[cls][0], activation=act_name, width=float(args.get("muliplier", 1.0) or 1.0),
        input_size=int(args.get("imgsz", 96) or 96), affine="affine" in str(args.get("name", "")),
        cls=bool(model.__dict__.get("face_cls")), pose=bool(model.__dict__.get("pose_rotation")),
    )


def import_fdfat(path: str | Path, out: str | Path | None = None) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Build the zoo model equivalent of an fdfat checkpoint; with ``out``, save it as a zoo checkpoint.

    Returns the model (eval mode, float32) and the model card written with it.
    """
    data = read_fdfat(path)
    args = _plain(data.get("train_args") or {})
    spec = spec_from_fdfat(data["model"], args if isinstance(args, dict) else {})
    fd_state = stub_state_dict(data["model"])
    state = {map_key(k, spec.family): (v.float() if v.is_floating_point() else v) for k, v in fd_state.items()}
    model = build_model(spec)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(f"{path}: fdfat weights do not fit {spec.name} (missing {missing[:3]}, extra {unexpected[:3]})")
    model.eval()
    card = {
        "source": "fdfat", "source_file": str(path), "source_version": _plain(data.get("version")),
        "source_epoch": _plain(data.get("epoch")), "source_best_fit": _plain(data.get("best_fit")),
        "source_date": _plain(data.get("date")), "training_data": "FaceSynthetics (fdfat's training run)",
        "train_args": args,
    }
    if out is not None:
        card["sha256"] = save_checkpoint(out, model, meta=card)
    return model, card
