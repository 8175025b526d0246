"""How many labelled faces a map needs: ``zoo adapt-study``, the source of docs/adapt.md's table.

Per model the network runs once on each dataset (``observe``'s cache); then, per draw, a seeded
permutation holds out ``held_out`` faces for scoring and fits on ``n`` of the rest, for each n,
with alpha chosen by k-fold CV among the n fitting faces only. A last row per model fits on every
face and reports its nested k-fold CV. ``--transfer`` scores another dataset with the maps fit
on n faces and on all of them. The fixed-regularisation column (lambda = 0.01 n) is the recipe
of issue 26's first measurements, kept to show what choosing alpha by CV buys.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo import __version__
from zoo.fileio import atomic_open, atomic_write

from . import AdaptError
from .api import dataset_label
from .faces import load_labelled, normaliser
from .fit import choose_alpha, cross_validate, fit_mlp, fit_ridge, nme, one_blas_thread, ridge_fitter
from .observe import observe, resolve
from .report import before, failure_rate

FIXED_ALPHA = 0.01
KEY = ("model", "dataset", "crop", "backend", "fit_faces")
COLUMNS = (*KEY, "model_sha256", "scored_faces", "draws", "nme_before", "nme_ridge", "nme_ridge_fixed", "nme_mlp",
           "fr10_before", "fr10_ridge", "alpha_median", "transfer_dataset", "transfer_before", "transfer_ridge",
           "zoo_version", "date")
TABLE = "adapt"


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def study_model(obs: Any, tobs: Any, pair: tuple[int, int], tpair: tuple[int, int] | None, sizes: list[int],
                held_out: int, draws: int, k: int) -> list[dict[str, Any]]:
    """Rows for one model: each fitting size averaged over ``draws``, then every face with nested CV."""
    n_all = len(obs)
    traw = before(tobs.model, tobs.target, tpair) if tobs is not None else None  # the transfer set's, unadapted
    traw_mean = None if traw is None else float(traw.mean())
    rows = []
    for n in sizes:
        names = ("before", "ridge", "fixed", "mlp", "fr_b", "fr_r", "alpha", "tb", "tr")
        acc: dict[str, list[float | None]] = {c: [] for c in names}
        for draw in range(draws):
            perm = np.random.default_rng(draw).permutation(n_all)
            test, fit = perm[:held_out], perm[held_out:held_out + n]
            mp, tp = obs.model[fit], obs.target[fit]
            alpha, _ = choose_alpha(mp, tp, pair, min(k, n // 2), draw)
            ridge = fit_ridge(mp, tp, alpha)
            raw = before(obs.model[test], obs.target[test], pair)
            scored = nme(ridge.apply(obs.model[test]), obs.target[test], pair)
            acc["before"].append(None if raw is None else float(raw.mean()))
            acc["ridge"].append(float(scored.mean()))
            acc["fixed"].append(float(nme(fit_ridge(mp, tp, FIXED_ALPHA).apply(obs.model[test]), obs.target[test], pair).mean()))
            acc["mlp"].append(float(nme(fit_mlp(mp, tp, alpha, draw).apply(obs.model[test]), obs.target[test], pair).mean()))
            acc["fr_b"].append(failure_rate(raw))
            acc["fr_r"].append(failure_rate(scored))
            acc["alpha"].append(alpha)
            if tobs is not None:
                acc["tb"].append(traw_mean)
                acc["tr"].append(float(nme(ridge.apply(tobs.model), tobs.target, tpair).mean()))
        rows.append(_row(n, held_out, draws, acc))
    # every face: nested k-fold CV on this dataset, and the map fit on all of them for the transfer set
    ridge_cv = cross_validate(obs.model, obs.target, pair, ridge_fitter(pair, k), k)
    raw = before(obs.model, obs.target, pair)
    alpha, _ = choose_alpha(obs.model, obs.target, pair, k)
    acc = {"before": [None if raw is None else float(raw.mean())], "ridge": [ridge_cv.mean_nme], "fixed": [None],
           "mlp": [None], "fr_b": [failure_rate(raw)], "fr_r": [failure_rate(np.concatenate([f.nme for f in ridge_cv.folds]))],
           "alpha": [alpha], "tb": [], "tr": []}
    if tobs is not None:
        acc["tb"].append(traw_mean)
        acc["tr"].append(float(nme(fit_ridge(obs.model, obs.target, alpha).apply(tobs.model), tobs.target, tpair).mean()))
    rows.append(_row(n_all, -k, 1, acc))  # scored_faces -k marks "k-fold CV over all faces"
    return rows


def _row(n: int, scored: int, draws: int, acc: dict[str, list[float | None]]) -> dict[str, Any]:
    r = lambda v, d=3: None if v is None else round(v, d)  # noqa: E731
    return {"fit_faces": n, "scored_faces": scored, "draws": draws, "nme_before": r(_mean(acc["before"])),
            "nme_ridge": r(_mean(acc["ridge"])), "nme_ridge_fixed": r(_mean(acc["fixed"])), "nme_mlp": r(_mean(acc["mlp"])),
            "fr10_before": r(_mean(acc["fr_b"]), 2), "fr10_ridge": r(_mean(acc["fr_r"]), 2),
            "alpha_median": None if not acc["alpha"] else float(np.median(acc["alpha"])),
            "transfer_before": r(_mean(acc["tb"])), "transfer_ridge": r(_mean(acc["tr"]))}


def run_study(models: list[str], dataset: Path, sizes: list[int], held_out: int, draws: int, transfer: Path | None,
              crop: str, backend: str, k: int, csv: Path, doc: Path | None, plot: Path | None,
              log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Run the study for every model, upsert ``csv``, rewrite ``doc``'s table and draw ``plot``."""
    from zoo.results import upsert_rows

    if doc is not None:
        _markers(doc)  # a page without the table's markers is said before minutes of fitting, not after
    faces = load_labelled(dataset)
    pair = normaliser(faces.num_points)
    if max(sizes) + held_out > len(faces) or min(sizes) < 2 * k:
        raise AdaptError(f"{dataset}: {len(faces)} faces cannot hold {held_out} scored + {max(sizes)} fitting faces, "
                         f"and the smallest size needs {2 * k} for {k}-fold CV; lower --held-out or --sizes")
    tfaces = load_labelled(transfer) if transfer else None
    tpair = normaliser(tfaces.num_points) if tfaces else None
    stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    rows: list[dict[str, Any]] = []
    for model in models:
        ref = resolve(model)
        log(f"{ref.label}: observing {len(faces)} faces" + (f" + {len(tfaces)}" if tfaces else ""))
        obs = observe(ref, faces, crop, backend)
        tobs = observe(ref, tfaces, crop, backend) if tfaces else None
        with one_blas_thread():
            done = study_model(obs, tobs, pair, tpair, sizes, held_out, draws, k)
        for row in done:
            rows.append({"model": ref.label, "dataset": dataset_label(dataset), "crop": crop, "backend": backend,
                         "model_sha256": ref.sha256, **row, "transfer_dataset": dataset_label(transfer) if transfer else "",
                         "zoo_version": __version__, "date": stamp})
        log(f"{ref.label}: " + ", ".join(f"n={r['fit_faces']}: {r['nme_before']} -> {r['nme_ridge']}" for r in done))
    upsert_rows(csv, rows, KEY, COLUMNS)
    if doc is not None:
        write_doc_table(doc, rows, sizes)
    if plot is not None:
        draw(plot, rows)
    return rows


