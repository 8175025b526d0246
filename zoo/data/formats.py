"""Readers for the landmark datasets zoo trains and evaluates on.

One ``Sample`` type serves every source, so the training dataset, the evaluator and the
checker never care where a face came from:

- FaceSynthetics layout (also what ``zoo data synth`` writes): ``000123.png`` +
  ``000123_ldmks.txt`` (70 lines ``x y``, 0-based pixels) + optional ``000123_meta.json``.
- 300-W layout: ``NAME.jpg|png`` + ``NAME.pts`` (``version``/``n_points`` header, points in
  ``{ }``, **1-based** pixels, converted here to 0-based).
- A dataset YAML (fdfat's shape): ``base_path`` and ``train``/``val``/``test`` splits, each a
  txt file listing image paths relative to ``base_path`` or an inline list; a split may be
  absent. ``negatives`` lists non-face images (a txt list, inline list or folder; or a mapping
  split -> list). The annotation of each image is found by what exists beside it.

Coordinates everywhere are 0-based pixels with pixel centres on integers (OpenCV's convention).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
SPLITS = ("train", "val", "test")
LDMKS_SUFFIX = "_ldmks.txt"
META_SUFFIX = "_meta.json"


class DatasetError(ValueError):
    """A dataset file cannot be used; the message is one line: which file, what, what to do."""


@dataclass
class Sample:
    """One image with its landmarks (``None`` for a non-face) and what is known about it."""

    image_path: Path
    landmarks: np.ndarray | None  # [K,2] float32, 0-based pixels
    meta: dict = field(default_factory=dict)
    is_face: bool = True

    @property
    def pose(self) -> tuple[float, float, float] | None:
        """(yaw, pitch, roll) in degrees when the metadata has them."""
        return pose_from_meta(self.meta)


def pose_from_meta(meta: dict) -> tuple[float, float, float] | None:
    """(yaw, pitch, roll) degrees from ``meta`` (top level or under ``pose``/``head_pose``), else None."""
    for source in (meta, meta.get("pose"), meta.get("head_pose")):
        if isinstance(source, dict) and all(k in source for k in ("yaw", "pitch", "roll")):
            try:
                return float(source["yaw"]), float(source["pitch"]), float(source["roll"])
            except (TypeError, ValueError):
                return None
    return None


# --------------------------------------------------------------------------- annotation files


#: Landmark counts a face may have: the 68 iBUG points, or FaceSynthetics' 70 (68 + two pupils).
POINT_COUNTS = (68, 70)
#: No image is a million pixels across: a coordinate beyond this is a broken file, not a face.
MAX_COORDINATE = 1e6


def _read_annotation_text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as e:
        raise DatasetError(f"{path}: cannot read landmarks ({e.strerror or e}); check the file exists and is readable") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a text file (binary content); fix or regenerate the landmarks") from None


def _checked_points(path: Path, pts: np.ndarray, counts: tuple[int, ...] | None = POINT_COUNTS) -> np.ndarray:
    """``pts`` (as float32) when it is a face's worth of finite, plausible coordinates, else a one-line DatasetError.

    The reader refuses what no training step or metric can use (a NaN spreads through a whole batch's
    loss, a wrong count breaks the collate) rather than leaving each consumer to find out. ``counts=None``
    takes any count (``zoo adapt`` reads other conventions: 5, 98 ... points).
    """
    if counts is not None and len(pts) not in counts:
        want = " or ".join(str(c) for c in counts)
        raise DatasetError(f"{path}: wrong point count: {len(pts)} (expected {want}); fix or regenerate the file")
    if len(pts) == 0:
        raise DatasetError(f"{path}: no points; fix or regenerate the file")
    bad = ~np.isfinite(pts).all(axis=1)
    if bad.any():
        raise DatasetError(f"{path}: {int(bad.sum())} point(s) are NaN or infinite (e.g. point {int(np.argmax(bad))}); "
                           "fix or regenerate the file")
    if np.abs(pts).max() > MAX_COORDINATE:
        raise DatasetError(f"{path}: coordinates up to {np.abs(pts).max():.3g} px are not pixels of any image; "
                           "fix or regenerate the file")
    return pts.astype(np.float32)  # checked in float64 first: 1e300 would overflow to inf in the cast


def read_ldmks(path: Path, counts: tuple[int, ...] | None = POINT_COUNTS) -> np.ndarray:
    """FaceSynthetics ``_ldmks.txt``: one ``x y`` per line -> [K,2] float32 (already 0-based)."""
    path = Path(path)
    text = _read_annotation_text(path)
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if any(len(r) < 2 for r in lines):
        raise DatasetError(f"{path}: every line must be 'x y'; fix or regenerate the file")
    try:
        pts = np.array([float(v) for r in lines for v in r[:2]], dtype=np.float64).reshape(-1, 2)
    except ValueError:
        raise DatasetError(f"{path}: non-numeric coordinates; fix or regenerate the file") from None
    return _checked_points(path, pts, counts)


def read_pts(path: Path, counts: tuple[int, ...] | None = POINT_COUNTS) -> np.ndarray:
    """300-W ``.pts`` -> [K,2] float32, converted from 1-based to 0-based pixels."""
    path = Path(path)
    text = _read_annotation_text(path)
    header, brace, rest = text.partition("{")
    body, close, _ = rest.partition("}")
    if not brace or not close:
        raise DatasetError(f"{path}: not a .pts file (no '{{ ... }}' block); expected the 300-W layout")
    declared = None
    for line in header.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "n_points":
            try:
                declared = int(value)
            except ValueError:
                raise DatasetError(f"{path}: bad n_points header {value.strip()!r}; it must be an integer") from None
    try:
        pts = np.array([float(v) for v in body.split()], dtype=np.float64)
    except ValueError:
        raise DatasetError(f"{path}: non-numeric coordinates; fix the file") from None
    if pts.size % 2:
        raise DatasetError(f"{path}: odd number of coordinates ({pts.size}); every line must be 'x y'")
    pts = pts.reshape(-1, 2) - 1.0
    if declared is not None and declared != len(pts):
        raise DatasetError(f"{path}: header says n_points {declared} but the file has {len(pts)} points; fix the file")
    return _checked_points(path, pts, counts)


def read_meta(path: Path) -> dict:
    """``_meta.json`` beside an image; {} when absent. Raises DatasetError when it is not JSON."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError; RecursionError: [[[[...
        why = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise DatasetError(f"{path}: unreadable metadata ({why}); fix or delete the file") from None
    if not isinstance(meta, dict):
        raise DatasetError(f"{path}: metadata must be a JSON object; fix or delete the file")
    return meta


