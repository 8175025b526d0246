"""Cells and rows shared by the README tables (``bench.tables``) and the budget table (``bench.choose``).

Both modules format latencies the same way and compare with the same reference row; the shared
pieces live here so that neither imports the other's module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zoo.results import read_table


def _md(header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _latency_rows(root: Path | None) -> list[dict[str, Any]]:
    return [r for r in read_table("latency", root) if (r.get("task") or "latency") == "latency"]


def _fmt_ms(v: float) -> str:
    return f"{v:.2f}" if v >= 0.995 else f"{v:.3f}"


#: The row every speed is compared with: fdfat's LW on ONNX Runtime, fp32, 1 thread (same host, same run).
REFERENCE = ("fdfat-lw", "onnx", "fp32", 1)


def reference_ms(rows: Sequence[dict[str, Any]]) -> float | None:
    """p50 of the REFERENCE configuration among one host's rows (None when not measured)."""
    for r in rows:
        if (r["variant"], r["backend"], r["precision"], r["threads"]) == REFERENCE and r.get("p50_ms"):
            return float(r["p50_ms"])
    return None


def fastest_cell(rows: Sequence[dict[str, Any]], ref_ms: float | None) -> str:
    """``0.61 openvino int8 2t (0.74x)``: a variant's fastest configuration and its ratio to REFERENCE."""
    timed = [r for r in rows if r.get("p50_ms") is not None]
    if not timed:
        return ""
    best = min(timed, key=lambda r: r["p50_ms"])
    ratio = f" ({best['p50_ms'] / ref_ms:.2f}x)" if ref_ms else ""
    return f"{_fmt_ms(best['p50_ms'])} {best['backend']} {best['precision']} {best['threads']}t{ratio}"


def _num(v: Any, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)
