"""Ship a trained checkpoint into ``zoo/weights/``: a small, clean file plus a Markdown model card.

A training run leaves checkpoints full of machine-local paths (``/root/.cache/...``) and,
for ``last.pt``, optimizer state. What ships in the package must load anywhere, stay small
and say how it was made, so ``ship`` keeps only ``format/arch/config/state_dict/meta``,
rewrites paths to dataset folder names, adds a summary of the run's ``log.csv`` under
``meta["card"]``, and writes ``<name>.md`` beside it. The card is rendered from the
checkpoint alone (``write_card``), so it can always be regenerated and never drifts.
"""

from __future__ import annotations

import copy
import csv
import datetime as _dt
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from zoo.checkpoints.checkpoint import FORMAT, Checkpoint, CheckpointError, load_checkpoint, load_checkpoint_dict, sha256_file
from zoo.fileio import atomic_write
from zoo.weights import DEFAULT_MARKER, WEIGHTS_DIR, default_name

#: Shipped files stay below this so the wheel stays small (every registered variant fits).
MAX_BYTES = 3_000_000
SHIP_KEYS = ("format", "arch", "config", "state_dict", "meta")
#: Keys a resumable checkpoint (``last.pt``) carries; they never belong in a shipped file.
TRAINING_KEYS = ("extra", "optimizer", "scheduler", "rng", "ema", "history")
YAW_BINS = (("all", "val_nme"), ("yaw <= 30", "nme_yaw_le30"), ("yaw 30-40", "nme_yaw_30_40"), ("yaw > 40", "nme_yaw_gt40"))
LIMITATIONS = ("Trained only on synthetic renders; accuracy on real photos is lower and is measured separately: "
               "see the README accuracy table for real-photo numbers.")


class ShipError(CheckpointError):
    """A checkpoint that must not ship (training state, too large, weights that do not fit)."""


@dataclass
class Shipped:
    """What ``ship`` wrote: the checkpoint, its card, the checkpoint's sha256 and size in bytes."""

    variant: str
    path: Path
    card: Path
    sha256: str
    size: int


def dataset_name(spec: str) -> str:
    """``/x/synth-n20000/dataset.yaml:test`` -> ``synth-n20000:test``: the folder names the dataset, not the machine."""
    path, sep, split = spec.rpartition(":")
    if not sep or "/" in split or not path:
        path, split = spec, ""
    p = Path(path)
    name = p.parent.name if p.suffix in (".yaml", ".yml") else p.name
    return f"{name}:{split}" if split else name


def clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``meta`` without machine-local paths: datasets by folder name, files by basename."""
    meta = copy.deepcopy(meta)
    for section in (meta.get("recipe"), meta.get("training_data")):
        if not isinstance(section, dict):
            continue
        if isinstance(section.get("data"), str):
            section["data"] = dataset_name(section["data"])
        if isinstance(section.get("val_extra"), list):
            section["val_extra"] = [dataset_name(str(v)) for v in section["val_extra"]]
        for key in ("out", "init"):
            if isinstance(section.get(key), str):
                section[key] = Path(section[key]).name
    return _scrub(meta)


def _scrub(value: Any) -> Any:
    """Any absolute path left anywhere becomes its basename (a catch-all for fields added later)."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v) for v in value)
    if isinstance(value, str) and (os.path.isabs(value) or value.startswith("~")):
        return Path(value).name
    return value


def run_summary(log_csv: Path) -> dict[str, Any]:
    """Epoch counts, total time, mean throughput and best epoch from a run's ``log.csv``."""
    with open(log_csv, newline="") as f:
        rows = list(csv.DictReader(f))

    def num(row: dict[str, str], key: str) -> float | None:
        try:
            v = float(row.get(key) or "nan")
        except ValueError:
            return None
        return None if math.isnan(v) else v

    landmarks = [r for r in rows if r.get("stage") == "1"]
    # a yaw-prior run chose its best.pt by the prior-weighted NME (see Trainer._selection_key); so does its card
    key = "val_nme_prior" if any(num(r, "val_nme_prior") is not None for r in landmarks) else "val_nme"
    scored = [r for r in landmarks if num(r, key) is not None]
    best = min(scored, key=lambda r: num(r, key)) if scored else None
    rates = [v for v in (num(r, "img_s") for r in rows) if v is not None]
    return {
        "epochs": {"landmarks": len(landmarks), "face": sum(r.get("stage") == "2" for r in rows)},
        "training_time_s": round(sum(num(r, "epoch_s") or 0.0 for r in rows), 1),
        "mean_img_s": round(sum(rates) / len(rates), 1) if rates else None,
        "best_epoch": int(best["epoch"]) if best else None,
        "best_val_nme": num(best, "val_nme") if best else None,
    }