def annotation_path(image: Path) -> Path | None:
    """The landmark file beside ``image``: ``STEM_ldmks.txt`` (FaceSynthetics) or ``STEM.pts`` (300-W)."""
    image = Path(image)
    for candidate in (image.with_name(image.stem + LDMKS_SUFFIX), image.with_suffix(".pts")):
        if candidate.is_file():
            return candidate
    return None


def read_annotation(path: Path, counts: tuple[int, ...] | None = POINT_COUNTS) -> np.ndarray:
    """Read either landmark format, picked by file name; ``counts=None`` takes any point count."""
    return read_ldmks(path, counts) if str(path).endswith(LDMKS_SUFFIX) else read_pts(path, counts)


def load_face(image: Path) -> Sample:
    """A face Sample for ``image`` with its landmarks and metadata read from the files beside it."""
    image = Path(image)
    ann = annotation_path(image)
    if ann is None:
        raise DatasetError(f"{image}: no landmarks beside it (expected {image.stem}{LDMKS_SUFFIX} or {image.stem}.pts); "
                           "add them or list the image under negatives")
    return Sample(image, read_annotation(ann), read_meta(image.with_name(image.stem + META_SUFFIX)))


# --------------------------------------------------------------------------- folder readers


def _images_in(folder: Path) -> list[Path]:
    """Images in a folder, leaving out FaceSynthetics' ``_seg.png`` segmentation masks."""
    found = (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.stem.endswith("_seg"))
    return sorted(p for p in found if p.is_file())


def _require_dir(folder: Path, what: str) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder; give the folder that holds the {what}")
    return folder


def read_facesynthetics(folder: Path) -> list[Sample]:
    """Every ``*_ldmks.txt`` in ``folder`` with its image (``.png``, else another suffix) and metadata."""
    folder = _require_dir(folder, "FaceSynthetics images")
    samples = []
    for ann in sorted(folder.glob("*" + LDMKS_SUFFIX)):
        stem = ann.name[: -len(LDMKS_SUFFIX)]
        image = next((folder / (stem + s) for s in IMAGE_SUFFIXES if (folder / (stem + s)).is_file()), folder / (stem + ".png"))
        samples.append(Sample(image, read_ldmks(ann), read_meta(folder / (stem + META_SUFFIX))))
    return samples


def read_300w(folder_or_list: Path | Iterable[Path]) -> list[Sample]:
    """300-W faces: a folder (every ``.pts`` with its image) or a list of image or ``.pts`` paths."""
    if isinstance(folder_or_list, (str, Path)):
        folder = _require_dir(Path(folder_or_list), "300-W images and .pts files")
        items = sorted(folder.glob("*.pts"))
    else:
        items = [Path(p) for p in folder_or_list]
    samples = []
    for item in items:
        if item.suffix == ".pts":
            pts = item
            image = next((item.with_suffix(s) for s in IMAGE_SUFFIXES if item.with_suffix(s).is_file()), item.with_suffix(".jpg"))
        else:
            image, pts = item, item.with_suffix(".pts")
        samples.append(Sample(image, read_pts(pts), {}))
    return samples


def read_negatives(folder_or_list: Path | Iterable[Path]) -> list[Sample]:
    """Non-face images (for the face-score stage): a folder of images, a txt list, or a list of paths."""
    if isinstance(folder_or_list, (str, Path)):
        source = Path(folder_or_list)
        if source.is_file() and source.suffix == ".txt":
            paths = [source.parent / p for p in _read_list(source)]
        else:
            paths = _images_in(_require_dir(source, "non-face images"))
    else:
        paths = [Path(p) for p in folder_or_list]
    return [Sample(p, None, {}, is_face=False) for p in paths]


