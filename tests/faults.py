"""kill -9 at random moments during the zoo's writes, and what is left afterwards (issue 24, part 3).

For each writer a child process (forked from this one, so no start-up cost per kill) writes in a
loop; after a random delay it gets SIGKILL, and this process checks what is on disk:

- ``checkpoint``: ``save_checkpoint`` over one file: it must load and build, and be a version
  the child wrote.
- ``export``: ``export_model`` (ONNX, --force) of changing weights into one folder: the artifact must
  load and match torch for the weights its manifest names, or have no manifest, in which case the
  next export redoes it (counted as ``resumed``).
- ``results``: ``upsert_rows`` of one new row per write into one CSV: it must parse, hold no half
  row, and every row whose write returned before the kill must be there (``rows_lost``).
- ``render``: ``write_dataset`` of a small set: rerunning it resumes, and the result equals an
  uninterrupted render byte for byte.

Run as a script it prints the figures as JSON: ``python tests/faults.py all --kills 50`` is what
``nox -s soak`` does; ``tests/test_faults.py`` runs a few kills per writer (``checkpoint:3 results:5 ...``).
Thread pools are pinned to one thread before anything runs: forking a process with live OpenMP/OpenCV
pools can deadlock the child.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WRITERS = ("checkpoint", "export", "results", "render")


def _single_threaded() -> None:
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def kill_loop(write: Callable[[int], None], check: Callable[[int], dict[str, int]], kills: int, seed: int,
              window: tuple[float, float]) -> dict[str, int]:
    """Fork a child that calls ``write(i)`` for i = base, base + 1, ... and reports each return on a pipe;
    SIGKILL it after a random delay in ``window`` seconds; ``check(completed)`` what is left. ``kills`` times."""
    rng = random.Random(seed)
    totals = {"kills": 0, "completed_writes": 0}
    completed = 0
    for k in range(kills):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: write until killed
            os.close(read_end)
            code = 0
            try:
                os.write(write_end, b"r")
                i = completed
                while True:
                    write(i)
                    os.write(write_end, b".")
                    i += 1
            except BaseException as e:  # noqa: BLE001 - reported to the parent, which fails the check
                os.write(write_end, f"E{type(e).__name__}: {e}"[:500].encode())
                code = 1
            finally:
                os._exit(code)
        os.close(write_end)
        assert os.read(read_end, 1) == b"r"
        time.sleep(rng.uniform(*window))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        report = b""
        while chunk := os.read(read_end, 65536):
            report += chunk
        os.close(read_end)
        if b"E" in report:
            raise AssertionError(f"kill {k}: the writer failed on its own: {report[report.index(b'E'):].decode()}")
        completed += report.count(b".")
        for key, value in check(completed).items():
            totals[key] = totals.get(key, 0) + value
        totals["kills"] += 1
    totals["completed_writes"] = completed
    return totals


def _leftover_temps(folder: Path) -> int:
    """Hidden temp files of atomic writes cut by the kill (harmless; counted as kills that landed mid-write)."""
    temps = list(folder.glob(".*.tmp"))
    for t in temps:
        t.unlink()
    return len(temps)


# --------------------------------------------------------------------------- the four writers
def checkpoint_faults(folder: Path, kills: int, seed: int) -> dict[str, int]:
    import torch

    from zoo.architectures import create_model
    from zoo.checkpoints.checkpoint import load_checkpoint, save_checkpoint

    model = create_model("lw-relu6-w0.5")
    path = folder / "last.pt"
    save_checkpoint(path, model, meta={"step": -1})
    first = next(iter(model.state_dict()))

    def write(i: int) -> None:
        with torch.no_grad():
            model.state_dict()[first].fill_(float(i))
        save_checkpoint(path, model, meta={"step": i})

    def check(completed: int) -> dict[str, int]:
        ckpt = load_checkpoint(path)  # raises on a broken file: the test fails
        ckpt.build()
        step = ckpt.meta["step"]
        assert -1 <= step <= completed, f"step {step} was never written (completed {completed})"
        assert step == -1 or float(ckpt.state_dict[first].flatten()[0]) == float(step), "weights of another step"
        return {"survived": 1, "mid_write": int(_leftover_temps(folder) > 0)}

    return kill_loop(write, check, kills, seed, (0.05, 0.6))


def export_faults(folder: Path, kills: int, seed: int) -> dict[str, int]:
    import numpy as np
    import torch

    from zoo.architectures import create_model
    from zoo.backends import get_backend, load_artifact
    from zoo.backends.base import ArtifactError
    from zoo.backends.calibration import as_calibration
    from zoo.backends.exporting import torch_reference
    from zoo.backends.sources import artifact_dir, export_model

    calib = as_calibration(None, 96)
    base = create_model("lw-relu6-w0.5").eval()

    def version(i: int) -> Any:
        model = create_model("lw-relu6-w0.5").eval()
        model.load_state_dict(base.state_dict())
        with torch.no_grad():
            next(model.parameters()).mul_(1.0 + 0.01 * (i % 7))
        model.zoo_source = {"kind": "fault-test", "sha256": f"v{i}", "path": None}
        return model

    export_model(version(-1), "onnx", "fp32", folder, calib, force=True)
    art_dir = artifact_dir(folder, "lw-relu6-w0.5", "onnx", "fp32")

    def write(i: int) -> None:
        export_model(version(i), "onnx", "fp32", folder, calib, force=True)

    def check(completed: int) -> dict[str, int]:
        resumed = 0
        try:
            art = load_artifact(art_dir)
        except ArtifactError:  # killed mid-export: no manifest, so the next export redoes it
            export_model(version(completed), "onnx", "fp32", folder, calib)
            art, resumed = load_artifact(art_dir), 1
        i = int(art.manifest["source"]["sha256"][1:])
        got = get_backend("onnx").load(art, 1).run(calib.images[:4])["landmarks"]
        want = torch_reference(version(i), calib.images[:4])["landmarks"]
        assert np.abs(got - want).max() < 1e-4, f"the model file does not match its manifest (v{i})"
        return {"survived": 1, "resumed": resumed, "mid_write": int(_leftover_temps(art_dir) > 0 or resumed)}

    return kill_loop(write, check, kills, seed, (0.1, 0.7))


def results_faults(folder: Path, kills: int, seed: int) -> dict[str, int]:
    from zoo.results import read_csv, upsert_rows

    path = folder / "latency.csv"
    columns = ("key", "value", "pad")
    upsert_rows(path, [{"key": "seed", "value": "vseed", "pad": "x" * 200}], ("key",), columns)

    def write(i: int) -> None:
        upsert_rows(path, [{"key": str(i), "value": f"v{i}", "pad": "x" * 200}], ("key",), columns)

    def check(completed: int) -> dict[str, int]:
        rows = read_csv(path)
        keys = [str(r["key"]) for r in rows]
        assert len(keys) == len(set(keys)), "a key appears twice"
        assert all(r["value"] == f"v{r['key']}" and r["pad"] == "x" * 200 for r in rows), "a half-written row"
        lost = completed - len(set(keys) & {str(i) for i in range(completed)})
        return {"survived": int(lost == 0), "rows_lost": lost, "mid_write": int(any(folder.glob(".*.tmp")))}

    figures = kill_loop(write, check, kills, seed, (0.02, 0.4))
    write(-1)  # the next write sweeps what the killed ones left
    assert not list(folder.glob(".*.tmp")), "temp files of killed writes are still there after the next write"
    return figures


def render_faults(folder: Path, kills: int, seed: int, images: int = 6) -> dict[str, int]:
    from zoo.synth.generate import write_dataset

    reference = folder / "reference"
    write_dataset(reference, images, 0, workers=1, size=64)
    want = {p.relative_to(reference): p.read_bytes() for p in reference.rglob("*") if p.is_file() and _rendered(p)}
    out = folder / "render"

    def write(i: int) -> None:
        write_dataset(out, images, 0, workers=1, size=64)
        shutil.rmtree(out)  # start again, so every kill lands in a render

    def check(completed: int) -> dict[str, int]:
        kept = sum(1 for p in out.rglob("*_meta.json")) if out.is_dir() else 0
        write_dataset(out, images, 0, workers=1, size=64)  # resume
        got = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and _rendered(p)}
        assert got == want, f"the resumed render differs from an uninterrupted one in {sorted(set(got) ^ set(want))[:3]}"
        shutil.rmtree(out)
        return {"survived": 1, "resumed_with_faces_kept": int(kept > 0)}

    return kill_loop(write, check, kills, seed, (0.05, 1.0))


def _rendered(path: Path) -> bool:
    """Files a render produces from (seed, index): images, landmarks, metadata (not the YAML with its absolute path)."""
    return path.suffix in (".png", ".txt", ".json") and not path.name.startswith(".") and path.name != "dataset.yaml"


FAULTS: dict[str, Callable[[Path, int, int], dict[str, int]]] = {
    "checkpoint": checkpoint_faults, "export": export_faults, "results": results_faults, "render": render_faults,
}


def run(writer: str, kills: int, seed: int = 0) -> dict[str, int]:
    """Figures for one writer, in a fresh temporary folder."""
    _single_threaded()
    with tempfile.TemporaryDirectory(prefix=f"zoo-faults-{writer}-") as tmp:
        start = time.perf_counter()
        figures = FAULTS[writer](Path(tmp), kills, seed)
        figures["seconds"] = round(time.perf_counter() - start, 1)
        return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("writers", nargs="+", help=f"all, or some of {', '.join(WRITERS)}, each optionally WRITER:KILLS")
    parser.add_argument("--kills", type=int, default=5, help="kills per writer that names no count")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    plan = [(w, args.kills) for w in WRITERS] if args.writers == ["all"] else [
        (w, int(n) if n else args.kills) for w, _, n in (item.partition(":") for item in args.writers)]
    unknown = [w for w, _ in plan if w not in WRITERS]
    if unknown:
        parser.error(f"unknown writer(s) {', '.join(unknown)}; choose from {', '.join(WRITERS)}")
    for writer, kills in plan:
        print(json.dumps({"writer": writer, **run(writer, kills, args.seed)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
