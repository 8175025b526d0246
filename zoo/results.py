"""The results tables (results/*.csv): schema, safe writers, readers and model selection.

The CSVs are the single source of the README tables and of the tracker's ``--budget-ms``
choice, so writers must never lose or half-write a row: every write takes an exclusive
``fcntl`` lock on a hidden sidecar ``.NAME.csv.lock`` file, re-reads the table under the lock, replaces rows
with the same key, writes a temp file in the same folder and renames it over the old one.
Two processes appending at once therefore serialise instead of overwriting each other.
"""

from __future__ import annotations

import csv
import fcntl
import glob
import os
import platform
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from zoo.synth import RENDER_VERSION

#: results/latency.csv: DESIGN.md section 6 columns, then what a reader needs to trust a number.
LATENCY_COLUMNS: tuple[str, ...] = (
    "host", "cpu", "cores", "os", "backend", "backend_version", "variant", "precision", "threads", "batch",
    "input_size", "p50_ms", "p90_ms", "p99_ms", "mean_ms", "runs", "artifact_sha256", "zoo_version", "date",
    # additions: spread, what was timed, model size/cost, peer rows, rows without a number
    "min_ms", "std_ms", "device", "task", "size_bytes", "params", "flops", "peer", "status", "checkpoint_sha256",
    "load_avg",  # 1-minute load average at the start and end of the run: how shared the CPU was
)
LATENCY_KEY: tuple[str, ...] = ("host", "backend", "device", "variant", "precision", "threads", "batch", "input_size", "task")

#: results/accuracy.csv: DESIGN.md section 6 columns, then face counts per yaw bin and provenance.
ACCURACY_COLUMNS: tuple[str, ...] = (
    "variant", "checkpoint_sha256", "backend", "precision", "dataset", "split", "images", "nme", "nme_yaw_le30",
    "nme_yaw_30_40", "nme_yaw_gt40", "auc10", "fr10", "zoo_version", "date",
    "faces_yaw_le30", "faces_yaw_30_40", "faces_yaw_gt40", "points", "yaw_source", "crop", "peer", "artifact_sha256",
)
ACCURACY_KEY: tuple[str, ...] = ("variant", "checkpoint_sha256", "backend", "precision", "dataset", "split")

#: results/tracking.csv: the tracking benchmark (written by the tracker's benchmark).
TRACKING_COLUMNS: tuple[str, ...] = (
    "host", "cpu", "cores", "os", "backend", "variant", "precision", "threads", "detector", "video", "frames",
    "faces", "fps", "p50_frame_ms", "p90_frame_ms", "p50_landmark_ms", "detector_ms", "jitter_px", "zoo_version", "date",
)
TRACKING_KEY: tuple[str, ...] = ("host", "backend", "variant", "precision", "threads", "detector", "video")

#: results/transfer.csv: the transfer protocol (``zoo transfer``): renders -> fixed fine-tune -> photos.
TRANSFER_COLUMNS: tuple[str, ...] = (
    "name", "render_version", "render_options", "images", "render_seed", "render_ips", "recipe", "seed", "dataset",
    "faces", "nme", "fr10", "nme_offset_removed", "nme_mapped", "fr10_mapped", "nme_jaw", "nme_brows", "nme_nose",
    "nme_eyes", "nme_mouth", "max_point_offset", "max_offset_point", "mean_point_offset", "gap_jaw", "gap_brows",
    "gap_nose", "gap_eyes", "gap_mouth", "gap_modes_off", "train_s", "checkpoint_sha256", "zoo_version", "date",
)
TRANSFER_KEY: tuple[str, ...] = ("name", "render_version", "recipe", "seed", "dataset")

TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "latency": (LATENCY_COLUMNS, LATENCY_KEY),
    "accuracy": (ACCURACY_COLUMNS, ACCURACY_KEY),
    "tracking": (TRACKING_COLUMNS, TRACKING_KEY),
    "transfer": (TRANSFER_COLUMNS, TRANSFER_KEY),
}

#: Columns read back as numbers (everything else stays a string; empty cells become None).
_INT_COLUMNS = {"cores", "threads", "batch", "input_size", "runs", "size_bytes", "params", "flops", "images", "frames",
                "faces", "faces_yaw_le30", "faces_yaw_30_40", "faces_yaw_gt40", "points", "id_switches", "frames_lost",
                "face_frames", "render_version", "render_seed", "seed", "max_offset_point", "gap_modes_off"}
