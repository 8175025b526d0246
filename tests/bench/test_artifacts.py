"""bench.artifacts: what a model argument means, and fdfat's peers found and named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import artifacts


def test_peer_labels_from_fdfat_folder_names() -> None:
    assert artifacts.peer_label(Path("x/LWModel_ReLU6_affine_cls/best.pt")) == "fdfat-lw"
    assert artifacts.peer_label(Path("x/LWCSPModel_SiLU_affine_facecls/best.pt")) == "fdfat-lwcsp"
    assert artifacts.peer_label(Path("x/MyRun/best.pt"), "lwcsp") == "fdfat-lwcsp"
    assert artifacts.peer_label(Path("x/My Run/best.pt")) == "fdfat-my-run"


def test_unknown_peer_lists_the_known_ones(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZOO_SHARED", str(tmp_path))
    assert artifacts.discover_peers() == []
    with pytest.raises(FileNotFoundError, match="known peers: none"):
        artifacts.resolve_peer("fdfat-lw")


def test_shared_peers_are_discovered(fdfat_dir: Path) -> None:
    labels = sorted(artifacts.peer_label(p) for p in artifacts.discover_peers(fdfat_dir))
    assert labels == ["fdfat-lw", "fdfat-lwcsp"]


def test_artifact_dirs_separate_backend_and_precision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    src = artifacts.ModelSource("m", None, "ab" * 32)
    a, b = artifacts.artifact_dir(src, "onnx", "fp32"), artifacts.artifact_dir(src, "onnx", "int8")
    assert a != b and a.parent == b.parent and str(a).startswith(str(tmp_path))


def test_a_cached_drifting_export_is_refused_unless_drift_is_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``zoo eval`` keeps exports past their parity limit (it scores what a conversion costs); ``zoo bench`` shares
    the cache and must still report them refused, whichever command ran first."""
    from types import SimpleNamespace

    import zoo.backends
    from bench import harness
    from zoo.backends import ParityError

    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    src = artifacts.ModelSource("m", None, "ab" * 32)
    out = artifacts.artifact_dir(src, "tflite", "int8")
    out.mkdir(parents=True)
    (out / "model.tflite").write_bytes(b"x")
    (out / "artifact.path").write_text(str(out / "model.tflite"))
    parity = {"passed": False, "nme_difference": 10.93, "nme_limit": 3.0}
    kept = SimpleNamespace(path=out / "model.tflite", manifest={"precision": "int8", "drift": True, "parity": parity,
                                                                 "calibration": {"source": "synth"},
                                                                 "recipe": zoo.backends.get_backend("tflite").RECIPE})
    monkeypatch.setattr(zoo.backends, "load_artifact", lambda path: kept)
    assert artifacts.ensure_artifact(src, "tflite", "int8", allow_drift=True) is kept  # eval scores it
    with pytest.raises(ParityError) as refused:
        artifacts.ensure_artifact(src, "tflite", "int8")
    assert refused.value.parity["nme_difference"] == 10.93
    config = harness.Config(source=src, backend="tflite", precision="int8", threads=1)
    assert harness.prepare(config).status == "refused: parity (NME +10.9)"
    kept.manifest["drift"] = False  # a sound export is reused as before
    assert artifacts.ensure_artifact(src, "tflite", "int8") is kept
