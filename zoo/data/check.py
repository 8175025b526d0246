"""``zoo data check``: every problem of a dataset, one line each, without ever crashing.

Checking decodes every image (a few ms each), which on 20k images is most of a minute on two
cores; training runs check their data on every start, so a clean or dirty verdict is kept in the
zoo cache under a key made of the YAML, every listed file's size and modification time, and
the checker's version, and reused while none of them changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import cv2
import numpy as np

from zoo.data.formats import (
    LDMKS_SUFFIX,
    META_SUFFIX,
    DatasetError,
    DatasetSpec,
    annotation_path,
    parse_dataset_yaml,
    read_annotation,
    read_meta,
)
from zoo.data.images import truncated
from zoo.fileio import atomic_write

CHECK_VERSION = 1


def image_problem(path: Path) -> tuple[str | None, tuple[int, int] | None]:
    """(what is wrong or None, (w, h) when decodable) for one image file; never raises."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return "missing image", None
    except OSError as e:
        return f"unreadable image ({e.strerror or e})", None
    if not data:
        return "empty image file", None
    if truncated(data):
        return "truncated image (the file ends before the image does)", None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return "unreadable image (OpenCV cannot decode it)", None
    return None, (image.shape[1], image.shape[0])


def points_problem(points: np.ndarray, size: tuple[int, int] | None, far: float = 0.25) -> str | None:
    """What is wrong with a face's points: count, NaN/inf, or more than ``far`` of the image size outside it."""
    if len(points) not in (68, 70):
        return f"wrong point count: {len(points)} (expected 68 or 70)"
    if not np.isfinite(points).all():
        bad = int((~np.isfinite(points)).any(axis=1).sum())
        return f"{bad} point(s) are NaN or infinite"
    if size is not None:
        w, h = size
        lo = np.array([-far * w, -far * h])
        hi = np.array([(1 + far) * w, (1 + far) * h])
        outside = ((points < lo) | (points > hi)).any(axis=1)
        if outside.any():
            k = int(np.argmax(outside))
            return (f"{int(outside.sum())} point(s) far outside the {w}x{h} image "
                    f"(e.g. point {k} at {points[k, 0]:.1f},{points[k, 1]:.1f})")
    return None


def _check_entry(image: Path, is_face: bool) -> list[str]:
    problems = []
    try:
        what, size = image_problem(image)
        if what:
            problems.append(f"{image}: {what}")
        if is_face:
            ann = annotation_path(image)
            if ann is None:
                problems.append(f"{image}: no landmarks beside it ({image.stem}{LDMKS_SUFFIX} or {image.stem}.pts)")
            else:
                what = points_problem(read_annotation(ann), size)
                if what:
                    problems.append(f"{ann}: {what}")
                read_meta(image.with_name(image.stem + META_SUFFIX))
    except DatasetError as e:
        problems.append(str(e))
    except Exception as e:  # a checker reports, it never crashes
        problems.append(f"{image}: cannot check ({type(e).__name__}: {e})")
    return problems


def check_dataset(path: Path, progress: bool = False, reuse: bool = True) -> tuple[dict[str, int], list[str]]:
    """Count the entries of every split and list every problem, one line each ("file: what is wrong").

    Checks each image decodes completely, each face has 68 or 70 finite points not far outside
    its image, and no image is listed twice (within a split or across splits). Never raises for
    a bad entry; a YAML that cannot be parsed raises DatasetError. ``reuse`` returns the stored
    verdict when nothing changed since the last check.
    """
    from concurrent.futures import ThreadPoolExecutor

    spec = parse_dataset_yaml(path)
    stamp = _stamp_path(spec) if reuse else None
    if stamp is not None and stamp.is_file():
        try:
            saved = json.loads(stamp.read_text())
            return saved["counts"], saved["problems"]
        except (OSError, ValueError, KeyError):
            pass
    jobs: list[tuple[Path, bool]] = []
    counts: dict[str, int] = {}
    problems: list[str] = []
    seen: dict[Path, str] = {}
    groups = [(s, e, True) for s, e in spec.splits.items()] + [(f"negatives:{s}", e, False) for s, e in spec.negatives.items()]
    for name, entries, is_face in groups:
        counts[name] = len(entries)
        for image, origin in entries:
            key = Path(image).resolve()
            if key in seen:
                problems.append(f"{origin}: duplicate entry {image} (already listed at {seen[key]})")
                continue
            seen[key] = origin
            jobs.append((image, is_face))
    with ThreadPoolExecutor(max_workers=2) as pool:  # cv2 decodes without the GIL
        results = pool.map(lambda job: _check_entry(*job), jobs)
        if progress:
            from rich.progress import track

            results = track(results, total=len(jobs), description="checking", transient=True)
        for found in results:
            problems.extend(found)
    if stamp is not None:
        _save_stamp(stamp, counts, problems)
    return counts, problems


def _stamp_path(spec: DatasetSpec) -> Path | None:
    """Where the verdict for this exact set of files is kept; None when the files cannot be listed."""
    from zoo.data import cache_dir

    h = hashlib.sha1(f"check-v{CHECK_VERSION}\n{spec.path.resolve()}\n".encode())
    h.update(spec.path.read_bytes())
    entries = [e for group in (*spec.splits.values(), *spec.negatives.values()) for e in group]
    for image, origin in entries:
        h.update(f"{origin}|{image}".encode())
        for f in (image, image.with_name(image.stem + LDMKS_SUFFIX), image.with_suffix(".pts"),
                  image.with_name(image.stem + META_SUFFIX)):
            try:
                st = os.stat(f)
                h.update(f"|{st.st_size}:{st.st_mtime_ns}".encode())
            except OSError:
                h.update(b"|-")
        h.update(b"\n")
    return cache_dir() / "checks" / f"{h.hexdigest()[:24]}.json"


def _save_stamp(stamp: Path, counts: dict[str, int], problems: list[str]) -> None:
    with contextlib.suppress(OSError):  # a read-only cache only costs the next check its time
        atomic_write(stamp, lambda f: f.write(json.dumps({"counts": counts, "problems": problems})), mode="w")
