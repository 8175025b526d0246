"""README and documentation tables from results/*.csv (what ``nox -s tables`` runs).

Each table replaces the text between ``<!-- zoo:table:NAME -->`` and ``<!-- /zoo:table:NAME -->``;
nothing else in a page is touched. ``PAGES`` says which page holds which table: the README keeps
only the model-choice table, the benchmark tables live on the docs' Benchmarks page. The output
depends only on the CSVs, so running it twice changes nothing; a page without a marker it should
have is an error, not a silent skip.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.cells import REFERENCE, _fmt_ms, _latency_rows, _md, _num, fastest_cell, reference_ms
from bench.choose import choose_table
from bench.transfer_table import transfer_table
from zoo.results import read_table

TABLE_NAMES = ("choose", "latency", "accuracy", "hardware", "tracking", "transfer")
#: Every page with generated tables (relative to the checkout) and the tables it holds.
PAGES: dict[str, tuple[str, ...]] = {
    "README.md": ("choose",),
    "docs/models.md": ("choose",),
    "docs/benchmarks.md": ("latency", "accuracy", "hardware", "tracking"),
    "docs/transfer.md": ("transfer",),
}
BACKEND_ORDER = ("torch", "onnx", "openvino", "tflite", "coreml")
PRECISION_ORDER = ("fp32", "fp16", "int8")
#: What int8 should gain over fp32 on a runtime (issue 21); the latency notes point to why where it does not.
INT8_TARGET = 1.3


class TablesError(ValueError):
    """A README that cannot be updated (missing or repeated markers)."""


def _order(values: Iterable[str], order: Sequence[str]) -> list[str]:
    return sorted(set(values), key=lambda v: (order.index(v) if v in order else len(order), v))


def _variant_order(rows: Iterable[dict[str, Any]]) -> list[str]:
    return sorted({r["variant"] for r in rows}, key=lambda v: (str(v).startswith("fdfat"), str(v)))


def _name(row: dict[str, Any]) -> str:
    return f"{row['variant']} *(fdfat)*" if row.get("peer") else f"`{row['variant']}`"


def latency_table(root: Path | None = None) -> str:
    """Per host: variants x (backend, precision); cells p50 ms for each thread count."""
    rows = _latency_rows(root)
    if not rows:
        return "*No latency rows yet: run `nox -s bench`.*"
    lines = ["p50 latency in ms of one `Runtime.run` on a preprocessed batch of 1 (model inference only: no crop, "
             "resize, normalisation or decoding), from `results/latency.csv`. A variant with shipped weights "
             "(`zoo/weights/`) is measured with them, the others with random-init weights (fp32 latency does not "
             "depend on weights); *(fdfat)* rows are fdfat's published checkpoints measured in the "
             "same round-robin run."]
    for host in sorted({r["host"] for r in rows}):
        hr = [r for r in rows if r["host"] == host]
        threads = sorted({r["threads"] for r in hr})
        combos = [(b, p) for b in _order((r["backend"] for r in hr), BACKEND_ORDER)
                  for p in _order((r["precision"] for r in hr), PRECISION_ORDER)
                  if any(r["backend"] == b and r["precision"] == p for r in hr)]
        first = hr[0]
        runs = sorted({r["runs"] for r in hr if r.get("runs")})
        dates = sorted({str(r["date"])[:10] for r in hr if r.get("date")})
        loads = sorted({str(r["load_avg"]) for r in hr if r.get("load_avg")})
        load_note = f" 1-minute load average start->end: {', '.join(loads)} on {first.get('cores')} cores." if loads else ""
        lines += ["", f"**{host}**: {first.get('cpu')}, {first.get('cores')} logical cores, {first.get('os')}; "
                      f"{'/'.join(map(str, runs))} timed runs per cell; measured {', '.join(dates)}. "
                      f"Cells: {' / '.join(f'{t} thread' + ('s' if t > 1 else '') for t in threads)}.{load_note}"]
        ref_ms = reference_ms(hr)
        header = ["variant", "params", "MFLOPs", *(f"{b} {p}" for b, p in combos),
                  "fastest" + (f" (x {REFERENCE[0]} ORT fp32 1t)" if ref_ms else "")]
        body = []
        for v in _variant_order(hr):
            vr = [r for r in hr if r["variant"] == v]
            ref = vr[0]
            cells = []
            for b, p in combos:
                got = {r["threads"]: r for r in vr if r["backend"] == b and r["precision"] == p}
                if not got:
                    cells.append("")
                elif all(r.get("p50_ms") is None for r in got.values()):
                    cells.append(next(iter(got.values())).get("status") or "-")
                else:
                    cells.append(" / ".join(_fmt_ms(got[t]["p50_ms"]) if t in got and got[t].get("p50_ms") is not None
                                            else "-" for t in threads))
            params = f"{ref['params']:,}" if ref.get("params") else ""
            flops = f"{ref['flops'] / 1e6:.1f}" if ref.get("flops") else ""
            body.append([_name(ref), params, flops, *cells, fastest_cell(vr, ref_ms)])
        lines += [""] + _md(header, body, ["l", "r", "r", *("r" for _ in combos), "l"])
        note = int8_note(hr)
        if note:
            lines += ["", note]
    return "\n".join(lines)


def int8_note(rows: Sequence[dict[str, Any]]) -> str:
    """One host's int8 speed-up per backend and variant (fp32 p50 / int8 p50 at 1 thread), and where to read why
    a runtime stays under ``INT8_TARGET``; empty when no variant has both rows."""
    parts = []
    for backend in _order((r["backend"] for r in rows), BACKEND_ORDER):
        ratios = []
        for v in _variant_order(rows):
            got = {r["precision"]: r for r in rows if r["variant"] == v and r["backend"] == backend and r["threads"] == 1}
            fp32, int8 = ((got.get(p) or {}).get("p50_ms") for p in ("fp32", "int8"))
            if fp32 and int8:
                ratios.append(f"{_name(got['fp32'])} {fp32 / int8:.2f}")
        if ratios:
            parts.append(f"{backend}: {', '.join(ratios)}")
    if not parts:
        return ""
    return (f"int8 speed-up, fp32 p50 / int8 p50 at 1 thread (above 1: int8 is faster) - {'; '.join(parts)}. "
            f"Where it is under {INT8_TARGET}x, [Export: int8 speed, by runtime](export.md#int8-speed-by-runtime) "
            "shows why with the runtime's own profile.")


def _best_reference(rows: list[dict[str, Any]]) -> dict[str, Any]:
    rank = {("torch", "fp32"): 0, ("onnx", "fp32"): 1}
    return min(rows, key=lambda r: (rank.get((r["backend"], r["precision"]), 2), r["backend"], r["precision"]))


def accuracy_table(root: Path | None = None) -> str:
    """variants x yaw bins per dataset (fp32 reference backend), then NME per backend/precision (parity).

    Rows scored on an older renderer version's synthetic set stay in the CSV as history but are not
    shown: that set can no longer be rendered, so its numbers cannot be reproduced or compared."""
    from zoo.synth import RENDER_VERSION

    rows = [r for r in read_table("accuracy", root)
            if not str(r.get("dataset", "")).startswith("synth") or str(r["dataset"]).endswith(f"-v{RENDER_VERSION}")]
    if not rows:
        return "*No accuracy rows yet: run `nox -s eval`.*"
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["split"], r["variant"], r["checkpoint_sha256"]), []).append(r)
    keys = sorted(groups, key=lambda k: (k[0], k[1], str(k[2]).startswith("fdfat"), k[2], k[3] or ""))
    lines = ["NME in % of the inter-ocular distance (outer eye corners 36-45) with the deterministic crop (1.5x "
             "the ground-truth landmark box, centred), overall and by |yaw| (degrees; faces per bin in brackets); "
             "AUC and failure rate at 10% NME. From `results/accuracy.csv`.", ""]
    header = ["dataset", "variant", "checkpoint", "backend", "faces", "NME", "yaw <=30", "30-40", ">40", "AUC@10", "FR@10"]
    body = []
    for k in keys:
        r = _best_reference(groups[k])
        bins = [f"{_num(r.get(f'nme_yaw_{b}'), '.2f')} ({r.get(f'faces_yaw_{b}') or 0})" for b in ("le30", "30_40", "gt40")]
        body.append([f"{k[0]} ({k[1]})", _name(r), (k[3] or "")[:8], f"{r['backend']} {r['precision']}",
                     str(r.get("images") or ""), _num(r.get("nme"), ".2f"), *bins, _num(r.get("auc10"), ".3f"),
                     _num(r.get("fr10"), ".1%")])
    lines += _md(header, body, ["l", "l", "l", "l", "r", "r", "r", "r", "r", "r", "r"])
    combos = [(b, p) for b in _order((r["backend"] for r in rows), BACKEND_ORDER)
              for p in _order((r["precision"] for r in rows), PRECISION_ORDER)
              if any(r["backend"] == b and r["precision"] == p for r in rows)]
    if len(combos) > 1:
        lines += ["", "Backend parity: the same checkpoint's NME on each backend and precision (a conversion loss shows "
                      "up here).", ""]
        pbody = []
        for k in keys:
            got = {(r["backend"], r["precision"]): r.get("nme") for r in groups[k]}
            cells = [_num(got.get(c), ".2f") if c in got else "" for c in combos]
            pbody.append([f"{k[0]} ({k[1]})", _name(groups[k][0]), (k[3] or "")[:8], *cells])
        lines += _md(["dataset", "variant", "checkpoint", *(f"{b} {p}" for b, p in combos)], pbody,
                     ["l", "l", "l", *("r" for _ in combos)])
    return "\n".join(lines)


def hardware_table(root: Path | None = None) -> str:
    """One column per host: its CPU, then each variant's fastest configuration there."""
    rows = [r for r in _latency_rows(root) if r.get("p50_ms") is not None]
    if not rows:
        return "*No latency rows yet: run `nox -s bench` on each machine.*"
    hosts = sorted({r["host"] for r in rows})
    info = {h: next(r for r in rows if r["host"] == h) for h in hosts}
    body = [["CPU", *(str(info[h].get("cpu")) for h in hosts)], ["logical cores", *(str(info[h].get("cores")) for h in hosts)],
            ["OS", *(str(info[h].get("os")) for h in hosts)]]
    for v in _variant_order(rows):
        cells = []
        for h in hosts:
            vr = [r for r in rows if r["host"] == h and r["variant"] == v]
            if not vr:
                cells.append("")
                continue
            best = min(vr, key=lambda r: r["p50_ms"])
            cells.append(f"{_fmt_ms(best['p50_ms'])} ({best['backend']} {best['precision']}, {best['threads']}t)")
        body.append([_name(next(r for r in rows if r["variant"] == v)), *cells])
    head = ["fastest p50 ms (configuration)", *hosts]
    return "\n".join(["Fastest measured configuration per variant on each host (batch 1, `Runtime.run` only).", "",
                      *_md(head, body, ["l", *("l" for _ in hosts)])])