# --------------------------------------------------------------------------- dataset YAML


@dataclass
class DatasetSpec:
    """A parsed dataset YAML: where images live and, per split, the entries as written."""

    path: Path
    base: Path
    splits: dict[str, list[tuple[Path, str]]]  # split -> [(resolved image path, "file:line" origin)]
    negatives: dict[str, list[tuple[Path, str]]]  # split (or "all") -> entries


def _read_list(path: Path) -> list[str]:
    return [ln for ln in _read_lines_numbered(path) if ln]


def _entries(value, yaml_path: Path, base: Path, key: str) -> list[tuple[Path, str]]:
    """Resolve one split value (txt list, folder, or inline list) to (image path, origin) pairs."""
    if isinstance(value, str):
        listed = Path(value)
        candidates = [listed] if listed.is_absolute() else [yaml_path.parent / listed, base / listed]
        found = next((c for c in candidates if c.exists()), None)
        if found is None:
            raise DatasetError(f"{yaml_path}: '{key}' names {value}, which does not exist (looked beside the YAML and in "
                               f"base_path {base}); fix the path")
        if found.is_dir():
            return [(p, f"{found}") for p in _images_in(found)]
        return [(base / line, f"{found}:{i}") for i, line in enumerate(_read_lines_numbered(found), 1) if line]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [(base / v, f"{yaml_path}:{key}[{i}]") for i, v in enumerate(value)]
    kind = type(value).__name__
    raise DatasetError(f"{yaml_path}: '{key}' must be a txt list, a folder or a list of image paths, not {kind}; fix the YAML")


def _read_lines_numbered(path: Path) -> list[str]:
    """Lines with comments and blanks blanked (kept so that line numbers in problems are right)."""
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise DatasetError(f"{path}: cannot read the list ({e.strerror or e}); check the path in the dataset YAML") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a text list of image paths (binary content); check the path in the dataset YAML") \
            from None
    return ["" if ln.lstrip().startswith("#") else ln.strip() for ln in lines]


def parse_dataset_yaml(path: Path) -> DatasetSpec:
    """Parse a dataset YAML into resolved entries; raises DatasetError with a one-line reason."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: dataset YAML not found; give the path of a file with base_path and train/val/test lists")
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as e:
        first = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise DatasetError(f"{path}: not valid YAML ({first}); fix the file") from None
    if not isinstance(doc, dict):
        raise DatasetError(f"{path}: a dataset YAML must be a mapping with base_path and train/val/test; fix the file")
    base = Path(str(doc.get("base_path", ".")))
    base = base if base.is_absolute() else (path.parent / base)
    splits = {s: _entries(doc[s], path, base, s) for s in SPLITS if doc.get(s) is not None}
    negatives: dict[str, list[tuple[Path, str]]] = {}
    neg = doc.get("negatives")
    if isinstance(neg, dict):
        negatives = {s: _entries(v, path, base, f"negatives.{s}") for s, v in neg.items() if v is not None}
    elif neg is not None:
        negatives = {"all": _entries(neg, path, base, "negatives")}
    if not splits and not negatives:
        raise DatasetError(f"{path}: no train, val, test or negatives entry; add at least one split")
    return DatasetSpec(path, base, splits, negatives)


def negatives_for(spec: DatasetSpec, split: str) -> list[tuple[Path, str]]:
    """Negatives that belong to ``split``: its own list, or the shared list (train only, so val stays clean)."""
    if split in spec.negatives:
        return spec.negatives[split]
    return spec.negatives.get("all", []) if split == "train" else []


def load_dataset_yaml(path: Path, split: str, negatives: bool = False, skip_bad: bool = False) -> list[Sample]:
    """Samples of one split of a dataset YAML.

    ``negatives=True`` appends the split's non-face images (is_face=False). ``split="negatives"``
    returns only the negatives of every split. Unreadable annotations raise DatasetError unless
    ``skip_bad`` (then they are left out); images are not opened here (``zoo data check`` does).
    """
    spec = parse_dataset_yaml(path)
    if split == "negatives":
        return [Sample(p, None, {}, is_face=False) for entries in spec.negatives.values() for p, _ in entries]
    if split not in spec.splits and not (negatives and negatives_for(spec, split)):
        have = ", ".join(spec.splits) or "none"
        raise DatasetError(f"{path}: no '{split}' split (it has: {have}); pick one of those or add it to the YAML")
    samples = []
    for image, origin in spec.splits.get(split, []):
        try:
            samples.append(load_face(image))
        except DatasetError as e:
            if not skip_bad:
                raise DatasetError(f"{e} (listed at {origin}; run `zoo data check {path}`)") from None
    if negatives:
        samples += [Sample(p, None, {}, is_face=False) for p, _ in negatives_for(spec, split)]
    return samples