_FLOAT_COLUMNS = {"p50_ms", "p90_ms", "p99_ms", "mean_ms", "min_ms", "std_ms", "nme", "nme_yaw_le30", "nme_yaw_30_40",
                  "nme_yaw_gt40", "auc10", "fr10", "fps", "p50_frame_ms", "p90_frame_ms", "p50_landmark_ms",
                  "detector_ms", "jitter_px", "nme_mean", "nme_p95", "jitter_iod", "hog_recall", "render_ips",
                  "nme_offset_removed", "nme_mapped", "fr10_mapped", "nme_jaw", "nme_brows", "nme_nose", "nme_eyes",
                  "nme_mouth", "max_point_offset", "mean_point_offset", "gap_jaw", "gap_brows", "gap_nose", "gap_eyes",
                  "gap_mouth", "train_s"}
_BOOL_COLUMNS = {"peer"}

#: The split model selection ranks accuracy on: the renderer's standard test split, labelled with
#: the render version (``zoo.synth.generate.results_label``) so a renderer change never ranks old rows.
SELECTION_DATASET = f"synth-v{RENDER_VERSION}"
SELECTION_SPLIT = "test"
#: Real photographs rank first wherever they were measured (``zoo eval`` on the set's faces.yaml, zoo crop,
#: ONNX Runtime fp32): renders say how a model does on what it trained on, photos on what users point it at.
#: A model without a real-photo row ranks after every model with one, by its synth NME.
REAL_SELECTION_DATASET = "lfpw-train"


def accuracy_key(real_nme: float | None, synth_nme: float | None) -> tuple[int, float]:
    """Sort key of a model's accuracy, lower is better: real-photo NME where measured, else synth NME after them."""
    if real_nme is not None:
        return 0, real_nme
    return 1, synth_nme if synth_nme is not None else float("inf")


class ResultsError(ValueError):
    """A results file that cannot be read or a row that does not fit its table."""


def results_dir() -> Path:
    """Where results/*.csv live: $ZOO_RESULTS, else the checkout's results/ folder, else ./results."""
    env = os.environ.get("ZOO_RESULTS")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "results"
    return Path.cwd() / "results"


def table_path(name: str, root: Path | None = None) -> Path:
    if name not in TABLES:
        raise ResultsError(f"unknown results table {name!r}; known: {', '.join(TABLES)}")
    return (root or results_dir()) / f"{name}.csv"


# --------------------------------------------------------------------------- host identity
@dataclass(frozen=True)
class Host:
    """The machine a number was measured on; ``name`` is the stable label rows are grouped by."""

    name: str
    cpu: str
    cores: int
    os: str


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown cpu"


@cache
def current_host() -> Host:
    """This machine: CPU model from /proc/cpuinfo, logical cores, OS. Hostnames are random in
    containers, so the label is built from the hardware: e.g. ``amd-epyc-2c``."""
    cpu = _cpu_model()
    cores = os.cpu_count() or 1
    system = platform.system()
    if system == "Linux":
        try:
            release = platform.freedesktop_os_release()
            system = release.get("PRETTY_NAME", system)
        except OSError:
            pass
    slug = re.sub(r"\((r|tm)\)|cpu|processor|@.*$|\d+-core", "", cpu, flags=re.I)
    slug = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-") or "cpu"
    name = os.environ.get("ZOO_HOST") or f"{slug}-{cores}c"
    return Host(name=name, cpu=cpu, cores=cores, os=f"{system} ({platform.machine()})")


