"""Cumulative error distribution (CED) plots."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from eval.metrics import THRESHOLD, auc_fr, ced


def ced_plot(curves: Mapping[str, np.ndarray], out: Path, title: str = "") -> Path:
    """One CED line per label (per-face NME % arrays), 0 to 10% NME; AUC in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for label, nme in curves.items():
        x, frac = ced(nme)
        auc, fr = auc_fr(nme)
        ax.plot(x, frac, label=f"{label} (AUC@10 {auc:.3f}, FR {100 * fr:.1f}%)")
    ax.set_xlim(0, THRESHOLD)
    ax.set_ylim(0, 1)
    ax.set_xlabel("NME (% inter-ocular)")
    ax.set_ylabel("fraction of faces")
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
