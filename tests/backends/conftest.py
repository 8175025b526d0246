"""Shared pieces of the backend tests: one small random-weight model, one calibration batch,
and exports made once per session (conversion is the slow part, so tests share its results)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from zoo.architectures import create_model
from zoo.backends.calibration import Calibration, calibration_set

VARIANT = "lw-relu6-w0.5-affine-cls"


@pytest.fixture(scope="session")
def small_model():
    """Seeded random weights, BatchNorm in eval: parity is meaningful, landmarks are not."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = create_model(VARIANT).eval()
    return model


@pytest.fixture(scope="session")
def calib() -> Calibration:
    """Rendered crops when the renderer works (else the documented random fallback), 8 of them."""
    return calibration_set(96, 8)


class Exports:
    """Export each (backend, precision) at most once per test session."""

    def __init__(self, root: Path, model, calib: Calibration) -> None:
        self.root, self.model, self.calib, self.done = root, model, calib, {}

    def get(self, backend: str, precision: str):
        from zoo.backends import get_backend

        key = (backend, precision)
        if key not in self.done:
            self.done[key] = get_backend(backend).export(self.model, self.root / f"{backend}-{precision}", precision, self.calib)
        return self.done[key]


@pytest.fixture(scope="session")
def exports(tmp_path_factory, small_model, calib) -> Exports:
    return Exports(tmp_path_factory.mktemp("exports"), small_model, calib)


def one_line_error(result, needle: str) -> None:
    """A CliRunner result that failed with exactly one ``error: ...`` line containing ``needle``."""
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    text = result.output.strip()
    assert "Traceback" not in text and len(text.splitlines()) == 1 and text.startswith("error:"), text
    assert needle in text, text


def torch_outputs(model, batch: np.ndarray) -> dict[str, np.ndarray]:
    with torch.inference_mode():
        return {k: v.numpy() for k, v in model(torch.from_numpy(batch)).items()}


def check_manifest(artifact, backend: str, precision: str, layout: str = "NCHW") -> None:
    """The DESIGN.md section 4 fields every manifest must carry."""
    m = artifact.manifest
    assert m["backend"] == backend and m["precision"] == precision
    assert m["variant"] == VARIANT and len(m["checkpoint_sha256"]) == 64
    assert m["input"]["layout"] == layout and m["input"]["size"] == 96 and m["input"]["color"] == "RGB"
    assert m["input"]["normalization"]["mean"] == 127.5 and m["input"]["normalization"]["std"] == 127.5
    assert list(m["outputs"]) == ["landmarks", "face_score"]
    assert m["outputs"]["landmarks"]["shape"] == [-1, 70, 2]
    assert m["zoo_version"] and m["calibration"]["images"] == 8
    assert "parity" in m and artifact.manifest_path.is_file()


def check_parity(artifact, precision: str) -> None:
    """Limits of the issue: fp32 <= 1e-4, fp16 <= 2e-3 (max abs error), NME difference recorded for all."""
    p = artifact.manifest["parity"]
    assert p["measured"] and p["passed"]
    limit = {"fp32": 1e-4, "fp16": 2e-3, "int8": None}[precision]
    assert p["limit"] == limit
    if limit:
        assert p["max_abs_error_landmarks"] <= limit and max(p["max_abs_error"].values()) <= limit
    else:  # int8: recorded, and still in the ballpark of the model (not garbage)
        assert p["max_abs_error_landmarks"] < 0.1
    assert p["nme_vs_torch"] is not None
    if artifact.manifest["calibration"]["labelled"]:
        assert p["nme_difference"] is not None and abs(p["nme_difference"]) < 5.0
