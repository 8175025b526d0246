"""``zoo adapt`` and ``zoo adapt-study`` as a user types them: tables out, one-line errors, files written."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from zoo.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from test_adapt_api import MODEL, write_dataset  # noqa: E402

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def renders() -> list:
    from zoo.synth.generate import render_face

    rng = np.random.default_rng(5)
    return [render_face(rng, 128)[:2] for _ in range(16)]


def test_adapt_prints_folds_and_parts_and_writes(tmp_path: Path, renders: list) -> None:
    data = write_dataset(tmp_path / "d", renders, 68)
    out = tmp_path / "mine.pt"
    result = runner.invoke(app, ["adapt", MODEL, "--dataset", str(data), "--out", str(out), "--folds", "3",
                                 "--crop", "jitter", "--backend", "torch"])
    assert result.exit_code == 0, result.output
    for text in ("3-fold CV", "FR@10", "jaw", "mouth", "16 faces (16 jitter crops)", "wrote"):
        assert text in result.output
    assert out.is_file()


def test_adapt_bad_input_is_one_line(tmp_path: Path, renders: list) -> None:
    data = write_dataset(tmp_path / "d", renders[:4], 68)
    result = runner.invoke(app, ["adapt", MODEL, "--dataset", str(data), "--out", str(tmp_path / "x.pt")])
    assert result.exit_code == 1
    assert result.output.count("error:") == 1 and "4 labelled face(s) are too few for 5-fold" in result.output
    assert not (tmp_path / "x.pt").exists()
    result = runner.invoke(app, ["adapt", MODEL, "--dataset", str(data), "--iod", "36"])
    assert result.exit_code == 1 and "give two point indices" in result.output


def test_adapt_study_writes_csv_doc_and_plot(tmp_path: Path, renders: list) -> None:
    data = write_dataset(tmp_path / "d", renders, 68)
    doc = tmp_path / "page.md"
    doc.write_text("intro\n<!-- zoo:table:adapt -->\nold\n<!-- /zoo:table:adapt -->\nend\n")
    csv, plot = tmp_path / "adapt.csv", tmp_path / "adapt.png"
    args = ["adapt-study", MODEL, "--dataset", str(data), "--sizes", "6,8", "--held-out", "6", "--draws", "2",
            "--folds", "3", "--crop", "jitter", "--backend", "torch", "--csv", str(csv), "--doc", str(doc),
            "--plot", str(plot)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = doc.read_text()
    assert text.startswith("intro\n") and text.endswith("end\n") and "\nold\n" not in text
    assert "| lw-relu6-affine-cls |" in text and "fit on 6 | fit on 8" in text
    assert len(csv.read_text().splitlines()) == 1 + 3 and plot.stat().st_size > 1000
    before = csv.read_text()
    result = runner.invoke(app, [*args[:-6], "--csv", str(csv), "--doc", str(tmp_path / "none.md"), "--plot", str(plot)])
    assert result.exit_code == 1 and "no <!-- zoo:table:adapt -->" in result.output
    assert csv.read_text() == before  # refused before anything was written
