"""eval.harness and eval.datasets: the crop round-trips, errors name what is missing, and fdfat's
published figures on the real check sets are reproduced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eval.datasets import EvalDatasetError, dataset_label, load_faces
from eval.harness import crop_face, evaluate, to_image
from eval.metrics import summarize


def test_crop_then_decode_returns_the_same_image_points() -> None:
    from zoo.data.dataset import to_unit

    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, size=(300, 400, 3), dtype=np.uint8)
    pts = rng.uniform(100, 220, size=(68, 2))
    crop, m = crop_face(image, pts, 96)
    assert crop.shape == (3, 96, 96) and crop.dtype == np.float32 and -1 <= crop.min() <= crop.max() <= 1
    units = to_unit(pts @ m[:, :2].T + m[:, 2], 96)
    assert np.allclose(to_image(units, m, 96), pts, atol=1e-3)


def test_dataset_errors_say_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(EvalDatasetError, match="needs --root"):
        load_faces("300w", None, "test")
    with pytest.raises(EvalDatasetError, match="no such folder"):
        load_faces("facesynthetics", tmp_path / "nope", "test")
    with pytest.raises(EvalDatasetError, match="no \\*_ldmks.txt files"):
        load_faces("facesynthetics", tmp_path, "test")
    with pytest.raises(EvalDatasetError, match="no .pts files"):
        load_faces("300w", tmp_path, "test")
    (tmp_path / "a.pts").write_text("version: 1\nn_points: 68\n{\n" + "1 1\n" * 68 + "}\n")
    with pytest.raises(EvalDatasetError, match="have no image beside them \\(e.g. a.jpg\\)"):
        load_faces("300w", tmp_path, "test")
    with pytest.raises(EvalDatasetError, match="unknown dataset"):
        load_faces("imagenet", None, "test")
    assert dataset_label(Path("/x/lfpw-train/faces.yaml")) == "lfpw-train"
    assert dataset_label(Path("/x/y/mine.yaml")) == "mine"


@pytest.mark.parametrize(("peer", "expected"), [("LWModel_ReLU6_affine_cls", 8.10), ("LWCSPModel_SiLU_affine_facecls", 7.92)])
def test_reproduces_fdfat_figures_on_dlib_examples(real_dir: Path, fdfat_dir: Path, peer: str, expected: float) -> None:
    """../shared/data/real/README.md: fdfat LW 8.10, LWCSP 7.92 NME on dlib-examples (1.5x box, 96 px)."""
    import torch

    from zoo.checkpoints.fdfat_import import import_fdfat
    from zoo.data.formats import load_dataset_yaml

    model, _ = import_fdfat(fdfat_dir / peer / "best.pt")

    def run(x: np.ndarray) -> dict[str, np.ndarray]:
        with torch.no_grad():
            return {k: v.numpy() for k, v in model(torch.from_numpy(x)).items()}

    samples = load_dataset_yaml(real_dir / "dlib-examples" / "faces.yaml", "test")
    result = evaluate(samples, run, 96, resample="plain")
    assert len(result.faces) == 18 and result.points == 68 and result.yaw_source == "pnp"
    assert summarize(result.nme, result.yaw).nme == pytest.approx(expected, abs=0.006)


def test_eval_parts_prints_nme_by_part_and_the_shared_offset(real_dir: Path, tmp_path: Path) -> None:
    """``zoo eval --parts`` on the 18 dlib-examples photos with the shipped default's variant."""
    from typer.testing import CliRunner

    from zoo.cli import app

    result = CliRunner().invoke(app, ["eval", "--dataset", str(real_dir / "dlib-examples" / "faces.yaml"), "--variant",
                                      "lw-relu6-affine-cls", "--backend", "torch", "--parts", "--no-record",
                                      "--out", str(tmp_path)],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "NME by part" in text and "offset x, y" in text and "not recorded" in text
    for part in ("jaw", "brows", "nose", "eyes", "mouth"):
        assert part in text


def test_runner_scores_an_export_past_the_parity_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """zoo eval measures what a conversion costs, so it asks for the artifact with allow_drift; a backend failure
    is a one-line RunnerError, not a traceback."""
    import bench.artifacts
    from eval.runner import RunnerError, open_runner
    from zoo.architectures import create_model
    from zoo.backends.base import BackendError
    from zoo.checkpoints.checkpoint import save_checkpoint

    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, create_model("lw-relu6-w0.5-affine-cls").eval(), {})
    seen = {}

    def fake_ensure(source, backend, precision, allow_drift=False, force=False):  # noqa: ANN001, ANN202
        seen["allow_drift"] = allow_drift
        raise BackendError("onnx fp16 export failed\nsecond line")

    monkeypatch.setattr(bench.artifacts, "ensure_artifact", fake_ensure)
    with pytest.raises(RunnerError, match=r"^onnx fp16 export failed$"):
        open_runner(checkpoint=ckpt, backend="onnx", precision="fp16")
    assert seen["allow_drift"] is True


def test_eval_yaw_detail_prints_both_yardsticks_and_writes_the_plot(real_dir: Path, tmp_path: Path) -> None:
    """``zoo eval --yaw-detail``: the 10-degree table, the pose floor, the plot, and NME (box) per image."""
    import csv

    from typer.testing import CliRunner

    from eval.metrics import box_over_iod
    from zoo.cli import app
    from zoo.data.formats import load_dataset_yaml

    per_image = tmp_path / "faces.csv"
    result = CliRunner().invoke(app, ["eval", "--dataset", str(real_dir / "dlib-examples" / "faces.yaml"), "--variant",
                                      "lw-relu6-affine-cls", "--backend", "torch", "--yaw-detail", "--no-record",
                                      "--per-image", str(per_image), "--out", str(tmp_path)],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "NME box %" in text and "pose floor" in text and "0-10" in text
    assert list((tmp_path / "plots").glob("yaw-*.png"))
    rows = list(csv.DictReader(per_image.open()))
    samples = {str(s.image_path): s for s in load_dataset_yaml(real_dir / "dlib-examples" / "faces.yaml", "test")}
    assert len(rows) == 18
    for row in rows:
        scale = box_over_iod(np.asarray(samples[row["image"]].landmarks)[:68])[0]
        assert float(row["nme_box"]) == pytest.approx(float(row["nme"]) / scale, abs=2e-4)
