"""Latency chart: p50 ms per variant, one bar per backend+precision, one panel per thread count."""

from __future__ import annotations

from pathlib import Path

from zoo.results import read_csv


def latency_chart(csv_path: Path, host: str, out: Path | None = None) -> Path:
    """Draw ``results/plots/latency-HOST.png`` from the measured rows of one host; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in read_csv(csv_path) if r.get("host") == host and r.get("p50_ms") is not None
            and (r.get("task") or "latency") == "latency"]
    out = out or Path(csv_path).parent / "plots" / f"latency-{host}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    variants = sorted({r["variant"] for r in rows}, key=lambda v: (v.startswith("fdfat"), v))
    series = sorted({(r["backend"], r["precision"]) for r in rows})
    thread_counts = sorted({r["threads"] for r in rows}) or [1]
    wide = max(8.0, 0.4 * len(variants) * max(1, len(series)))
    fig, axes = plt.subplots(len(thread_counts), 1, figsize=(wide, 3.6 * len(thread_counts)), squeeze=False, sharey=True)
    width = 0.8 / max(1, len(series))
    for ax, t in zip(axes[:, 0], thread_counts, strict=True):
        for k, (b, p) in enumerate(series):
            cell = {r["variant"]: r["p50_ms"] for r in rows if r["threads"] == t and (r["backend"], r["precision"]) == (b, p)}
            xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(variants))]
            ax.bar(xs, [cell.get(v, float("nan")) for v in variants], width, label=f"{b} {p}")
        ax.set_xticks(range(len(variants)))
        labels = [f"{v}\n(peer)" if v.startswith("fdfat") else v for v in variants]
        ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
        ax.set_yscale("log")  # torch eager is ~10x the exported runtimes; a linear axis hides their differences
        ax.set_ylabel("p50 ms (log scale)")
        ax.set_title(f"{host}: {t} thread(s), batch 1, Runtime.run only", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(ncol=4, fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
