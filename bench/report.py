"""Saving and printing benchmark rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from zoo.results import LATENCY_KEY, read_table, table_path, write_table


class LineProgress:
    """The subset of rich's Progress the harness uses, printing a line per 10% step: for logs and
    pipes, where rich's live bars print nothing until the end."""

    def __init__(self, print_fn=print) -> None:
        self._print = print_fn
        self._tasks: dict[int, list] = {}

    def add_task(self, description: str, total: int) -> int:
        self._tasks[len(self._tasks)] = [description, max(1, total), 0, -1]
        return len(self._tasks) - 1

    def update(self, task: int, description: str | None = None) -> None:
        if description:
            self._tasks[task][0] = description

    def advance(self, task: int, n: int = 1) -> None:
        t = self._tasks[task]
        t[2] += n
        step = int(10 * t[2] / t[1])
        if step != t[3]:
            t[3] = step
            self._print(f"{t[0]}: {t[2]}/{t[1]}")


def save_rows(rows: Sequence[dict[str, Any]], root: Path | None = None) -> Path:
    """Upsert into latency.csv; a row without a number never replaces a measured row of the same key
    (an environment lacking an extra must not erase numbers measured where it was installed), except a
    parity refusal: that is a verdict on the export itself, and the number it replaces timed a broken model."""
    measured = {tuple(str(r.get(k)) for k in LATENCY_KEY) for r in read_table("latency", root) if r.get("p50_ms") is not None}
    keep = [r for r in rows if r.get("p50_ms") is not None or str(r.get("status", "")).startswith("refused")
            or tuple(str(r.get(k)) for k in LATENCY_KEY) not in measured]
    return write_table("latency", keep, root) if keep else table_path("latency", root)


def table(rows: Sequence[dict[str, Any]]) -> Table:
    """Rich table: one line per configuration, fastest first; rows without a number show their status."""
    t = Table(title="latency (Runtime.run on a preprocessed batch; ms)")
    for col in ("model", "backend", "prec", "thr", "p50", "p90", "p99", "mean", "std", "MB", "status"):
        t.add_column(col, justify="left" if col in ("model", "backend", "prec", "status") else "right",
                     no_wrap=True, overflow="ellipsis", max_width=40 if col == "status" else None)
    for r in sorted(rows, key=lambda r: (r.get("p50_ms") is None, r.get("p50_ms") or 0)):
        name = f"{r['variant']} (peer)" if r.get("peer") else r["variant"]
        nums = [f"{r[k]:.3f}" if r.get(k) is not None else "-" for k in ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "std_ms")]
        size = f"{r['size_bytes'] / 1e6:.2f}" if r.get("size_bytes") else "-"
        t.add_row(name, r["backend"], r["precision"], str(r["threads"]), *nums, size, r.get("status") or "")
    return t
