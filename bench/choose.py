"""The README's "which model for which budget" table (``choose``), rendered by ``bench.tables``.

One row per model a user can pick: each shipped checkpoint (``zoo/weights/*.pt``, matched to its
results rows by sha256, so rows of older weights or of ad-hoc ``zoo eval --checkpoint runs/...``
runs never show) and fdfat's published models. Speed is ONNX Runtime fp32 on one thread, the
configuration every machine has; accuracy is the synth test split on the same runtime, plus the
lfpw-train photos when measured. A model's latency row is the one measured on its own checkpoint
when there is one, else its architecture's row (the random-init variant ``zoo bench`` measures):
latency does not depend on the weights, and the table says which rows fell back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cells import REFERENCE, _fmt_ms, _latency_rows, _md, _num, fastest_cell, reference_ms
from zoo.fileio import sha256_file
from zoo.results import REAL_SELECTION_DATASET, SELECTION_DATASET, SELECTION_SPLIT, accuracy_key, read_table
from zoo.weights import WEIGHTS_DIR, default_name

#: Budgets (ms, ORT fp32 1 thread) the generated sentences answer: the fast tier, fdfat LW's class, the rest.
BUDGETS_MS = (0.25, 0.5, 1.0)
#: The configuration the latency column and the budgets are measured in: backend, precision, threads.
SPEED = ("onnx", "fp32", 1)
#: The real-photo set of the last accuracy column (zoo crop, ONNX Runtime fp32); it ranks first where measured.
REAL_SET = REAL_SELECTION_DATASET
PARETO = "★"
FALLBACK = "†"
PLACEHOLDER = "*No shipped or fdfat model has synth test accuracy rows yet: run `nox -s eval` and `nox -s bench`.*"


def shipped(weights: Path) -> dict[str, str]:
    """sha256 -> variant name (file stem) of every ``*.pt`` in ``weights``; {} when there is none."""
    return {sha256_file(p): p.stem for p in sorted(Path(weights).glob("*.pt"))}


def default_variant(weights: Path) -> str | None:
    """The variant (file stem) of the checkpoint ``weights/DEFAULT`` names; the file holds a file name."""
    name = default_name(weights)
    return Path(name).stem if name else None


@dataclass
class Choice:
    """One row: a model, its accuracy rows and (per host) its latency rows."""

    name: str  # shipped variant name (file stem) or the peer's label
    variant: str  # the results rows' variant column
    sha256: str
    peer: bool
    synth: dict[str, Any]
    real: dict[str, Any] | None = None
    is_default: bool = False
    p50: float | None = None
    exact: bool = False  # the latency rows were measured on this very checkpoint
    fastest: str = ""
    size_bytes: int | None = None
    pareto: bool = False

    @property
    def rank(self) -> tuple[int, float]:
        """Accuracy sort key (``zoo.results.accuracy_key``): real-photo NME where measured, else synth NME after."""
        return accuracy_key(self.real.get("nme") if self.real else None, self.synth.get("nme"))

    @property
    def label(self) -> str:
        return f"{self.name} *(fdfat)*" if self.peer else f"`{self.name}`"


def choices(accuracy: Sequence[dict[str, Any]], ships: dict[str, str], default: str | None = None) -> list[Choice]:
    """Models with an ONNX Runtime fp32 row on the synth test split: shipped checkpoints (by sha256) and peers."""
    def pick(r: dict[str, Any], dataset: str, split: str) -> bool:
        return (r.get("dataset"), r.get("split"), r.get("backend"), r.get("precision")) == (dataset, split, *SPEED[:2]) \
            and r.get("nme") is not None

    real = {(r["variant"], r["checkpoint_sha256"]): r for r in accuracy if pick(r, REAL_SET, "test")}
    out, seen = [], set()
    for r in accuracy:
        if not pick(r, SELECTION_DATASET, SELECTION_SPLIT) or not (r.get("peer") or r.get("checkpoint_sha256") in ships):
            continue
        if r.get("checkpoint_sha256") in seen:  # one checkpoint scored under two labels (--variant and --checkpoint)
            continue
        seen.add(r.get("checkpoint_sha256"))
        name = r["variant"] if r.get("peer") else ships[r["checkpoint_sha256"]]
        out.append(Choice(name, r["variant"], r.get("checkpoint_sha256") or "", bool(r.get("peer")), r,
                          real.get((r["variant"], r["checkpoint_sha256"])), is_default=not r.get("peer") and name == default))
    return out


def attach_latency(rows: Sequence[Choice], latency: Sequence[dict[str, Any]]) -> None:
    """Fill p50 / fastest / size from one host's latency rows: the checkpoint's own rows, else its architecture's."""
    ref_ms = reference_ms(latency)
    for c in rows:
        own = [r for r in latency if r["variant"] == c.variant and c.sha256 and r.get("checkpoint_sha256") == c.sha256]
        mine = own or [r for r in latency if r["variant"] == c.variant]
        speed = [r for r in mine if (r["backend"], r["precision"], r["threads"]) == SPEED and r.get("p50_ms") is not None]
        c.exact = bool(own)
        c.p50 = speed[0]["p50_ms"] if speed else None
        c.size_bytes = next((r["size_bytes"] for r in speed if r.get("size_bytes")), None)
        c.fastest = fastest_cell(mine, ref_ms)


def mark_pareto(rows: Sequence[Choice]) -> None:
    """Pareto-optimal on (ORT fp32 1t p50, accuracy rank): no other row is at least as fast and as accurate, and better in one."""
    timed = [c for c in rows if c.p50 is not None]
    for c in rows:
        c.pareto = c.p50 is not None and not any(
            o.p50 <= c.p50 and o.rank <= c.rank and (o.p50 < c.p50 or o.rank < c.rank) for o in timed)