def _cell(v: Any) -> str:
    return "-" if v is None or v == "" else f"{float(v):.2f}"


def markdown(rows: list[dict[str, Any]], sizes: list[int]) -> str:
    """Two tables: ridge (alpha by CV) per fitting size with the transfer column, then ridge vs MLP vs fixed."""
    by_model: dict[str, dict[int, dict[str, Any]]] = {}
    for r in rows:
        by_model.setdefault(r["model"], {})[int(r["fit_faces"])] = r
    any_row = rows[0]
    ds, tds = any_row["dataset"], any_row["transfer_dataset"]
    head = (f"| model | {ds} raw | " + " | ".join(f"fit on {n}" for n in sizes) + " | all, k-fold CV |"
            + (f" {tds} raw -> fit on {sizes[1] if len(sizes) > 1 else sizes[0]} / all |" if tds else ""))
    lines = [head, "|---|" + "---:|" * (len(sizes) + 2) + ("---|" if tds else "")]
    lines2 = ["| model | faces fit | ridge, alpha by CV | MLP on ridge | ridge, lambda = 0.01 n | FR@10 before -> ridge |",
              "|---|---:|---:|---:|---:|---|"]
    for model, per in by_model.items():
        full = per[max(per)]
        cells = [_cell(full["nme_before"])] + [_cell(per[n]["nme_ridge"]) for n in sizes] + [_cell(full["nme_ridge"])]
        line = f"| {model} | " + " | ".join(cells) + " |"
        if tds:
            mid = per[sizes[1] if len(sizes) > 1 else sizes[0]]
            line += f" {_cell(full['transfer_before'])} -> {_cell(mid['transfer_ridge'])} / {_cell(full['transfer_ridge'])} |"
        lines.append(line)
        for n in sizes:
            r = per[n]
            lines2.append(f"| {model} | {n} | {_cell(r['nme_ridge'])} | {_cell(r['nme_mlp'])} | {_cell(r['nme_ridge_fixed'])} | "
                          f"{_cell(r['fr10_before'])} -> {_cell(r['fr10_ridge'])} |")
    return "\n".join(lines) + "\n\n" + "\n".join(lines2) + "\n"


