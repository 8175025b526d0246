"""bench.harness: a benchmark of a small model writes complete, well-typed latency rows."""

from __future__ import annotations

import json
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo.backends
from bench import artifacts, harness, report
from zoo.results import LATENCY_COLUMNS, read_table


@dataclass
class FakeArtifact:
    path: Path
    manifest: dict
    manifest_path: Path


def _fake_backend() -> types.ModuleType:
    """A torch-backed stand-in with the backend interface (export/load/Runtime.run), so the harness is
    tested on its own; the real backends are tested in tests/backends."""
    mod = types.ModuleType("fake_backend")
    mod.exports = 0

    def export(model, out_dir, precision, calib):
        mod.exports += 1
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "model.pt"
        torch.save(model.state_dict(), path)
        manifest = {"backend": "fake", "precision": precision, "variant": model.spec.name}
        (out_dir / "model.json").write_text(json.dumps(manifest))
        return FakeArtifact(path, manifest, out_dir / "model.json")

    def load(artifact, threads):
        from zoo.architectures import create_model

        model = create_model(artifact.manifest["variant"]).eval()
        model.load_state_dict(torch.load(artifact.path, weights_only=True))

        class Runtime:
            def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
                with torch.no_grad():
                    return {k: v.numpy() for k, v in model(torch.from_numpy(batch)).items()}

        return Runtime()

    mod.export, mod.load = export, load
    return mod


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> types.ModuleType:
    backend = _fake_backend()
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))

    def load_artifact(path):
        path = Path(path)
        manifest = path.with_name("model.json")
        return FakeArtifact(path, json.loads(manifest.read_text()), manifest)

    monkeypatch.setattr(zoo.backends, "get_backend", lambda name: backend, raising=False)
    monkeypatch.setattr(zoo.backends, "info", lambda name: types.SimpleNamespace(precisions=("fp32", "int8")), raising=False)
    monkeypatch.setattr(zoo.backends, "load_artifact", load_artifact, raising=False)
    monkeypatch.setattr(zoo.backends, "MissingExtraError", type("MissingExtraError", (ImportError,), {}), raising=False)
    return backend


def test_bench_writes_complete_typed_rows(fake: types.ModuleType, tmp_path: Path) -> None:
    source = artifacts.from_variant("lw-relu6-w0.5")
    assert source.random_init and len(source.sha256) == 64
    assert artifacts.from_variant("lw-relu6-w0.5").sha256 == source.sha256, "random init is saved once and reused"
    configs = harness.run_benchmark([source], ["fake", "coreml"], ["fp32"], [1, 2], batch=1, runs=12, warmup=2, block=5)
    assert fake.exports == 1, "one export serves every thread count"
    rows = [harness.to_row(c) for c in configs]
    report.save_rows(rows, tmp_path)
    table = {(r["backend"], r["threads"]): r for r in read_table("latency", tmp_path)}
    assert set(table) == {("fake", 1), ("fake", 2), ("coreml", 1), ("coreml", 2)}
    row = table[("fake", 1)]
    assert set(LATENCY_COLUMNS) <= set(row)
    for col in ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "min_ms", "std_ms"):
        assert isinstance(row[col], float) and row[col] > 0
    assert row["min_ms"] <= row["p50_ms"] <= row["p90_ms"] <= row["p99_ms"]
    assert row["runs"] == 12 and row["threads"] == 1 and row["batch"] == 1 and row["input_size"] == 96
    assert row["params"] == 170_677 and row["flops"] > 1e7 and row["size_bytes"] > 100_000
    assert row["peer"] is False and row["status"] == "ok" and len(row["artifact_sha256"]) == 64
    assert row["checkpoint_sha256"] == source.sha256 and row["cores"] >= 1 and row["date"]
    mac = table[("coreml", 1)]
    assert mac["status"] == "needs macOS" and mac["p50_ms"] is None and mac["runs"] == 0


def test_failed_rows_never_replace_measured_ones(tmp_path: Path) -> None:
    key = {"host": "h", "backend": "onnx", "device": "cpu", "variant": "v", "precision": "fp32", "threads": 1, "batch": 1,
           "input_size": 96, "task": "latency"}
    report.save_rows([{**key, "p50_ms": 1.0, "status": "ok"}], tmp_path)
    report.save_rows([{**key, "p50_ms": None, "status": "missing extra"}], tmp_path)
    assert read_table("latency", tmp_path)[0]["p50_ms"] == 1.0
    report.save_rows([{**key, "p50_ms": None, "status": "refused: parity (NME +21.2)"}], tmp_path)  # a verdict: it replaces
    row = read_table("latency", tmp_path)[0]
    assert row["status"] == "refused: parity (NME +21.2)" and row["p50_ms"] is None


def test_round_robin_rotates_and_fills_every_config() -> None:
    calls: list[str] = []

    class Rt:
        def __init__(self, name: str) -> None:
            self.name = name

        def run(self, x: np.ndarray) -> dict:
            calls.append(self.name)
            return {}

    src = artifacts.ModelSource("m", Path("x"), "0" * 64)
    configs = [harness.Config(src, b, "fp32", 1, runtime=Rt(b), info={"input_size": 8}) for b in ("a", "b")]
    harness.measure(configs, runs=4, warmup=1, block=2)
    assert [len(c.times_ns) for c in configs] == [4, 4]
    # warm-up a, b; round 0: a (1 untimed + 2), b (...); round 1 starts with b
    assert calls[:2] == ["a", "b"] and calls[2:5] == ["a"] * 3 and calls[8:11] == ["b"] * 3


def test_track_task_times_crop_run_decode(fake: types.ModuleType) -> None:
    source = artifacts.from_variant("lw-relu6-w0.5")
    config = harness.prepare(harness.Config(source, "fake", "fp32", 1, info={"input_size": 96}))
    pts = harness.make_call(config, "pipeline", np.random.default_rng(0))()
    assert pts.shape == (70, 2) and (pts[:, 0].min() > 220 - 100) and (pts[:, 0].max() < 420 + 100)
    harness.measure([config], runs=3, warmup=1, task="pipeline")
    row = harness.to_row(config, task="pipeline")
    assert row["task"] == "pipeline" and row["runs"] == 3 and row["p50_ms"] > 0


def test_progress_display_never_changes_what_is_timed(fake: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = harness.make_call
    monkeypatch.setattr(harness, "make_call", lambda c, task, rng: seen.append(task) or real(c, task, rng))
    lines: list[str] = []
    source = artifacts.from_variant("lw-relu6-w0.5")
    configs = harness.run_benchmark([source], ["fake"], ["fp32"], [1], 1, 4, 1, 2, report.LineProgress(lines.append))
    assert seen == ["latency"] and len(configs[0].times_ns) == 4
    assert lines[-1].endswith("4/4")
    with pytest.raises(ValueError, match="unknown bench task"):
        harness.make_call(configs[0], "nope", np.random.default_rng(0))


def test_refused_export_is_a_short_status(monkeypatch: pytest.MonkeyPatch) -> None:
    """An int8 export that fails its parity limit becomes a table-sized status, not a crash or a paragraph."""
    from zoo.backends import ParityError

    def refuse(*args, **kwargs):
        raise ParityError("tflite int8 export of x drifts from torch: ... a long line ...", {"nme_difference": 10.93})

    monkeypatch.setattr(harness, "ensure_artifact", refuse)
    config = harness.Config(source=artifacts.from_variant("lw-relu6-w0.5"), backend="tflite", precision="int8", threads=1)
    assert harness.prepare(config).status == "refused: parity (NME +10.9)"