def _tracking_cell(r: dict[str, Any]) -> str:
    cell = _num(r.get("nme_mean"), ".2f")
    if r.get("frames_lost"):
        cell += f", {int(r['frames_lost'])} lost"
    if r.get("id_switches"):
        cell += f", {int(r['id_switches'])} id switch{'es' if int(r['id_switches']) > 1 else ''}"
    merged = int(r.get("id_errors") or 0) - int(r.get("id_switches") or 0)  # one id over two people (a cut crossed)
    if merged > 0:
        cell += f", {merged} merged id{'s' if merged > 1 else ''}"
    return cell


def tracking_table(root: Path | None = None) -> str:
    """The tracking benchmark per model and detector: mean NME per scenario (clips of the current renderer
    version only, as older clips can no longer be rendered), the real-photo pan, and the median frame time."""
    from zoo.synth import RENDER_VERSION
    from zoo.track.clips import SCENARIOS
    from zoo.track.photo_bench import PHOTO_SCENARIOS

    current = f"synth-v{RENDER_VERSION}:"
    rows = [r for r in read_table("tracking", root) if str(r.get("video", "")).startswith((current, "real:"))]
    if not rows:
        return "*No tracking rows yet: run `zoo bench --task track`.*"

    def column(r: dict[str, Any]) -> str:  # the real-photo pan is "real photos"; the cut, crowd, ... keep their names
        if str(r["video"]).startswith(current) or str(r.get("scenario")) in PHOTO_SCENARIOS:
            return str(r["scenario"])
        return "real photos"

    columns = _order((column(r) for r in rows), (*SCENARIOS, "real photos", *PHOTO_SCENARIOS))
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["host"], r["variant"], r["detector"], r.get("model") or "", r["backend"], r["precision"],
                           r["threads"], r["filter"]), []).append(r)
    body = []
    for (host, variant, detector, model, backend, precision, threads, filt), rs in sorted(
            groups.items(), key=lambda kv: (kv[0][0], kv[0][1] == "oracle", kv[0][1], kv[0][2])):
        by_col = {column(r): r for r in rs}
        frame_ms = [r["p50_frame_ms"] for r in rs if r.get("p50_frame_ms") is not None]
        name = "oracle (ground truth + 1 px noise)" if variant == "oracle" else f"`{variant}`"
        if variant != "oracle" and model and model != f"{variant}.pt":  # weights other than the shipped ones
            name += f" ({model})"
        body.append([name, f"{detector}, {backend} {precision} {threads}t, {filt}",
                     *(_tracking_cell(by_col[c]) if c in by_col else "" for c in columns),
                     _num(statistics.median(frame_ms) if frame_ms else None, ".2f"), host])
    intro = (f"Tracking benchmark (`zoo bench --task track`, `results/tracking.csv`): mean NME per sequence in % of the "
             f"face's frontal inter-ocular distance, on 150-frame clips of renderer version {RENDER_VERSION} and on real "
             "LFPW photos moved like video, cut between two people (photo_cut) and pasted as a crowd at 30-120 px "
             "(photo_crowd, dimmed: photo_crowd_dark); frames lost and identity switches where there were any; frame ms: median "
             "over the sequences of their p50 time per frame.")
    head = ["model", "detector, runtime, filter", *columns, "frame ms", "host"]
    return "\n".join([intro, "", *_md(head, body, ["l", "l", *("r" for _ in columns), "r", "l"])])


