"""The labelled faces a map is fit on, checked before any model runs.

Every face must have the same number of points, all finite (the reader refuses NaN) and inside
its image: a NaN or an off-image point would bend the least-squares fit towards one bad label
without any warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.landmarks import OUTER_EYE_CORNERS

from . import AdaptError

#: Points whose distance normalises NME, per known convention (300-W 68/70: outer eye corners;
#: WFLW 98: outer eye corners; the common 5-point scheme: the two eye centres).
NORMALISERS: dict[int, tuple[int, int]] = {68: OUTER_EYE_CORNERS, 70: OUTER_EYE_CORNERS, 98: (60, 72), 5: (0, 1)}
#: Off-image tolerance in pixels: annotators click on the border pixel, whose centre is 0.5 px in.
EDGE_TOLERANCE = 1.0


@dataclass
class LabelledFaces:
    """Images and the annotators' points [N,K,2] in 0-based pixels."""

    dataset: Path
    images: list[Path]
    points: np.ndarray

    @property
    def num_points(self) -> int:
        return int(self.points.shape[1])

    def __len__(self) -> int:
        return len(self.images)


def normaliser(num_points: int, given: tuple[int, int] | None = None) -> tuple[int, int]:
    """The two target points whose distance is NME's unit; a one-line error for an unknown scheme."""
    if given is not None:
        a, b = given
        if not (0 <= a < num_points and 0 <= b < num_points and a != b):
            raise AdaptError(f"--iod {a},{b}: the target has points 0..{num_points - 1}; give two different indices")
        return int(a), int(b)
    if num_points not in NORMALISERS:
        known = ", ".join(f"{k}: {a},{b}" for k, (a, b) in sorted(NORMALISERS.items()))
        raise AdaptError(f"no known NME normaliser for {num_points}-point labels ({known}); "
                         "pass --iod A,B with the indices of the two outer eye corners")
    return NORMALISERS[num_points]


def load_labelled(dataset: Path, splits: tuple[str, ...] | None = None) -> LabelledFaces:
    """Faces of the dataset YAML's splits (all of them by default), checked; AdaptError on bad input."""
    import cv2

    from zoo.data.formats import DatasetError, Sample, annotation_path, parse_dataset_yaml, read_annotation

    dataset = Path(dataset)
    samples = []
    try:
        spec = parse_dataset_yaml(dataset)
        chosen = splits or tuple(spec.splits)
        unknown = [s for s in chosen if s not in spec.splits]
        if unknown:
            have = ", ".join(spec.splits) or "none"
            raise AdaptError(f"{dataset}: no '{unknown[0]}' split (it has: {have}); pick one of those")
        for split in chosen:
            for image, origin in spec.splits[split]:
                ann = annotation_path(image)
                if ann is None:
                    raise AdaptError(f"{image}: no landmarks beside it (expected {Path(image).stem}.pts or "
                                     f"{Path(image).stem}_ldmks.txt; listed at {origin}); add them or drop the entry")
                samples.append(Sample(image, read_annotation(ann, counts=None)))  # any convention: 5, 68, 98 ...
    except DatasetError as e:
        raise AdaptError(str(e)) from None
    if not samples:
        raise AdaptError(f"{dataset}: no labelled faces in split(s) {', '.join(chosen) or 'none'}; list images with landmarks")
    counts = [len(s.landmarks) for s in samples]
    common = max(set(counts), key=counts.count)
    odd = [s for s, c in zip(samples, counts, strict=True) if c != common]
    if odd:
        raise AdaptError(f"{odd[0].image_path}: {len(odd[0].landmarks)} points where {counts.count(common)} other faces of "
                         f"{dataset} have {common} ({len(odd)} face(s) differ); one convention per dataset")
    if common < 2:
        raise AdaptError(f"{dataset}: faces have {common} point(s); a convention needs at least 2 points")
    for s in samples:
        pts = np.asarray(s.landmarks, np.float64)
        if not Path(s.image_path).is_file():
            raise AdaptError(f"{s.image_path}: image missing (listed in {dataset}); add it or drop the entry")
        image = cv2.imread(str(s.image_path), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise AdaptError(f"{s.image_path}: cannot decode it as an image; replace the file or drop the entry")
        h, w = image.shape[:2]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        if lo.min() < -EDGE_TOLERANCE or hi[0] > w - 1 + EDGE_TOLERANCE or hi[1] > h - 1 + EDGE_TOLERANCE:
            raise AdaptError(f"{s.image_path}: landmarks outside the {w}x{h} image (x {lo[0]:.1f}..{hi[0]:.1f}, "
                             f"y {lo[1]:.1f}..{hi[1]:.1f}); fix the annotation or drop the face")
    return LabelledFaces(dataset, [Path(s.image_path) for s in samples],
                         np.stack([np.asarray(s.landmarks, np.float64) for s in samples]))
