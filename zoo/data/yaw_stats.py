"""Head-yaw distribution of a dataset's splits (``zoo data check --yaw``).

Why: NME is reported in fdfat's yaw bins (<= 30, 30-40, > 40 degrees), and a split's mean NME is
only comparable with another's when their yaw mix is; a renderer bug or a filtered list that
skews the poses shows here before it shows as a surprising score. Yaw comes from each face's
``_meta.json`` (the renderer and FaceSynthetics-style sets write one); faces without it are
counted as unknown rather than guessed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zoo.data.formats import META_SUFFIX, DatasetError, parse_dataset_yaml, read_meta

#: 10-degree bins over the renderer's range; fdfat's bins are summarised separately.
EDGES = np.arange(-90, 91, 10)
#: fdfat's |yaw| bins as (label, lo, hi]: the first includes 0. The same as ``zoo.engine.losses.YAW_BINS``
#: (a test holds them equal), restated so that counting poses does not import torch.
FDFAT_BINS = (("|yaw| <= 30", 0.0, 30.0), ("30 < |yaw| <= 40", 30.0, 40.0), ("|yaw| > 40", 40.0, 1e9))


def _in_bin(abs_yaw: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return ((abs_yaw > lo) | (lo == 0.0)) & (abs_yaw <= hi)


def split_yaws(data: Path) -> dict[str, np.ndarray]:
    """Per face split, the yaw (degrees) of every face that has a meta file, NaN for those without."""
    spec = parse_dataset_yaml(Path(data))
    out = {}
    for split, entries in spec.splits.items():
        yaws = []
        for image, _ in entries:
            try:
                meta = read_meta(image.with_name(image.stem + META_SUFFIX))
            except DatasetError:
                meta = {}
            yaw = meta.get("yaw")
            yaws.append(float(yaw) if isinstance(yaw, int | float) else np.nan)
        out[split] = np.array(yaws, np.float64)
    return out


def yaw_table(yaws: dict[str, np.ndarray]) -> pd.DataFrame:
    """Face counts: one row per 10-degree bin, then fdfat's three bins and the faces without a yaw; one column per split."""
    cols = {}
    for split, y in yaws.items():
        known = y[np.isfinite(y)]
        counts = np.histogram(np.clip(known, -90, 90), EDGES)[0].tolist()
        counts += [int(_in_bin(np.abs(known), lo, hi).sum()) for _, lo, hi in FDFAT_BINS]
        cols[split] = counts + [int((~np.isfinite(y)).sum())]
    index = [f"{a:+d}..{b:+d}" for a, b in zip(EDGES[:-1], EDGES[1:], strict=True)] + [b[0] for b in FDFAT_BINS] + ["no yaw"]
    return pd.DataFrame(cols, index=index)


def plot_yaw(yaws: dict[str, np.ndarray], path: Path) -> Path:
    """Histogram of yaw per split, as fractions of each split (so small splits compare with big ones)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=120)
    width = 10 / (len(yaws) + 1)
    for k, (split, y) in enumerate(yaws.items()):
        known = y[np.isfinite(y)]
        if not len(known):
            continue
        frac = np.histogram(np.clip(known, -90, 90), EDGES)[0] / len(known)
        ax.bar(EDGES[:-1] + width * (k + 0.5), frac, width, label=f"{split} ({len(known):,})")
    for x in (-40, -30, 30, 40):
        ax.axvline(x, color="grey", lw=0.6, ls="--")
    ax.set_xlabel("head yaw (degrees; dashed: fdfat's bins at 30 and 40)")
    ax.set_ylabel("fraction of the split's faces")
    ax.set_xticks(EDGES[::2])
    ax.legend(fontsize=8, loc="lower center", ncol=len(yaws))
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