def ship(checkpoint: str | os.PathLike, dest: str | os.PathLike = WEIGHTS_DIR, *, run: str | os.PathLike | None = None,
         name: str | None = None, default: bool = False, max_bytes: int | None = None) -> Shipped:
    """Write ``dest/<name or variant>.pt`` and its card; refuse anything that should not go into the package."""
    checkpoint, dest = Path(checkpoint), Path(dest)
    if name is not None and (not name or Path(name).name != name or name.startswith(".")):
        raise ShipError(f"--name {name!r}: give a plain file stem such as 'lw-relu6', not a path")
    data = load_checkpoint_dict(checkpoint)
    if data.get("adapter") is not None:  # zoo adapt's map was fit on someone's labelled photos (issue 26)
        where = ((data["adapter"].get("info") or {}).get("dataset") if isinstance(data["adapter"], dict) else None) or "?"
        raise ShipError(f"{checkpoint} is adapted (zoo adapt, fit on {where}); the package ships render-only weights: "
                        "ship the checkpoint it was adapted from")
    state = [k for k in TRAINING_KEYS if k in data]
    if state:
        raise ShipError(f"{checkpoint} carries training state ({', '.join(state)}); ship the run's best.pt, not last.pt")
    ckpt = load_checkpoint(checkpoint)
    try:
        ckpt.build()
    except RuntimeError as e:
        raise ShipError(f"{checkpoint}: its weights do not fit variant {ckpt.arch} ({str(e).splitlines()[0][:160]})") from None
    run_dir = Path(run) if run is not None else checkpoint.parent
    if run is not None and not (run_dir / "log.csv").is_file():
        raise ShipError(f"--run {run_dir}: no log.csv there; give the run folder the checkpoint came from")
    meta = clean_meta(ckpt.meta)
    meta["card"] = {"source": f"{run_dir.name}/{checkpoint.name}", "source_sha256": ckpt.sha256,
                    "shipped": _dt.date.today().isoformat(),
                    **(run_summary(run_dir / "log.csv") if (run_dir / "log.csv").is_file() else {})}
    payload = {"format": data.get("format", FORMAT), "arch": ckpt.arch, "config": ckpt.spec.to_dict(),
               "state_dict": {k: v.detach().cpu().contiguous().clone() for k, v in ckpt.state_dict.items()}, "meta": meta}
    buf = io.BytesIO()
    torch.save(payload, buf)
    limit = MAX_BYTES if max_bytes is None else max_bytes
    if buf.tell() >= limit:
        raise ShipError(f"{checkpoint}: the shipped file would be {buf.tell() / 1e6:.2f} MB, over the {limit / 1e6:g} MB "
                        "limit for weights inside the package; ship a smaller variant or pass the checkpoint by path")
    path = dest / f"{name or ckpt.arch}.pt"
    atomic_write(path, lambda f: f.write(buf.getvalue()))
    card = write_card(path)
    if default:
        atomic_write(dest / DEFAULT_MARKER, lambda f: f.write(path.name + "\n"), mode="w")
    return Shipped(variant=ckpt.arch, path=path, card=card, sha256=sha256_file(path), size=path.stat().st_size)


