"""The renderer ablation table of docs/transfer.md, from results/transfer.csv (``zoo transfer`` rows).

One line per setting of the current render version: what it is, its label shapes' gap to the photos
(no model involved), and what the fixed fine-tune from the shipped default then scores on the photos,
averaged over its seeds with half their range as the noise.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.cells import _md
from zoo.results import read_table

#: The photo sets the table shows, in order (others in the CSV are left out).
PHOTO_SETS = ("lfpw-train", "dlib-examples")
GAP_PARTS = ("jaw", "brows", "nose", "eyes", "mouth")


def _setting(row: dict[str, Any]) -> str:
    """What was rendered, in words: the options that differ from nothing (the control renders nothing)."""
    if not row.get("render_options"):
        init = str(row.get("recipe", "")).rpartition(" init ")[2]
        return f"the shipped default{f' ({init})' if init else ''}, not fine-tuned"
    o = json.loads(row["render_options"])
    head = o.get("head", "?") + (f" ({o['labels']} labels)" if o.get("head") == "ict" else "")
    population = f", {o['population']} population" if o.get("population", "ict") != "ict" else ""
    return f"{head}, {o.get('camera', '?')} camera, pitch {float(o.get('pitch_mean', 0)):+g}{population}"


def mean_spread(rows: Sequence[dict[str, Any]], key: str, scale: float = 1.0, digits: int = 2, spread: bool = True) -> str:
    """Mean of ``key`` over rows (seeds) with half their range as the noise: ``7.24 ±0.09``; ``-`` without values."""
    vals = [float(r[key]) * scale for r in rows if r.get(key) is not None]
    if not vals:
        return "-"
    m = sum(vals) / len(vals)
    half = (max(vals) - min(vals)) / 2
    return f"{m:.{digits}f}" + (f" ±{half:.{digits}f}" if spread and len(vals) > 1 else "")


def transfer_table(root: Path | None = None) -> str:
    """Markdown for ``<!-- zoo:table:transfer -->``: settings in the order they were first measured."""
    from zoo.synth import RENDER_VERSION

    rows = read_table("transfer", root)
    if not rows:
        return "*No `zoo transfer` rows in results/transfer.csv yet.*"
    names = list(dict.fromkeys(r["name"] for r in rows))
    head = ["setting", "version", "rendered", "seeds", "lfpw NME", "FR@10 %", "offset-removed", "label-mapped",
            "worst offset (point)", "dlib NME", "gap jaw / brows / nose / eyes / mouth", "render img/s"]
    body = []
    for name in names:
        mine = [r for r in rows if r["name"] == name]
        lfpw = [r for r in mine if r["dataset"] == PHOTO_SETS[0]]
        dlib = [r for r in mine if r["dataset"] == PHOTO_SETS[1]]
        if not lfpw:
            continue
        worst = max(lfpw, key=lambda r: float(r["max_point_offset"]))
        gap = " / ".join(f"{float(lfpw[0][f'gap_{p}']):.1f}" for p in GAP_PARTS) if lfpw[0].get("gap_jaw") is not None else "-"
        recipe = "; " + lfpw[0]["recipe"].split(" ", 1)[-1] if lfpw[0].get("render_options") else ""
        version = f"v{lfpw[0].get('render_version', '?')}"
        body.append([f"`{name}`", version, f"{_setting(lfpw[0])}{recipe}", str(len(lfpw)), mean_spread(lfpw, "nme"),
                     mean_spread(lfpw, "fr10", 100, 1), mean_spread(lfpw, "nme_offset_removed"), mean_spread(lfpw, "nme_mapped"),
                     f"{mean_spread(lfpw, 'max_point_offset', digits=1, spread=False)} ({worst['max_offset_point']})",
                     mean_spread(dlib, "nme"), gap, mean_spread(lfpw, "render_ips", digits=0, spread=False)])
    intro = (f"Rows of every render version (the current one is {RENDER_VERSION}); a row's renders and labels are its "
             "version's, and its recipe names the checkpoint it starts from: compare rows of one version and one start. "
             "NME in % of the inter-ocular distance, ONNX Runtime fp32, evaluation crop "
             "with plain resampling; mean over seeds ± half their range. Offset-removed and label-mapped are 5-fold "
             "cross-validated on lfpw-train (faces never corrected by their own error). The shape gap is the rendered "
             "labels' mean shape against lfpw-train's at |yaw| <= 20, both posed by solvePnP, pitch matched (% IOD). "
             "Render speed is wall-clock on this shared 2-core machine while other work ran.")
    return "\n".join([intro, "", *_md(head, body, ["l", "l", "l", "r", "r", "r", "r", "r", "r", "r", "l", "r"])])