def _size(b: int | None) -> str:
    if not b:
        return "-"
    return f"{b / 1e6:.2f} MB" if b >= 1e6 else f"{b / 1e3:.0f} kB"


def budget_lines(rows: Sequence[Choice], budgets: Sequence[float] = BUDGETS_MS) -> list[str]:
    """One sentence per budget (the most accurate model whose ORT fp32 1t p50 fits), then best accuracy and real photos.

    Accuracy is ``Choice.rank``: real photos decide where measured, as they do for ``zoo track --budget-ms``."""
    def said(c: Choice) -> str:
        ms = f", {_fmt_ms(c.p50)} ms" if c.p50 is not None else ""
        nme = f"{c.real['nme']:.2f} % NME on {REAL_SET}" if c.real else f"{c.synth['nme']:.2f} % synth NME"
        return f"{c.label} ({nme}{ms})"

    timed = [c for c in rows if c.p50 is not None]
    lines = []
    for budget in budgets:
        fits = sorted((c for c in timed if c.p50 <= budget), key=lambda c: (c.rank, c.p50))
        if fits:
            lines.append(f"- **under {budget:g} ms** on one core: {said(fits[0])}")
        elif timed:
            quickest = min(timed, key=lambda c: c.p50)
            lines.append(f"- **under {budget:g} ms** on one core: nothing measured fits (the fastest, {quickest.label}, "
                         f"takes {_fmt_ms(quickest.p50)} ms)")
    if not timed:
        lines.append(f"- no {SPEED[0]} {SPEED[1]} 1-thread latency yet: run `nox -s bench`")
    best = min(rows, key=lambda c: (c.synth["nme"], c.p50 if c.p50 is not None else float("inf")))
    lines.append(f"- **best on renders**: {best.label} ({best.synth['nme']:.2f} % synth NME)")
    photos = [c for c in rows if c.real is not None]
    if photos:
        top = min(photos, key=lambda c: c.real["nme"])
        lines.append(f"- **real photos** ({REAL_SET}): {top.label} ({top.real['nme']:.2f} % NME)")
    return lines


def _table(rows: Sequence[Choice], ratio: bool) -> list[str]:
    fastest = f"fastest (x {REFERENCE[0]} ORT fp32 1t)" if ratio else "fastest"
    header = ["variant", "ORT fp32 1t ms", fastest, "synth NME", "yaw <=30", "30-40", ">40",
              f"{REAL_SET} NME", "ONNX fp32 size"]
    body = []
    for c in rows:
        s = c.synth
        ms = "-" if c.p50 is None else _fmt_ms(c.p50) + ("" if c.exact else f" {FALLBACK}")
        name = c.label + (" (default)" if c.is_default else "") + (f" {PARETO}" if c.pareto else "")
        body.append([name, ms, c.fastest or "-", _num(s.get("nme"), ".2f"),
                     *(_num(s.get(f"nme_yaw_{b}"), ".2f") for b in ("le30", "30_40", "gt40")),
                     _num(c.real.get("nme"), ".2f") if c.real else "-", _size(c.size_bytes)])
    return _md(header, body, ["l", "r", "l", "r", "r", "r", "r", "r", "r"])


def choose_table(root: Path | None = None, weights: Path | None = None) -> str:
    """Per host: the models sorted by ORT fp32 1-thread p50, Pareto rows starred, then one sentence per budget."""
    weights = WEIGHTS_DIR if weights is None else Path(weights)
    ships = shipped(weights)
    rows = choices(read_table("accuracy", root), ships, default_variant(weights))
    if not rows:
        return PLACEHOLDER
    latency = _latency_rows(root)
    faces = sorted({c.synth.get("images") for c in rows if c.synth.get("images")})
    lines = [f"Shipped checkpoints (`zoo/weights`) and fdfat's published models *(fdfat)*. Speed: p50 ms of one `Runtime.run` "
             f"(batch 1, inference only) on ONNX Runtime fp32 with 1 thread, from `results/latency.csv`; accuracy: NME in % "
             f"of the inter-ocular distance on the synth test split{f' ({faces[0]} faces)' if len(faces) == 1 else ''} and on "
             f"{REAL_SET} (zoo crop), both on ONNX Runtime fp32, from `results/accuracy.csv`. {PARETO}: Pareto-optimal "
             f"(no other model is both faster and more accurate)."]
    hosts = sorted({r["host"] for r in latency}) or [None]
    fell_back = False
    for host in hosts:
        hr = [r for r in latency if r["host"] == host]
        attach_latency(rows, hr)
        mark_pareto(rows)
        ordered = sorted(rows, key=lambda c: (c.p50 is None, c.p50 or 0.0, c.synth["nme"], c.name))
        fell_back |= any(c.p50 is not None and not c.exact for c in rows)
        where = f"**{host}** ({hr[0].get('cpu')}, {hr[0].get('cores')} logical cores)" if host else "no host measured yet"
        lines += ["", f"On {where}:", "", *budget_lines(ordered), "", *_table(ordered, reference_ms(hr) is not None)]
    if fell_back:
        lines += ["", f"{FALLBACK} not measured on this checkpoint: the row of the same architecture with other weights (our "
                      "variants: random init; latency does not depend on the weights). `nox -s bench` measures the shipped "
                      "checkpoints themselves."]
    return "\n".join(lines)