RENDERERS = {"choose": choose_table, "latency": latency_table, "accuracy": accuracy_table, "hardware": hardware_table,
             "tracking": tracking_table, "transfer": transfer_table}


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with the part between the markers of ``name`` replaced by ``body``."""
    start, end = f"<!-- zoo:table:{name} -->", f"<!-- /zoo:table:{name} -->"
    for marker in (start, end):
        count = text.count(marker)
        if count != 1:
            what = "is missing" if count == 0 else f"appears {count} times"
            raise TablesError(f"README marker {marker} {what}; add one {start} ... {end} pair where the {name} table belongs")
    i, j = text.index(start) + len(start), text.index(end)
    if j < i:
        raise TablesError(f"README marker {end} comes before {start}")
    return text[:i] + "\n" + body.strip("\n") + "\n" + text[j:]


def update_readme(readme: Path, root: Path | None = None, names: Sequence[str] = TABLE_NAMES) -> bool:
    """Rewrite the README's table sections from results/; True when the file changed."""
    readme = Path(readme)
    if not readme.is_file():
        raise TablesError(f"{readme}: no such README")
    old = readme.read_text()
    new = old
    for name in names:
        new = replace_section(new, name, RENDERERS[name](root))
    if new != old:
        readme.write_text(new)
    return new != old