def _markers(doc: Path) -> tuple[str, str, str]:
    """(start marker, end marker, page text); AdaptError when the page lacks them."""
    start, end = f"<!-- zoo:table:{TABLE} -->", f"<!-- /zoo:table:{TABLE} -->"
    text = Path(doc).read_text() if Path(doc).is_file() else ""
    if start not in text or end not in text:
        raise AdaptError(f"{doc}: no {start} ... {end} block to write the table into; add the two markers")
    return start, end, text


def write_doc_table(doc: Path, rows: list[dict[str, Any]], sizes: list[int]) -> None:
    """Replace the ``<!-- zoo:table:adapt -->`` block of ``doc`` (atomically); the page must have the markers."""
    doc = Path(doc)
    start, end, text = _markers(doc)
    new = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: f"{start}\n{markdown(rows, sizes)}{end}", text, flags=re.S)
    with atomic_open(doc, "w") as f:
        f.write(new)


def draw(path: Path, rows: list[dict[str, Any]]) -> None:
    """NME against the number of fitting faces, one colour per model; raw NME dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    num = lambda v: None if v in (None, "") else float(v)  # noqa: E731 - rows may come back from the CSV as text
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    models = list(dict.fromkeys(r["model"] for r in rows))
    for i, model in enumerate(models):
        mine = sorted((r for r in rows if r["model"] == model and int(r["scored_faces"]) > 0), key=lambda r: int(r["fit_faces"]))
        colour = f"C{i}"
        ns = [int(r["fit_faces"]) for r in mine]
        ax.plot(ns, [num(r["nme_ridge"]) for r in mine], "o-", color=colour, label=f"{model} ridge")
        if all(num(r["nme_mlp"]) is not None for r in mine):
            ax.plot(ns, [num(r["nme_mlp"]) for r in mine], "s--", color=colour, alpha=0.6, label=f"{model} MLP")
        if mine and num(mine[0]["nme_before"]) is not None:
            ax.axhline(num(mine[0]["nme_before"]), color=colour, ls=":", lw=1)
    ax.set_xscale("log")
    ticks = sorted({int(r["fit_faces"]) for r in rows if int(r["scored_faces"]) > 0})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("labelled faces the map is fit on")
    ax.set_ylabel(f"NME % IOD on {rows[0]['scored_faces']} other faces")
    ax.set_title(f"label adaptation on {rows[0]['dataset']} (dotted: before)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
