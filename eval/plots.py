"""Cumulative error distribution (CED) plots, and NME by yaw in two yardsticks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from eval.metrics import THRESHOLD, YawRow, auc_fr, ced


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


def yaw_profile_plot(rows: Sequence[YawRow], floor: float, out: Path, title: str = "") -> Path:
    """NME by |yaw| bin in both yardsticks: where the error grows with the model, and where only with the ruler."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    out.parent.mkdir(parents=True, exist_ok=True)
    centre = [(r.low + r.high) / 2 for r in rows]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(centre, [r.nme for r in rows], "o-", label="NME (% inter-ocular)")
    ax.plot(centre, [r.nme_box for r in rows], "s-", label="NME (% landmark box)")
    if np.isfinite(floor):
        ax.axhline(floor, color="grey", ls="--", lw=1,
                   label=f"pose floor {floor:.2f}: overall NME at the\nfrontal faces' accuracy for their size")
    ax.set_yscale("log")
    ax.set_yticks([1, 2, 5, 10, 20, 50])
    ax.get_yaxis().set_major_formatter(ScalarFormatter())
    ax.set_xticks([r.low for r in rows] + [rows[-1].high] if rows else [])
    ax.set_xlabel("|yaw| (degrees)")
    ax.set_ylabel("mean NME (%)")
    ax.grid(alpha=0.3, which="both")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    for r, x in zip(rows, centre, strict=True):
        ax.annotate(str(r.faces), (x, r.nme_box), textcoords="offset points", xytext=(0, -12), ha="center", fontsize=6,
                    color="grey")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
