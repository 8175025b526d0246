"""``run_transfer``: the whole protocol for one renderer setting, seeds and photo sets included.

Rows go to ``results/transfer.csv`` (one per seed and photo set, keyed by name, render version,
recipe, seed and set), the per-point offsets and the shape gap to ``runs/transfer/NAME/report.json``.
Renders (cached by render version, options, the renderer code's fingerprint, count and seed) and
fine-tunes are kept, so a re-run after a crash or with one more seed redoes only what is missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zoo.transfer.protocol import (
    Recipe,
    fine_tune,
    init_weights,
    render_set,
    renderer_fingerprint,
    save_json,
    score_checkpoint,
    shape_gap_row,
)
from zoo.transfer.scoring import PhotoScore

Log = Callable[[str], None]


def parse_options(text: str | None) -> Any:
    """``RenderOptions`` from ``key=value,key=value`` over the renderer's default (``zoo.synth.options.DEFAULT``)."""
    from zoo.synth.options import DEFAULT

    if not text:
        return DEFAULT
    kinds = [f.name for f in dataclasses.fields(DEFAULT)]
    changes: dict[str, Any] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in kinds:
            raise ValueError(f"--render {text!r}: {item!r} is not key=value with a key among {', '.join(kinds)}")
        current = getattr(DEFAULT, key)
        try:
            text_value = value.strip()
            changes[key] = text_value in ("1", "true", "yes") if isinstance(current, bool) else type(current)(text_value)
        except ValueError:
            raise ValueError(f"--render {text!r}: {key}={value!r} is not a {type(current).__name__}") from None
    return dataclasses.replace(DEFAULT, **changes)


def run_transfer(name: str, options: Any | None, images: int, render_seed: int, recipe: Recipe, seeds: list[int],
                 real_sets: list[Path], root: Path = Path("runs") / "transfer", results: Path | None = None,
                 log: Log = print, progress: bool = True) -> list[dict[str, Any]]:
    """Render with ``options`` (None: the renderer's default), fine-tune once per seed, score each on every
    photo set; upsert the rows and return them. With ``recipe.epochs`` 0 nothing is rendered or trained:
    the init checkpoint is scored as it is (the control row)."""
    from zoo import __version__
    from zoo.checkpoints.checkpoint import sha256_file
    from zoo.results import write_table
    from zoo.synth import RENDER_VERSION

    if not real_sets:
        raise ValueError("no annotated photo set to score on: pass --real DATASET.yaml "
                         "(e.g. ../shared/data/real/lfpw-train/faces.yaml)")
    # the init's hash is part of the recipe: re-shipping the default changes where every fine-tune starts
    base = {"render_version": RENDER_VERSION, "recipe": f"{recipe.label} init {sha256_file(init_weights(recipe))[:8]}",
            "zoo_version": __version__}
    data, gap = None, {}
    if recipe.epochs > 0:
        from zoo.data import cache_dir

        options = options if options is not None else parse_options(None)
        name_parts = f"v{RENDER_VERSION}-{options.key()}-{renderer_fingerprint()}-n{images}-s{render_seed}"
        folder = cache_dir() / "transfer" / name_parts
        log(f"rendering {images} faces ({options}) into {folder}")
        data, rate = render_set(options, images, render_seed, folder)
        log(f"  {rate:.0f} images/s")
        gap = shape_gap_row(data, real_sets[0])
        base.update({"render_options": json.dumps(dataclasses.asdict(options), sort_keys=True), "images": images,
                     "render_seed": render_seed, "render_ips": round(rate, 1), **gap})
    rows = []
    report = {"name": name, "recipe": dataclasses.asdict(recipe), "runs": [],
              "options": dataclasses.asdict(options) if data is not None else None}
    for seed in seeds:
        out = root / name / f"seed{seed}"
        start = time.perf_counter()
        log(f"fine-tuning seed {seed} -> {out}" if recipe.epochs else f"scoring {recipe.init} as shipped")
        ckpt = fine_tune(recipe, data, seed, out, progress) if data is not None else init_weights(recipe)
        train_s = time.perf_counter() - start
        scores: list[PhotoScore] = score_checkpoint(ckpt, real_sets)
        sha = sha256_file(ckpt)
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        for s in scores:
            row = {"name": name, "seed": seed, **base, "checkpoint_sha256": sha, "train_s": round(train_s, 1),
                   "date": now, **s.to_row()}
            rows.append(row)
            log(f"  {s.dataset}: NME {s.nme:.2f} (FR@10 {100 * s.fr10:.1f} %), offset-removed {s.nme_offset_removed:.2f}, "
                f"label-mapped {s.nme_mapped:.2f}; worst point offset {s.worst_offset()[1]:.1f} % IOD at {s.worst_offset()[0]}")
        report["runs"].append({"seed": seed, "checkpoint": str(ckpt), "scores": [
            {**s.to_row(), "parts": s.parts, "offsets": s.offsets} for s in scores]})
        write_table("transfer", rows, results)  # after every seed: nothing measured is lost to a crash
    report["shape_gap"] = gap
    save_json(root / name / "report.json", report)
    return rows
