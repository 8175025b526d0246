"""``zoo export`` and ``zoo predict``; ``zoo.cli`` calls ``register(app)``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from zoo.console import fail  # escapes rich markup, so ``zoo[openvino]`` prints as typed

FORMAT_HELP = "onnx, openvino, tflite, coreml, torch, or all (comma-separated list allowed)."


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``predict`` to the ``zoo`` app."""
    app.command("export")(export_cmd)
    app.command("predict")(predict_cmd)


def _split(value: str, allowed: tuple[str, ...], what: str) -> list[str]:

    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        fail(f"unknown {what} {', '.join(bad) or repr(value)}; choose from {', '.join(allowed)}")
    return items


def export_cmd(
    model: Annotated[str | None, typer.Argument(help="Variant name or zoo checkpoint (.pt).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "onnx",
    precision: Annotated[str, typer.Option("--precision", "-p", help="fp32, fp16 or int8 (comma-separated allowed).")] = "fp32",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: OUT/<variant>/<backend>-<precision>/.")]
    = Path("exports"),
    allow_drift: Annotated[bool, typer.Option("--allow-drift", help="Keep an export whose parity is beyond the limit "
                                                                    "(the manifest is marked).")] = False,
    calib_data: Annotated[Path | None, typer.Option("--calib-data", help="Dataset YAML whose val faces calibrate int8 and "
                                                                         "measure parity (default: rendered faces).")] = None,
    calib_count: Annotated[int, typer.Option("--calib-count", help="Calibration crops.")] = 32,
    force: Annotated[bool, typer.Option("--force", help="Re-export even when an identical export exists.")] = False,
    from_onnx: Annotated[Path | None, typer.Option("--from-onnx", help="Wrap an ONNX file zoo did not make (not copied).")]
    = None,
    outputs: Annotated[str, typer.Option("--outputs", help="Output preset of --from-onnx (fdfat70).")] = "fdfat70",
    name: Annotated[str | None, typer.Option("--name", help="Label of a --from-onnx model (default: its folder).")] = None,
) -> None:
    """Export a variant or checkpoint to deployable formats, with a manifest and parity measured against torch."""
    from zoo.backends import BACKENDS, EXPORT_ALL, PRECISIONS, BackendError, MissingExtraError, ensure_available
    from zoo.console import console

    if from_onnx is not None:
        if not from_onnx.is_file():  # before importing onnx and onnxruntime (seconds)
            fail(f"{from_onnx}: no such ONNX file; give the path of a .onnx model to wrap")
        _wrap(from_onnx, outputs, out, name)
        return
    if model is None:
        fail("give a variant name or a checkpoint path (or --from-onnx FILE)")
    check_model_ref(model, "model")
    if calib_data is not None and not calib_data.is_file():
        fail(f"--calib-data {calib_data}: no such dataset YAML; give a YAML with a val split, or leave it out")
    if calib_count < 1:
        fail(f"--calib-count must be at least 1, not {calib_count}")
    if out.exists() and not out.is_dir():
        fail(f"--out {out}: exists and is not a folder; give the folder exports go into")
    formats = _split(fmt, (*BACKENDS, "all"), "format")
    formats = list(dict.fromkeys(b for f in formats for b in (EXPORT_ALL if f == "all" else (f,))))
    precisions = _split(precision, PRECISIONS, "precision")
    if len(formats) == 1:
        try:
            ensure_available(formats[0])
        except MissingExtraError as e:
            fail(str(e))
    try:
        from zoo.backends.calibration import calibration_set
        from zoo.backends.sources import resolve_model

        net = resolve_model(model)
        with console.status("making calibration crops"):
            calib = calibration_set(net.spec.input_size, calib_count, dataset=calib_data)
    except (BackendError, ValueError, OSError) as e:
        fail(str(e).splitlines()[0])
    src = net.zoo_source
    header = (f"{net.spec.name}: {src['kind']} {src.get('path') or ''} sha256 {src['sha256'][:12]}; "
              f"calibration: {calib.source}, {len(calib.images)} crops")
    rows = [_export_one(net, b, p, out, calib, allow_drift, force) for b in formats for p in precisions]
    failed = [r for r in rows if r["status"] not in ("exported", "cached", "drift allowed")]
    if len(rows) == 1 and failed:
        fail(failed[0]["message"])
    from rich.markup import escape

    console.print(escape(header), highlight=False, soft_wrap=True)
    _print_rows(rows)
    if failed:
        fail(f"{len(failed)} of {len(rows)} exports failed: " + "; ".join(f"{r['backend']} {r['precision']}: {r['message']}"
                                                                          for r in failed))


def check_backend(backend: str, precision: str | None = None) -> None:
    """Refuse an unknown backend (and precision, when given) with one line: ``predict``, ``eval`` and ``track``."""
    from zoo.backends import BACKENDS, PRECISIONS

    if backend not in BACKENDS:
        fail(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if precision is not None and precision not in PRECISIONS:
        fail(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")


def check_model_ref(ref: str, option: str) -> None:
    """Refuse at once a model argument that is neither an existing file or folder nor a registered variant.

    The loaders behind it (checkpoint, artifact, shipped weights) give their own one-line errors, but only
    after imports and, for a variant on a backend, an export: a typo should cost a fraction of a second.
    """
    from zoo.predict import ARTIFACT_SUFFIXES  # the suffixes Predictor.from_spec reads as files

    path = Path(ref)
    if path.exists():
        return
    if path.suffix.lower() in (".pt", ".pth", *ARTIFACT_SUFFIXES) or "/" in ref or "\\" in ref:
        fail(f"{option} {ref} not found (no such file or folder); give a variant name, a zoo checkpoint or an exported artifact")
    from zoo.architectures import UnknownVariantError, get_spec

    try:
        get_spec(ref)
    except UnknownVariantError as e:
        fail(f"{option}: {e} (or give a checkpoint or artifact path)")


def _export_one(net: Any, backend: str, precision: str, out: Path, calib: Any, allow_drift: bool, force: bool) -> dict[str, Any]:
    from zoo.backends import BACKENDS, MissingExtraError, ParityError
    from zoo.backends.base import BackendError, parity_summary
    from zoo.backends.sources import export_model
    from zoo.console import console

    row: dict[str, Any] = {"backend": backend, "precision": precision, "parity": None, "seconds": None, "path": "",
                           "message": ""}
    if precision not in BACKENDS[backend].precisions:
        return {**row, "status": "not supported", "message": f"{backend} has no {precision} export"}
    started = time.perf_counter()
    try:
        with console.status(f"exporting {backend} {precision}"):
            art, reused, seconds = export_model(net, backend, precision, out, calib, allow_drift, force)
    except MissingExtraError as e:
        return {**row, "status": "missing extra", "message": str(e)}
    except ParityError as e:
        return {**row, "status": "DRIFT", "parity": e.parity, "seconds": time.perf_counter() - started, "message": str(e)}
    except (BackendError, ValueError, OSError, RuntimeError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return {**row, "status": "failed", "seconds": time.perf_counter() - started, "message": msg}
    parity = art.manifest.get("parity", {})
    status = "cached" if reused else ("drift allowed" if art.manifest.get("drift") else "exported")
    seconds = art.manifest.get("export_seconds") if reused else seconds
    return {**row, "status": status, "parity": parity, "seconds": seconds, "path": str(art.path),
            "message": parity_summary(parity)}


def _fmt(v: Any, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _print_rows(rows: list[dict[str, Any]]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from zoo.console import console

    table = Table(title="exports: parity vs torch on the calibration batch")
    numeric = ("lm err", "other", "dNME pt", "s")
    for col in ("backend", "prec", "status", *numeric):  # fits 80 columns; NME vs torch is in the manifest
        width = 13 if col == "status" else None
        table.add_column(col, justify="right" if col in numeric else "left", no_wrap=True, min_width=width)
    notes = []
    for r in rows:
        p = r["parity"] or {}
        errs = dict(p.get("max_abs_error") or {})
        err = _fmt(errs.pop("landmarks", None), ".2e")
        other = _fmt(max(errs.values()), ".2e") if errs else "-"
        if p and not p.get("measured"):
            err = other = "n/a"
            notes.append(f"{r['backend']} {r['precision']}: {p.get('note')}")
        colour = {"exported": "green", "cached": "green", "drift allowed": "yellow"}.get(r["status"], "red")
        table.add_row(r["backend"], r["precision"], f"[{colour}]{r['status']}[/]", err, other,
                      _fmt(p.get("nme_difference"), "+.4f"), _fmt(r["seconds"], ".1f"))
    console.print(table)
    for r in rows:
        console.print(f"  {r['backend']} {r['precision']}: {escape(r['path'] or r['message'])}", highlight=False, soft_wrap=True)
    for note in notes:
        console.print(f"  note: {escape(note)}", highlight=False, soft_wrap=True)
    console.print("  lm err: landmarks' max abs error vs torch in [-0.5, 0.5] crop units, limits fp32 1e-4, fp16 2e-3, int8 "
                  "reported only; other: face score / pose; dNME: backend NME - torch NME on the labelled calibration crops",
                  highlight=False, soft_wrap=True)


def _wrap(file: Path, outputs: str, out: Path, name: str | None) -> None:
    from zoo.backends.base import BackendError
    from zoo.backends.foreign import wrap_onnx
    from zoo.console import console

    label = name or f"onnx-{Path(file).resolve().parent.name}"
    try:
        art = wrap_onnx(file, outputs, out / label / "onnx-fp32", label)
    except BackendError as e:
        fail(str(e))
    console.print(f"wrapped {art.path} (not copied) as {label}: input {art.manifest['input']['shape']}, "
                  f"outputs {', '.join(art.output_names)}; manifest {art.manifest_path}", highlight=False)


def predict_cmd(
    image: Annotated[Path, typer.Argument(help="Image file.")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Variant name, zoo checkpoint or exported artifact "
                                                                  "(default: the shipped default, zoo/weights/DEFAULT).")] = None,
    backend: Annotated[str, typer.Option("--backend", "-b", help="Backend for a variant/checkpoint (artifacts use their own).")]
    = "onnx",
    precision: Annotated[str, typer.Option("--precision", "-p", help="Precision for a variant/checkpoint.")] = "fp32",
    box: Annotated[str | None, typer.Option("--box", help="Face box x1,y1,x2,y2 in pixels (default: dlib's HOG detector).")]
    = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Annotated PNG to write.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="JSON to write (landmarks, score, pose).")] = None,
    threads: Annotated[int, typer.Option(help="Runtime threads.")] = 1,
    refine: Annotated[int, typer.Option(help="Re-crop passes from the predicted landmarks.")] = 1,
) -> None:
    """Landmarks, face score and head pose for the faces in one image."""
    from zoo.backends import BackendError
    from zoo.console import console
    from zoo.predict import ImageError, detect_faces, draw, read_image, write_png

    boxes = [_parse_box(box)] if box else None
    check_backend(backend, precision)
    if threads < 1 or refine < 0:
        fail(f"--threads must be at least 1 and --refine at least 0, not {threads} and {refine}")
    if model is not None:
        check_model_ref(model, "--model")
    for option, path in (("--out", out), ("--json", json_out)):
        if path is not None and path.is_dir():
            fail(f"{option} {path}: is a folder; give a file name to write")
    try:
        rgb = read_image(image)
    except ImageError as e:
        fail(str(e))
    if boxes is None:
        boxes = detect_faces(rgb)
        if not boxes:
            fail(f"{image}: the face detector (dlib HOG, frontal faces) found no face; give one with --box x1,y1,x2,y2")
    from zoo.api import ZooError, default_model, load
    from zoo.predict import Predictor

    try:  # the Python API's zoo.load(...).predict: the same model resolution and errors (None: the shipped default)
        if Predictor.export_pending(model or default_model(), backend, precision):  # say so before going quiet
            from zoo.console import err_console

            err_console.print(f"first run: exporting the model to {backend} {precision} with parity checked on rendered "
                              "faces (about 30 s; cached for later runs)", highlight=False)
        predictor = load(model, backend, precision, threads).predictor
        preds = [predictor.predict(rgb, b, refine=refine) for b in boxes]  # the boxes are checked and detected above
    except ZooError as e:
        fail(str(e))
    except (BackendError, ValueError, OSError) as e:
        fail(str(e).strip().splitlines()[0])
    for i, p in enumerate(preds):
        pose = f"yaw {p.pose.yaw:+.1f} pitch {p.pose.pitch:+.1f} roll {p.pose.roll:+.1f} deg" if p.pose else "pose n/a"
        score = f"face score {p.face_score:.3f}" if p.face_score is not None else "no face-score head"
        console.print(f"face {i}: {score}; {pose}; box {np.round(p.box, 1).tolist()}", highlight=False)
    if out:
        write_png(out, draw(rgb, preds))
        console.print(f"wrote {out}")
    if json_out:
        manifest = getattr(predictor.runtime, "manifest", {})
        doc = {"image": str(image), "model": predictor.label, "backend": manifest.get("backend"),
               "precision": manifest.get("precision"),
               "image_size": [int(rgb.shape[1]), int(rgb.shape[0])], "faces": [p.to_dict() for p in preds]}
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(doc, indent=1))
        console.print(f"wrote {json_out}")
    elif not out:
        json.dump({"faces": [p.to_dict() for p in preds]}, sys.stdout)
        sys.stdout.write("\n")


def _parse_box(text: str) -> Any:
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 4 or vals[2] <= vals[0] or vals[3] <= vals[1]:
        fail(f"--box {text!r}: expected x1,y1,x2,y2 with x2 > x1 and y2 > y1 (pixels)")
    return np.array(vals, dtype=np.float64)

