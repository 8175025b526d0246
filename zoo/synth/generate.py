"""Synthetic face datasets: the renderer's public entry points.

``render_face(rng, size)`` draws one labelled face (see ``zoo.synth.render``); ``write_dataset``
renders many in parallel into the FaceSynthetics layout plus ``_meta.json`` files, split lists,
non-face negatives and a dataset YAML; ``default_dataset`` keeps standard sets in the cache.

Determinism: image ``i`` of a set is drawn from ``np.random.default_rng([seed, i])`` (negative
``j`` from ``[seed, j, 1]``), so the bytes depend only on (seed, index), never on the number of
worker processes or on which worker rendered what.

Layout written by ``write_dataset(out, ...)``::

    out/000000.png, 000000_ldmks.txt (70 lines "x y", 0-based pixels), 000000_meta.json, ...
    out/negatives/000000.png, ...          non-face images (no _ldmks.txt)
    out/train.txt, val.txt, test.txt       face image paths relative to out/ (80/10/10 by index)
    out/negatives_train.txt, negatives_val.txt, negatives_test.txt
    out/dataset.yaml                       base_path (absolute), train/val/test, negatives: {train,val,test}
"""

from __future__ import annotations

import fcntl
import json
import os
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np
import yaml

from zoo.data import cache_dir
from zoo.fileio import atomic_write
from zoo.synth import RENDER_VERSION
from zoo.synth.head_mesh import head_grid
from zoo.synth.negatives import render_negative
from zoo.synth.options import DEFAULT, RenderOptions
from zoo.synth.render import FaceParams, render_face, render_params, sample_params
from zoo.synth.texture import landmark_tex

__all__ = ["RENDER_VERSION", "DEFAULT", "FaceParams", "RenderOptions", "default_dataset", "results_label", "render_face",
           "render_params", "sample_params", "write_dataset", "split_of", "KINDS"]

SPLITS = ("train", "val", "test")
MARKER = ".complete.json"
#: The settings a folder was rendered with; resuming into it requires the same ones.
RENDER_SETTINGS = ".render.json"
#: default_dataset kinds: (images, seed, environment override for the image count)
#: PNG settings for rendered images: zlib level 1 with the "up" filter only encodes a noisy 256 px
#: render in ~3.3 ms instead of ~6 ms (libpng's per-row filter search), at the same file size; zlib's
#: run-length strategy on top takes 2.1 ms instead of 2.6 for 3 % larger files (81 -> 83 KB).
PNG_FAST = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP,
            cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
KINDS = {"standard": (20_000, 0, "ZOO_STANDARD_IMAGES"), "test": (2_000, 1, "ZOO_TEST_IMAGES"), "tiny": (64, 2, None)}


def split_of(index: int) -> str:
    """80/10/10 split by index: fixed, so growing a set never moves an image between splits."""
    r = index % 10
    return "val" if r == 8 else "test" if r == 9 else "train"


def _name(index: int, width: int) -> str:
    return f"{index:0{width}d}"


def _write_face(task: tuple[Path, int, int, int, int, RenderOptions]) -> tuple[int, float]:
    out, seed, index, size, width, options = task
    stem = out / _name(index, width)
    meta_path = stem.parent / (stem.name + "_meta.json")
    done = meta_path.exists() and Path(str(stem) + ".png").exists() and (stem.parent / (stem.name + "_ldmks.txt")).exists()
    if done:  # the meta is written last and atomically: the face is complete (resumed run)
        try:
            return index, float(json.loads(meta_path.read_text())["yaw"])
        except (ValueError, KeyError):  # not fsynced (see below): after a power cut it may be empty; render again
            pass
    img, pts, meta = render_face(np.random.default_rng([seed, index]), size, options)
    cv2.imwrite(str(stem) + ".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), PNG_FAST)
    (stem.parent / (stem.name + "_ldmks.txt")).write_text("".join(f"{x:.4f} {y:.4f}\n" for x, y in pts))
    # no fsync per image (durable=False): a killed run resumes correctly, and a set can be re-rendered
    atomic_write(meta_path, lambda f: f.write(json.dumps(meta, separators=(",", ":"))), mode="w", durable=False)
    return index, float(meta["yaw"])


def _write_negative(task: tuple[Path, int, int, int, int, RenderOptions]) -> tuple[int, float]:
    out, seed, index, size, width, options = task
    path = out / "negatives" / (_name(index, width) + ".png")
    if path.exists():  # renamed into place only once complete (resumed run)
        return index, float("nan")
    img, _ = render_negative(np.random.default_rng([seed, index, 1]), size, options)
    ok, png = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), PNG_FAST)
    if not ok:
        raise OSError(f"OpenCV could not encode negative {path}")
    atomic_write(path, lambda f: f.write(png.tobytes()), durable=False)
    return index, float("nan")


def _run(task: tuple) -> tuple[int, float]:
    kind, rest = task[0], task[1:]
    return _write_face(rest) if kind == "face" else _write_negative(rest)


def _init_worker() -> None:
    cv2.setNumThreads(1)