# --------------------------------------------------------------------------- writing
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _read_raw(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows as strings; ResultsError (one line) for a file that is not a CSV table.

    Cells beyond the header (a row with too many fields) are dropped and missing ones read as empty,
    so one bad row never costs the others; binary content, NUL bytes or a broken quote refuse the file.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return [], []
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            rows = [{k: v or "" for k, v in r.items() if isinstance(k, str)} for r in reader]
    except (UnicodeDecodeError, csv.Error) as e:
        why = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise ResultsError(f"{path}: not a readable results table ({why}); fix it from git (`git diff {path.name}`) "
                           "or delete it to start a new one") from None
    return columns, rows


def upsert_rows(csv_path: str | os.PathLike, rows: Iterable[Mapping[str, Any]], key_columns: Sequence[str],
                columns: Sequence[str] | None = None) -> Path:
    """Add ``rows`` to a CSV, replacing existing rows whose ``key_columns`` match; returns the path.

    Atomic (temp file + rename) and serialised across processes with an exclusive lock on
    ``.<csv name>.lock``. Columns: ``columns`` (or the known schema for latency/accuracy/tracking), then
    any extra column already in the file or in the rows, so nothing a newer writer added is lost.
    """
    path = Path(csv_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [dict(r) for r in rows]
    for r in rows:
        missing = [k for k in key_columns if k not in r]
        if missing:
            raise ResultsError(f"{path.name}: a row lacks key column(s) {', '.join(missing)}")
    if columns is None:
        columns = TABLES.get(path.stem, ((), ()))[0]
    lock_path = path.with_name(f".{path.name}.lock")  # hidden, beside the table (not in the table's glob)
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _sweep_temps(path)
            old_columns, old_rows = _read_raw(path)
            order = list(columns)
            for c in [*old_columns, *(k for r in rows for k in r)]:
                if c not in order:
                    order.append(c)
            # within one write the last row of a key wins too, so one run never leaves two rows under a key
            latest = {tuple(_cell(r.get(k)) for k in key_columns): r for r in rows}
            new = [{c: _cell(r.get(c)) for c in order} for r in latest.values()]
            new_keys = set(latest)
            kept = [{c: r.get(c, "") or "" for c in order} for r in old_rows
                    if tuple(r.get(k, "") for k in key_columns) not in new_keys]
            _atomic_write_csv(path, order, kept + new)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path


def _sweep_temps(path: Path) -> None:
    """Remove temp files a killed writer of this table left (``.NAME.csv.*.tmp``, see ``zoo.fileio``).

    Called under the table's lock, where no other writer of it is mid-write, so every such file is stale;
    without this each ``kill -9`` during a write would leave one in results/ for good.
    """
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)


def _atomic_write_csv(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> None:
    from zoo.fileio import atomic_open

    # csv quotes a cell holding "\n" but not one holding a lone "\r" (not in the line terminator), which the
    # reader then takes for a line break: such a table (only ever a damaged one) is written fully quoted
    awkward = any("\r" in c for c in columns) or any("\r" in str(v) for r in rows for v in r.values())
    with atomic_open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\n",
                                quoting=csv.QUOTE_ALL if awkward else csv.QUOTE_MINIMAL)
        writer.writeheader()
        writer.writerows(rows)


def write_table(name: str, rows: Iterable[Mapping[str, Any]], root: Path | None = None) -> Path:
    """Upsert rows into one of the known tables (``TABLES``: latency, accuracy, tracking, transfer) with its key."""
    path = table_path(name, root)
    columns, key = TABLES[name]
    return upsert_rows(path, rows, key, columns)


# --------------------------------------------------------------------------- reading
def _typed(column: str, value: str | None) -> Any:
    if value is None or value == "":
        return None
    try:
        if column in _INT_COLUMNS:
            return int(float(value))
        if column in _FLOAT_COLUMNS:
            return float(value)
    except ValueError:
        return value
    if column in _BOOL_COLUMNS:
        return value.strip().lower() in ("true", "1", "yes")
    return value


def read_csv(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows of a results CSV with numbers as numbers and empty cells as None ([] when absent)."""
    _, rows = _read_raw(Path(path))
    return [{k: _typed(k, v) for k, v in r.items()} for r in rows]


def read_table(name: str, root: Path | None = None) -> list[dict[str, Any]]:
    """Rows of results/<name>.csv (latency, accuracy or tracking), typed; [] when the file is absent."""
    return read_csv(table_path(name, root))


# --------------------------------------------------------------------------- model selection
@dataclass
class ModelChoice:
    """What ``select_model`` picked (variant None when nothing fits) and why, in a sentence."""

    variant: str | None
    backend: str
    precision: str | None = None
    threads: int | None = None
    p50_ms: float | None = None
    nme: float | None = None
    reason: str = ""
    candidates: list[dict[str, Any]] = field(default_factory=list)


def select_model(budget_ms: float, backend: str, host: str | None = None, root: Path | None = None,
                 include_peers: bool = False, only: Iterable[str] | Mapping[str, str] | None = None) -> ModelChoice:
    """The most accurate variant (``accuracy_key``: NME on real photos where measured, else on the synth
    test split) whose measured p50 on ``host`` and ``backend`` fits ``budget_ms``. ``only`` restricts the
    candidates (e.g. to variants with shipped weights); a mapping variant -> checkpoint sha256 also restricts
    the accuracy rows to those checkpoints, so an older or ad-hoc checkpoint's score never speaks for a variant.

    Ties and variants without an accuracy row fall back to the fastest. The reason says which
    rows were considered, and says plainly when this host has no latency rows at all, so the
    tracker can print it instead of silently picking a default.
    """
    host = host or current_host().name
    latency = [r for r in read_table("latency", root) if r.get("p50_ms") is not None and (r.get("task") or "latency") == "latency"
               and (include_peers or not r.get("peer"))]
    on_host = [r for r in latency if r.get("host") == host]
    if not on_host:
        hosts = sorted({str(r.get("host")) for r in latency})
        known = f" (rows exist for: {', '.join(hosts)})" if hosts else ""
        return ModelChoice(None, backend, reason=f"no latency rows for host {host!r} in results/latency.csv{known}; "
                                                 f"run `zoo bench --backend {backend}` on this machine first")
    rows = [r for r in on_host if r.get("backend") == backend]
    if only is not None:  # e.g. the variants the caller has weights for
        allowed = set(only)
        rows = [r for r in rows if r["variant"] in allowed]
    if not rows:
        have = sorted({str(r["backend"]) for r in on_host})
        return ModelChoice(None, backend, reason=f"host {host!r} has no {backend} rows (it has: {', '.join(have)})")
    fastest: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["variant"] not in fastest or r["p50_ms"] < fastest[r["variant"]]["p50_ms"]:
            fastest[r["variant"]] = r
    fits = [r for r in fastest.values() if r["p50_ms"] <= budget_ms]
    if not fits:
        best = min(fastest.values(), key=lambda r: r["p50_ms"])
        return ModelChoice(None, backend, reason=f"nothing fits {budget_ms:g} ms on {host}/{backend}: the fastest is "
                                                 f"{best['variant']} at {best['p50_ms']:.3f} ms p50")
    synth: dict[str, float] = {}
    real: dict[str, float] = {}
    for r in read_table("accuracy", root):
        if r.get("split") != SELECTION_SPLIT or r.get("nme") is None or r.get("precision") not in (None, "fp32"):
            continue
        if isinstance(only, Mapping) and only.get(r["variant"]) != r.get("checkpoint_sha256"):
            continue
        if r.get("dataset") == SELECTION_DATASET:
            table = synth
        elif r.get("dataset") == REAL_SELECTION_DATASET and r.get("backend") in (None, "onnx"):
            table = real
        else:
            continue
        table[r["variant"]] = min(table.get(r["variant"], float("inf")), r["nme"])
    scored = sorted(fits, key=lambda r: (accuracy_key(real.get(r["variant"]), synth.get(r["variant"])), r["p50_ms"]))
    pick = scored[0]
    v = pick["variant"]
    on, nme = (REAL_SELECTION_DATASET, real[v]) if v in real else (f"{SELECTION_DATASET} {SELECTION_SPLIT}", synth.get(v))
    why = (f"most accurate of {len(fits)} variant(s) within {budget_ms:g} ms on {host}/{backend}: "
           f"NME {nme:.2f}% on {on}" if nme is not None else
           f"no accuracy rows on {REAL_SELECTION_DATASET} or {SELECTION_DATASET} {SELECTION_SPLIT} for the {len(fits)} "
           f"variant(s) that fit {budget_ms:g} ms on {host}/{backend}, so the fastest")
    why += f", p50 {pick['p50_ms']:.3f} ms ({pick['precision']}, {pick['threads']} thread(s))"
    return ModelChoice(pick["variant"], backend, pick.get("precision"), pick.get("threads"), pick["p50_ms"], nme, why,
                       candidates=scored)
