"""bench.tables: README sections regenerate from results/ idempotently; missing markers are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.tables import TablesError, accuracy_table, main, replace_section, tracking_table, update_readme
from zoo.results import write_table
from zoo.synth import RENDER_VERSION

README = """# fixture

intro text stays

<!-- zoo:table:choose -->
<!-- /zoo:table:choose -->

<!-- zoo:table:latency -->
old latency
<!-- /zoo:table:latency -->

middle

<!-- zoo:table:accuracy -->
<!-- /zoo:table:accuracy -->

<!-- zoo:table:hardware -->
<!-- /zoo:table:hardware -->

<!-- zoo:table:tracking -->
<!-- /zoo:table:tracking -->

<!-- zoo:table:transfer -->
<!-- /zoo:table:transfer -->

tail
"""


def _results(root: Path) -> None:
    base = {"cpu": "Test CPU", "cores": 2, "os": "Linux", "device": "cpu", "batch": 1, "input_size": 96, "task": "latency",
            "runs": 300, "date": "2026-11-25T12:00:00+00:00", "params": 429206, "flops": 66_400_000}
    rows = []
    for variant, peer, ms in (("lw-relu6-affine-cls", False, 0.8), ("fdfat-lw", True, 0.9)):
        for backend in ("onnx", "tflite"):
            for threads in (1, 2):
                rows.append({**base, "host": "h1", "backend": backend, "variant": variant, "precision": "fp32",
                             "threads": threads, "p50_ms": ms / threads, "peer": peer, "status": "ok"})
    rows.append({**base, "host": "h1", "backend": "coreml", "variant": "lw-relu6-affine-cls", "precision": "fp32", "threads": 1,
                 "peer": False, "status": "needs macOS"})
    rows.append({**base, "host": "h2", "backend": "onnx", "variant": "lw-relu6-affine-cls", "precision": "fp32", "threads": 1,
                 "p50_ms": 0.3, "peer": False, "cpu": "Other CPU"})
    write_table("latency", rows, root)
    acc = {"checkpoint_sha256": "abcdef0123", "dataset": "lfpw-train", "split": "test", "images": 805, "nme": 6.5,
           "nme_yaw_le30": 6.4, "nme_yaw_30_40": 10.8, "faces_yaw_le30": 786, "faces_yaw_30_40": 19, "faces_yaw_gt40": 0,
           "auc10": 0.35, "fr10": 0.046, "peer": True, "variant": "fdfat-lw"}
    write_table("accuracy", [{**acc, "backend": "onnx", "precision": "fp32"},
                             {**acc, "backend": "onnx", "precision": "int8", "nme": 6.7}], root)


def test_tables_render_and_are_idempotent(tmp_path: Path) -> None:
    _results(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(README)
    assert update_readme(readme, tmp_path) is True
    first = readme.read_text()
    assert update_readme(readme, tmp_path) is False
    assert readme.read_text() == first
    assert "old latency" not in first and "intro text stays" in first and first.endswith("tail\n")
    assert "| `lw-relu6-affine-cls` | 429,206 | 66.4 | 0.800 / 0.400 |" in first
    assert "0.400 onnx fp32 2t (0.44x) |" in first  # fastest, against fdfat-lw onnx fp32 1 thread (0.9 ms)
    assert "fdfat-lw *(fdfat)*" in first and "needs macOS" in first
    assert "| 6.50 | 6.40 (786) | 10.80 (19) | - (0) |" in first
    assert "Backend parity" in first and "| abcdef01 | 6.50 | 6.70 |" in first  # a re-shipped variant: one row per checkpoint
    hardware = first.split("<!-- zoo:table:hardware -->")[1]
    assert "| fastest p50 ms (configuration) | h1 | h2 |" in hardware and "Other CPU" in hardware


def test_missing_marker_is_an_error(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README.replace("<!-- /zoo:table:hardware -->\n", ""))
    with pytest.raises(TablesError, match=r"/zoo:table:hardware --> is missing"):
        update_readme(readme, tmp_path)
    assert main([str(readme), "--results", str(tmp_path)]) == 1
    with pytest.raises(TablesError, match="appears 2 times"):
        replace_section(README + "<!-- zoo:table:latency -->", "latency", "x")


def test_empty_results_say_how_to_fill_them(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README)
    update_readme(readme, tmp_path / "nothing")
    assert "run `nox -s bench`" in readme.read_text()


def test_tracking_table_shows_current_clips_and_real_photos_only(tmp_path: Path) -> None:
    base = {"host": "h1", "backend": "onnx", "precision": "fp32", "threads": 1, "filter": "oneeuro", "seed": 0,
            "renderer": "synth", "p50_frame_ms": 2.0}
    cur, old = f"synth-v{RENDER_VERSION}", f"synth-v{RENDER_VERSION - 1}"
    rows = [
        {**base, "variant": "lw-relu6-affine-cls", "detector": "hog", "model": "lw-relu6-affine-cls.pt", "scenario": "hand_pass",
         "video": f"{cur}:hand_pass:n150:s0", "nme_mean": 6.768, "frames_lost": 32, "id_switches": 0},
        {**base, "variant": "lw-relu6-affine-cls", "detector": "hog", "model": "lw-relu6-affine-cls.pt", "scenario": "crossing",
         "video": f"{cur}:crossing:n150:s0", "nme_mean": 4.5, "frames_lost": 0, "id_switches": 2, "p50_frame_ms": 4.0},
        {**base, "variant": "lw-relu6-affine-cls", "detector": "hog", "model": "lw-relu6-affine-cls.pt", "scenario": "crossing",
         "video": f"{old}:crossing:n150:s0", "nme_mean": 99.0, "frames_lost": 0, "id_switches": 0},  # an older renderer
        {**base, "variant": "lw-relu6-affine-cls", "detector": "gt", "model": "fdfat-lw.pt", "scenario": "lfpw-train-pan",
         "video": "real:lfpw-train-pan:p10:n90:s0", "nme_mean": 6.5, "frames_lost": 0, "id_switches": 0},
    ]
    write_table("tracking", rows, tmp_path)  # through the CSV: the numbers must come back typed
    table = tracking_table(tmp_path)
    assert "99.00" not in table and f"renderer version {RENDER_VERSION}" in table
    assert "| hand_pass | crossing | real photos | frame ms | host |" in table  # scenario order, then the photos
    assert "| `lw-relu6-affine-cls` | hog, onnx fp32 1t, oneeuro | 6.77, 32 lost | 4.50, 2 id switches |  | 3.00 | h1 |" in table
    assert "| `lw-relu6-affine-cls` (fdfat-lw.pt) | gt, onnx fp32 1t, oneeuro |  |  | 6.50 | 2.00 | h1 |" in table
    assert "run `zoo bench --task track`" in tracking_table(tmp_path / "nothing")


def test_accuracy_table_hides_older_renderer_versions(tmp_path: Path) -> None:
    row = {"checkpoint_sha256": "abcdef0123", "split": "test", "images": 1800, "faces_yaw_le30": 614, "faces_yaw_30_40": 204,
           "faces_yaw_gt40": 982, "peer": False, "variant": "lw-relu6-affine-cls", "backend": "onnx", "precision": "fp32"}
    write_table("accuracy", [{**row, "dataset": f"synth-v{RENDER_VERSION}", "nme": 9.94},
                             {**row, "dataset": f"synth-v{RENDER_VERSION - 1}", "nme": 77.7},  # an older renderer
                             {**row, "dataset": f"synth-n500-v{RENDER_VERSION - 1}", "nme": 88.8},
                             {**row, "dataset": "lfpw-train", "nme": 8.54}], tmp_path)
    table = accuracy_table(tmp_path)
    assert f"synth-v{RENDER_VERSION} (test)" in table and "9.94" in table and "8.54" in table
    assert "77.70" not in table and "88.80" not in table


def test_every_table_has_a_page_and_the_pages_hold_exactly_their_markers() -> None:
    """README keeps only the model-choice table; the benchmark tables live on docs/benchmarks.md."""
    from bench.tables import PAGES, TABLE_NAMES, tables_in

    here = Path(__file__).resolve().parents[2]
    assert {n for names in PAGES.values() for n in names} == set(TABLE_NAMES)
    for page, names in PAGES.items():
        assert tables_in(here / page) == tuple(n for n in TABLE_NAMES if n in names), page
    assert tables_in(here / "README.md") == ("choose",)


def test_main_without_arguments_updates_every_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _results(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("# r\n<!-- zoo:table:choose -->\n<!-- /zoo:table:choose -->\n")
    (tmp_path / "docs" / "models.md").write_text("# m\n<!-- zoo:table:choose -->\n<!-- /zoo:table:choose -->\n")
    bench_page = tmp_path / "docs" / "benchmarks.md"
    bench_page.write_text(README.replace("<!-- zoo:table:choose -->\n<!-- /zoo:table:choose -->\n", "")
                          .replace("<!-- zoo:table:transfer -->\n<!-- /zoo:table:transfer -->\n", ""))
    (tmp_path / "docs" / "transfer.md").write_text("# t\n<!-- zoo:table:transfer -->\n<!-- /zoo:table:transfer -->\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--results", str(tmp_path)]) == 0
    assert "| `lw-relu6-affine-cls` | 429,206 | 66.4 |" in bench_page.read_text()
    assert "zoo:table:latency" not in (tmp_path / "README.md").read_text()
    first = bench_page.read_text()
    assert main(["--results", str(tmp_path)]) == 0 and bench_page.read_text() == first
    (tmp_path / "plain.md").write_text("# no markers\n")
    assert main(["plain.md", "--results", str(tmp_path)]) == 1
    assert main(["docs/models.md", "--results", str(tmp_path)]) == 0


def test_latency_notes_give_the_int8_speed_up_and_where_to_read_why(tmp_path: Path) -> None:
    from bench.tables import latency_table

    base = {"host": "h1", "cpu": "Test CPU", "cores": 2, "os": "Linux", "device": "cpu", "batch": 1, "input_size": 96,
            "task": "latency", "peer": False, "variant": "lw-relu6-affine-cls"}
    rows = [{**base, "backend": b, "precision": p, "threads": t, "p50_ms": ms}
            for b, p, t, ms in (("onnx", "fp32", 1, 0.42), ("onnx", "int8", 1, 0.30), ("onnx", "int8", 2, 0.1),
                                ("tflite", "fp32", 1, 0.36), ("tflite", "int8", 1, 0.40), ("openvino", "fp32", 1, 0.5))]
    write_table("latency", rows, tmp_path)
    table = latency_table(tmp_path)
    assert "onnx: `lw-relu6-affine-cls` 1.40; tflite: `lw-relu6-affine-cls` 0.90." in table  # 1 thread only
    assert "openvino:" not in table  # no int8 row, no ratio
    assert "(export.md#int8-speed-by-runtime)" in table
    write_table("latency", [r for r in rows if r["precision"] == "fp32"], tmp_path / "fp32")
    assert "int8 speed-up" not in latency_table(tmp_path / "fp32")