def write_dataset(
    out: Path, images: int, seed: int, workers: int | None = None, negatives_fraction: float = 0.1, size: int = 256,
    options: RenderOptions = DEFAULT,
) -> Path:
    """Render ``images`` images (faces and ``negatives_fraction`` of non-faces) into ``out``; returns the YAML path.

    ``options`` (``zoo.synth.options``) are recorded in ``.render.json``, the YAML's ``synth:`` block and
    every ``_meta.json``; resuming into a folder rendered with other options is refused.

    Images already complete in ``out`` (a face's meta JSON and a negative's PNG are written last and
    atomically) are kept, so an interrupted run resumes where it stopped; rendering is deterministic
    per (seed, index), so a resumed set equals an uninterrupted one. Use a fresh ``out`` for a new seed.

    Workers are *spawned* processes (forking a process that already used OpenCV's thread pool
    can deadlock), so a script calling this with ``workers > 1`` needs the usual
    ``if __name__ == "__main__":`` guard; the ``zoo`` command has it.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if images < 1:
        raise ValueError(f"images must be at least 1, not {images}")
    if not 0.0 <= negatives_fraction < 1.0:
        raise ValueError(f"negatives_fraction is a fraction in [0, 1), not {negatives_fraction}")
    out = Path(out).resolve()
    (out / "negatives").mkdir(parents=True, exist_ok=True)
    settings = {"images": images, "seed": seed, "size": size, "negatives_fraction": negatives_fraction,
                "render_version": RENDER_VERSION, "options": options.to_dict()}
    settings_path = out / RENDER_SETTINGS
    if settings_path.exists() and json.loads(settings_path.read_text()) != settings:
        raise ValueError(f"{out} holds a set rendered with other settings ({settings_path.name}); "
                         "render into an empty folder or delete it first")
    atomic_write(settings_path, lambda f: f.write(json.dumps(settings)), mode="w")
    n_neg = int(round(images * negatives_fraction))
    n_face = images - n_neg
    width = max(6, len(str(max(n_face, n_neg, 1) - 1)))
    tasks = [("face", out, seed, i, size, width, options) for i in range(n_face)]
    tasks += [("neg", out, seed, j, size, width, options) for j in range(n_neg)]
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    head_grid()  # build the cached mesh before timing starts (workers build their own)
    landmark_tex()
    if options.head == "ict":
        from zoo.synth.ict_mesh import ict_mesh

        ict_mesh()
    columns = (TextColumn("rendering"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        job = bar.add_task("render", total=len(tasks))
        if workers == 1:
            for t in tasks:
                _run(t)
                bar.advance(job)
        else:
            with get_context("spawn").Pool(workers, initializer=_init_worker) as pool:  # fork can deadlock on OpenCV threads
                for _ in pool.imap_unordered(_run, tasks, chunksize=8):
                    bar.advance(job)
    lists: dict[str, list[str]] = {f"{p}{s}": [] for s in SPLITS for p in ("", "negatives_")}
    for i in range(n_face):
        lists[split_of(i)].append(f"{_name(i, width)}.png")
    for j in range(n_neg):
        lists[f"negatives_{split_of(j)}"].append(f"negatives/{_name(j, width)}.png")
    for key, entries in lists.items():
        (out / f"{key}.txt").write_text("".join(e + "\n" for e in entries))
    doc = {"base_path": str(out), **{s: f"{s}.txt" for s in SPLITS},
           "negatives": {s: f"negatives_{s}.txt" for s in SPLITS},
           "synth": {"images": images, "faces": n_face, "negatives": n_neg, "seed": seed, "size": size,
                     "render_version": RENDER_VERSION, "options": options.to_dict()}}
    path = out / "dataset.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _kind_size(kind: str) -> tuple[int, int]:
    """(images, seed) of a default set, with the environment's image-count override applied."""
    if kind not in KINDS:
        raise ValueError(f"unknown dataset kind '{kind}'; known kinds: {', '.join(KINDS)}")
    images, seed, env = KINDS[kind]
    if env and os.environ.get(env):
        try:
            images = int(os.environ[env])
        except ValueError as e:
            raise ValueError(f"{env}={os.environ[env]!r} is not a whole number of images") from e
    return images, seed


def _options_tag(options: RenderOptions) -> str:
    """'' for ``DEFAULT``, else ``-o<hash of the options>``: sets and rows of other options never share a name."""
    return "" if options == DEFAULT else f"-o{options.key()}"


def results_label(kind: str = "standard", options: RenderOptions = DEFAULT) -> str:
    """The ``dataset`` value of results rows scored on a default set: ``synth-v<render version>``,
    with ``-n<images>`` when an override changed its size and ``-o<hash>`` for options other than
    ``DEFAULT``, so rows of different sets never share a key."""
    images, _ = _kind_size(kind)
    size = "" if images == KINDS[kind][0] else f"-n{images}"
    return f"synth{'' if kind == 'standard' else '-' + kind}{size}{_options_tag(options)}-v{RENDER_VERSION}"


def default_dataset(kind: str = "standard", options: RenderOptions = DEFAULT) -> Path:
    """A cached synthetic set (``standard``: 20,000 images, seed 0; ``test``: 2,000, seed 1; ``tiny``: 64).

    Generated once into ``cache_dir()``; a marker written last means a half-written folder (an
    interrupted run) is regenerated. Image counts can be overridden with ZOO_STANDARD_IMAGES /
    ZOO_TEST_IMAGES (the count is part of the folder name, so sets never mix); options other than
    ``DEFAULT`` add a short hash of them to the name.
    """
    images, seed = _kind_size(kind)
    folder = cache_dir() / f"synth-{kind}-n{images}-s{seed}{_options_tag(options)}-v{RENDER_VERSION}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = folder / MARKER
        if marker.exists():
            made_with = json.loads(marker.read_text()).get("options")
            if made_with != options.to_dict():  # DEFAULT changed without a RENDER_VERSION bump
                raise ValueError(f"{folder} was rendered with other options ({made_with}); delete it to render "
                                 f"{options.to_dict()}, and bump RENDER_VERSION when the default's output changes")
            return folder / "dataset.yaml"
        path = write_dataset(folder, images, seed, options=options)  # resumes a half-written folder: finished images are kept
        marker.write_text(json.dumps({"images": images, "seed": seed, "render_version": RENDER_VERSION,
                                      "options": options.to_dict()}))
        return path
