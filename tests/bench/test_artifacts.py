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