def tables_in(page: Path) -> tuple[str, ...]:
    """The known tables whose markers (start or end) appear in ``page``."""
    text = Path(page).read_text()
    return tuple(n for n in TABLE_NAMES if f"zoo:table:{n} -->" in text)


def update_pages(base: Path, root: Path | None = None, pages: dict[str, tuple[str, ...]] | None = None) -> dict[Path, bool]:
    """Rewrite every page of ``pages`` (default ``PAGES``) under ``base``; page -> whether it changed."""
    return {base / page: update_readme(base / page, root, names) for page, names in (pages or PAGES).items()}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.tables [PAGE ...] [--results DIR]`` (what ``nox -s tables`` runs).

    Without pages: every page of ``PAGES``, relative to the current folder. A page given by name gets
    the tables whose markers it holds (one without any is an error).
    """
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", type=Path, help="Markdown pages (default: every page of PAGES).")
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        if args.pages:
            changed = {}
            for page in args.pages:
                if not page.is_file():
                    raise TablesError(f"{page}: no such page")
                names = tables_in(page)
                if not names:
                    raise TablesError(f"{page} has no <!-- zoo:table:NAME --> markers (names: {', '.join(TABLE_NAMES)})")
                changed[page] = update_readme(page, args.results, names)
        else:
            changed = update_pages(Path("."), args.results)
    except TablesError as e:
        print(f"error: {e}")
        return 1
    for page, did in changed.items():
        print(f"{page}: {'tables updated' if did else 'already up to date'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
