"""Malformed dataset files: annotation readers, metadata, dataset YAML and images either give their
data or a one-line DatasetError naming the file, never another exception (issue 24, part 3).
Through ``zoo data check`` and ``zoo predict`` the same files give a non-zero exit and no traceback.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from datafiles import face_points, noise_image, write_fs
from fuzzing import FUZZ
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from zoo.data.check import check_dataset, image_problem
from zoo.data.formats import (
    DatasetError,
    load_dataset_yaml,
    parse_dataset_yaml,
    read_ldmks,
    read_meta,
    read_pts,
)
from zoo.data.images import decode

runner = CliRunner()


def _tmp(data: bytes | str, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return Path(name)


def _points_or_refusal(read, path: Path) -> None:  # noqa: ANN001 - a reader function
    """The property of both annotation readers: a face's worth of finite points, or one line naming the file."""
    try:
        pts = read(path)
    except DatasetError as e:
        assert "\n" not in str(e) and str(path) in str(e), str(e)
        return
    assert pts.dtype == np.float32 and pts.shape in ((68, 2), (70, 2)) and np.isfinite(pts).all()


tokens = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**40, 10**40).map(str),
                   st.sampled_from(["nan", "inf", "-inf", "1e999", "x", "{", "}", "n_points:", "version: 1", "", "\0"]))
lines = st.lists(st.lists(tokens, max_size=3).map(" ".join), max_size=80).map("\n".join)


@FUZZ
@given(data=st.binary(max_size=2048) | lines)
def test_ldmks_reader(data: bytes | str) -> None:
    path = _tmp(data, "_ldmks.txt")
    try:
        _points_or_refusal(read_ldmks, path)
    finally:
        path.unlink()


@FUZZ
@given(data=st.binary(max_size=2048) | lines.map(lambda body: "version: 1\nn_points: 68\n{\n" + body + "\n}\n") | lines)
def test_pts_reader(data: bytes | str) -> None:
    path = _tmp(data, ".pts")
    try:
        _points_or_refusal(read_pts, path)
    finally:
        path.unlink()


@pytest.mark.parametrize(("edit", "words"), [
    (lambda p: p[:69], "wrong point count: 69"), (lambda p: p[:5], "wrong point count: 5"),
    (lambda p: np.concatenate([p, p[:1]]), "wrong point count: 71"),
    (lambda p: np.where(np.arange(70)[:, None] == 3, np.nan, p), "NaN or infinite"),
    (lambda p: np.where(np.arange(70)[:, None] == 3, np.inf, p), "NaN or infinite"),
    (lambda p: p * 1e30, "not pixels of any image"),
    (lambda p: p.astype(np.float64) * 1e300, "not pixels of any image"),  # beyond float32: checked before the cast
])
def test_named_bad_points(edit, words: str, tmp_path: Path) -> None:  # noqa: ANN001 - a lambda
    pts = edit(face_points())
    write_fs(tmp_path, "face", pts)
    with pytest.raises(DatasetError, match=words):
        read_ldmks(tmp_path / "face_ldmks.txt")
    body = "".join(f"{float(x) + 1!r} {float(y) + 1!r}\n" for x, y in pts)
    (tmp_path / "face.pts").write_text(f"version: 1\nn_points: {len(pts)}\n{{\n{body}}}\n")
    with pytest.raises(DatasetError, match=words):
        read_pts(tmp_path / "face.pts")


@FUZZ
@given(data=st.binary(max_size=512) | st.text(max_size=200) | st.just("[" * 100_000))
def test_meta_reader(data: bytes | str) -> None:
    path = _tmp(data, "_meta.json")
    try:
        assert isinstance(read_meta(path), dict)
    except DatasetError as e:
        assert "\n" not in str(e) and str(path) in str(e)
    finally:
        path.unlink()


yaml_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(
    ["list.txt", "imgs", "a.png", "/nonexistent/x", "base\0path", "."]),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(["train", "val", "x"]), kids, max_size=3),
    max_leaves=10)
yaml_docs = st.dictionaries(st.sampled_from(["base_path", "train", "val", "test", "negatives", "other"]), yaml_values)