def write_card(checkpoint: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Render the Markdown card of ``checkpoint`` to ``out`` (default: beside it, ``.md``)."""
    ckpt = load_checkpoint(checkpoint)
    out = Path(out) if out is not None else Path(checkpoint).with_suffix(".md")
    text = render_card(ckpt, Path(checkpoint).stat().st_size)
    atomic_write(out, lambda f: f.write(text), mode="w", encoding="utf-8")
    return out


def _fmt(v: Any, digits: int = 2) -> str:
    return f"{v:.{digits}f}" if isinstance(v, (int, float)) else "n/a"


def _hardware(hw: Any) -> str:
    """Where a run trained, e.g. ``NVIDIA H200 (cuda) with Intel Xeon, 16 cores``: seconds on a GPU and on a 2-core CPU
    are not the same currency, so every time on the card says which it is."""
    if not isinstance(hw, dict) or not hw:
        return "unrecorded hardware"
    cpu = f"{hw.get('cpu', 'n/a')}, {hw.get('cores', 'n/a')} cores"
    if hw.get("device") == "cuda":
        return f"{hw.get('gpu', 'a GPU')} (cuda) with {cpu}"
    return f"{cpu}, device {hw.get('device', 'n/a')}"


def _landmark_yaw_prior(meta: dict[str, Any]) -> str:
    """The yaw prior the landmarks were trained with: this run's, or the nearest ``--init`` ancestor's that used one
    (a face-score step alone keeps its ancestor's landmarks, and with them its val_nme_prior)."""
    node: Any = {"meta": meta}
    while isinstance(node, dict):
        prior = ((node.get("meta") or {}).get("recipe") or {}).get("yaw_prior", "uniform")
        if prior != "uniform":
            return prior
        node = (node.get("meta") or {}).get("init")
    return "non-uniform"


def _lineage(meta: dict[str, Any]) -> list[str]:
    """One line per ``--init`` ancestor, so a face-score step or a fine-tune shows where its weights were trained."""
    lines, total, node = [], meta.get("training_time_s"), meta.get("init")
    places = {_hardware(meta.get("hardware"))}
    while isinstance(node, dict):
        m = node.get("meta") or {}
        places.add(_hardware(m.get("hardware")))
        ep, r, t = m.get("epochs") or {}, m.get("recipe") or {}, m.get("training_time_s")
        # how the ancestor's draws differed from the defaults: its landmarks carry that choice into this model
        recipe = []
        if r.get("photometric", "standard") != "standard":
            recipe.append(f"{r['photometric']} photometric")
        if r.get("yaw_prior", "uniform") != "uniform":
            recipe.append(f"{r['yaw_prior']} yaw prior")
        if r.get("int8_aware"):
            recipe.append("int8-aware")
        slimmed = ", slimmed to its largest-|gamma| channels" if node.get("slimmed") else ""
        lines.append(f"- initialised from `{node.get('checkpoint')}` ({node.get('arch')}, sha256 "
                     f"{str(node.get('sha256'))[:12]}){slimmed}, saved after landmark epoch {ep.get('landmarks', 'n/a')} / "
                     f"face epoch {ep.get('face', 'n/a')} of its run, lr {r.get('lr', 'n/a')}"
                     f"{''.join(', ' + x for x in recipe)}, {_fmt(t, 0)} s of training to then on {_hardware(m.get('hardware'))}")
        total = total + t if isinstance(total, (int, float)) and isinstance(t, (int, float)) else total
        node = m.get("init")
    if lines:
        lines.append(f"- total training time including the runs above: {_fmt(total, 0)} s "
                     f"({_fmt(total / 3600 if isinstance(total, (int, float)) else None)} h)"
                     + (", summed over different hardware" if len(places) > 1 else ""))
    return lines


def render_card(ckpt: Checkpoint, size: int) -> str:
    """The card's Markdown; deterministic, so regenerating it from the same file gives the same text."""
    from zoo.architectures.summary import count_flops

    spec, meta = ckpt.spec, ckpt.meta
    model = ckpt.build()
    params, flops = sum(p.numel() for p in model.parameters()), count_flops(model, spec.input_size)
    recipe, data, hw = meta.get("recipe") or {}, meta.get("training_data") or {}, meta.get("hardware") or {}
    metrics, extra, epochs = meta.get("metrics") or {}, meta.get("card") or {}, meta.get("epochs") or {}
    heads = ["landmarks"] + [h for h, on in (("face score", spec.cls), ("head pose", spec.pose)) if on]
    data_name = data.get("data") if isinstance(data, dict) else data
    faces = ", ".join(f"{data[k]:,} {k.replace('_', ' ')}" for k in ("train_faces", "train_nonfaces", "val_faces", "val_nonfaces")
                      if isinstance(data, dict) and isinstance(data.get(k), int))
    aug = "affine (scale 0.85-1.15, translation 10%, rotation)" if spec.affine else "crop only"
    aug += " + horizontal flip" if recipe.get("flip", True) else ""
    aug += f" + {recipe.get('photometric', 'standard')} photometric"
    aug += f"; {recipe['yaw_prior']} yaw prior" if recipe.get("yaw_prior", "uniform") != "uniform" else ""
    aug += "; int8-aware (8-bit activations in the loop, SiLU inputs floored)" if recipe.get("int8_aware") else ""
    t = meta.get("training_time_s")
    lines = [
        f"# {spec.name}", "",
        f"Shipped zoo weights `{Path(ckpt.path).name}` ({size / 1024:.0f} KB), sha256 `{ckpt.sha256}`.",
        "Generated by `zoo weights card` from the checkpoint's own metadata.", "",
        "## Model", "",
        f"- variant: `{spec.name}` (family {spec.family}, activation {spec.activation}, width {spec.width:g})",
        f"- input: 3x{spec.input_size}x{spec.input_size}; heads: {' + '.join(heads)} ({spec.num_points} points)",
        f"- params: {params:,}; MFLOPs: {flops / 1e6:.1f} (batch 1, one multiply-add = 2 FLOPs)", "",
        "## Training", "",
        f"- data: {data_name or 'unknown'} (seed {data.get('seed', recipe.get('seed', 'n/a'))}{'; ' + faces if faces else ''})",
        f"- recipe: {recipe.get('optimizer', 'n/a')}, lr {recipe.get('lr', 'n/a')}, batch {recipe.get('batch', 'n/a')}, "
        f"loss {recipe.get('loss', 'n/a')}, epochs landmarks {epochs.get('landmarks', 'n/a')} / "
        f"face {epochs.get('face', 'n/a')}, "
        f"augmentation {aug}{', EMA' if recipe.get('ema') else ''}; init: {recipe.get('init') or 'none'}",
        f"- time: {_fmt(t, 0)} s ({_fmt(t / 3600 if isinstance(t, (int, float)) else None)} h) on {_hardware(hw)}, "
        f"{hw.get('threads', 'n/a')} thread(s), torch {hw.get('torch', 'n/a')}",
    ]
    lines += _lineage(meta)
    if "source" in extra:
        lines.append(f"- shipped {extra.get('shipped', 'n/a')} from `{extra['source']}` "
                     f"(sha256 {str(extra.get('source_sha256'))[:12]})")
    if extra.get("best_epoch") is not None:
        lines.append(f"- run log: best landmark epoch {extra['best_epoch']} of {sum((extra.get('epochs') or {}).values())} "
                     f"epochs, {_fmt(extra.get('training_time_s'), 0)} s, mean {_fmt(extra.get('mean_img_s'), 0)} img/s")
    lines += ["", f"## Accuracy (NME, % of inter-ocular distance; validation split of {data_name or 'the training data'})", "",
              "| split | NME |", "|---|---:|"]
    lines += [f"| {label} | {_fmt(metrics.get(key))} |" for label, key in YAW_BINS]
    if "val_nme_prior" in metrics:
        lines.append(f"| all, weighted like the {_landmark_yaw_prior(meta)} yaw prior's draws (chose this "
                     f"checkpoint) | {_fmt(metrics['val_nme_prior'])} |")
    lines += [f"| {k[4:]} (extra validation set) | {_fmt(v)} |" for k, v in sorted(metrics.items())
              if k.startswith("nme_") and k not in dict(YAW_BINS).values()]
    if "face_acc" in metrics:
        lines += ["", f"Face-score accuracy: {_fmt(100 * metrics['face_acc'], 1)}% (faces "
                      f"{_fmt(100 * metrics.get('face_acc_faces', float('nan')), 1)}%, non-faces "
                      f"{_fmt(100 * metrics.get('face_acc_nonfaces', float('nan')), 1)}%)."]
    lines += ["", "## Limitations", "", LIMITATIONS, "",
              f"zoo {meta.get('zoo_version', 'n/a')}, trained {meta.get('date', 'n/a')}.", ""]
    return "\n".join(lines)


def list_shipped(dest: str | os.PathLike = WEIGHTS_DIR) -> list[dict[str, Any]]:
    """One row per ``dest/*.pt``: file, variant, size and metrics; unreadable files say so instead of failing."""
    marker = default_name(dest)
    rows = []
    for path in sorted(Path(dest).glob("*.pt")):
        row: dict[str, Any] = {"file": path.name, "size_kb": path.stat().st_size / 1024, "default": path.name == marker}
        try:
            data = load_checkpoint_dict(path)
            row.update(variant=data["arch"], metrics=data["meta"].get("metrics") or {})
        except CheckpointError as e:
            row.update(variant="unreadable", metrics={}, error=str(e))
        rows.append(row)
    return rows