@FUZZ
@given(doc=yaml_docs, raw=st.none() | st.binary(max_size=300) | st.text(max_size=300))
def test_dataset_yaml(doc: dict, raw: bytes | str | None, tmp_path: Path) -> None:
    """Structured documents (every key, odd values) and raw text or bytes; list files as text or as binary."""
    import yaml

    (tmp_path / "imgs").mkdir(exist_ok=True)
    (tmp_path / "list.txt").write_bytes(b"a.png\n\xff\xfe\x00binary\n" if raw is None else b"a.png\n# c\n\nb.png\n")
    path = tmp_path / "data.yaml"
    if raw is None:
        path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    else:
        path.write_bytes(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    for read in (parse_dataset_yaml, lambda p: load_dataset_yaml(p, "train", negatives=True, skip_bad=True),
                 lambda p: load_dataset_yaml(p, "val"), lambda p: check_dataset(p, reuse=False)):
        try:
            read(path)
        except DatasetError as e:
            assert "\n" not in str(e), str(e)


def test_deeply_nested_yaml(tmp_path: Path) -> None:
    """PyYAML parses nesting recursively: 2000 open brackets exhaust the stack (a RecursionError, not a YAMLError)."""
    path = tmp_path / "data.yaml"
    path.write_text("train: " + "[" * 2000)
    with pytest.raises(DatasetError, match="not valid YAML"):
        parse_dataset_yaml(path)


def _image_cases(folder: Path) -> dict[str, Path]:
    """The issue's list of awkward images, written for real."""
    rgb = noise_image(seed=3)
    cases = {}
    cv2.imwrite(str(folder / "ok.png"), rgb)
    cv2.imwrite(str(folder / "ok.jpg"), rgb)
    (folder / "empty.png").write_bytes(b"")
    for name in ("ok.png", "ok.jpg"):
        data = (folder / name).read_bytes()
        (folder / f"cut-{name}").write_bytes(data[: len(data) // 2])
        cases[f"truncated {name[3:]}"] = folder / f"cut-{name}"
    cv2.imwrite(str(folder / "one.png"), rgb[:1, :1])
    cv2.imwrite(str(folder / "u16.png"), rgb.astype(np.uint16) * 257)
    Image.fromarray(rgb).convert("CMYK").save(folder / "cmyk.jpg")
    frames = [Image.fromarray(np.roll(rgb, 7 * i, axis=1)) for i in range(3)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=40, loop=0)
    (folder / "text.png").write_text("not an image")
    cases.update({"empty": folder / "empty.png", "1x1": folder / "one.png", "16-bit": folder / "u16.png",
                  "CMYK JPEG": folder / "cmyk.jpg", "animated GIF": folder / "anim.gif", "text": folder / "text.png"})
    return cases


REFUSED = {"empty", "truncated png", "truncated jpg", "text"}


def test_awkward_images(tmp_path: Path) -> None:
    """Decodable ones come out 8-bit BGR; empty, truncated and non-images are refused, by the loader and the checker."""
    for what, path in _image_cases(tmp_path).items():
        problem, _ = image_problem(path)
        if what in REFUSED:
            with pytest.raises(DatasetError, match=str(path)):
                decode(path)
            assert problem, what
        else:
            image = decode(path)
            assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, what
            assert problem is None, (what, problem)


@FUZZ
@given(data=st.binary(max_size=1024), prefix=st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a",
                                                               b"BM", b"RIFF\0\0\0\0WEBP"]))
def test_image_bytes(data: bytes, prefix: bytes) -> None:
    path = _tmp(prefix + data, ".png")
    try:
        problem, size = image_problem(path)
        try:
            image = decode(path)
            assert image.dtype == np.uint8 and image.shape[2] == 3
        except DatasetError as e:
            assert "\n" not in str(e) and problem
    finally:
        path.unlink()


def test_awkward_images_through_the_cli(tmp_path: Path) -> None:
    """``zoo data check`` lists each refused image and exits 1; ``zoo predict`` refuses each with one line."""
    from zoo.cli import app

    cases = _image_cases(tmp_path)
    pts = face_points()
    for path in cases.values():
        np.savetxt(path.with_name(path.stem + "_ldmks.txt"), pts, fmt="%.3f")
    (tmp_path / "data.yaml").write_text("base_path: .\ntrain: [" + ", ".join(p.name for p in cases.values()) + "]\n")
    result = runner.invoke(app, ["data", "check", str(tmp_path / "data.yaml")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    for what in REFUSED:
        assert cases[what].name in result.output, what
    for what in sorted(REFUSED):
        result = runner.invoke(app, ["predict", str(cases[what]), "-m", "lw-relu6", "--box", "0,0,10,10"])
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.output
