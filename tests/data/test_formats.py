"""Readers and the dataset checker, on tiny datasets written by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datafiles import face_points, write_300w, write_fs

from zoo.data.check import check_dataset
from zoo.data.formats import (
    DatasetError,
    load_dataset_yaml,
    read_300w,
    read_facesynthetics,
    read_negatives,
    read_pts,
)


def test_facesynthetics_reader_reads_points_and_meta(tmp_path: Path) -> None:
    pts = face_points()
    write_fs(tmp_path, "000001", pts, meta={"yaw": -42.5, "pitch": 3.0, "roll": 1.0, "identity": [0.1]})
    write_fs(tmp_path, "000000", pts + 1)
    samples = read_facesynthetics(tmp_path)
    assert [s.image_path.name for s in samples] == ["000000.png", "000001.png"]
    assert samples[0].landmarks.shape == (70, 2) and samples[0].landmarks.dtype == np.float32
    np.testing.assert_allclose(samples[1].landmarks, pts, atol=1e-4)
    assert samples[1].pose == (-42.5, 3.0, 1.0) and samples[0].pose is None
    assert samples[1].is_face


def test_300w_reader_subtracts_one(tmp_path: Path) -> None:
    pts = face_points()[:68]
    write_300w(tmp_path, "a", pts)
    (by_folder,) = read_300w(tmp_path)
    (by_list,) = read_300w([tmp_path / "a.jpg"])
    np.testing.assert_allclose(by_folder.landmarks, pts, atol=1e-3)
    np.testing.assert_allclose(by_list.landmarks, pts, atol=1e-3)
    assert by_folder.image_path == tmp_path / "a.jpg" and by_folder.meta == {}


def test_pts_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.pts"
    bad.write_text("version: 1\nn_points: 68\n1 2\n")
    with pytest.raises(DatasetError, match=r"x\.pts: not a \.pts file") as e:
        read_pts(bad)
    assert "\n" not in str(e.value)
    with pytest.raises(DatasetError, match="cannot read"):
        read_pts(tmp_path / "absent.pts")


def test_negatives_from_folder_and_list(tmp_path: Path, good_dataset: Path) -> None:
    root = good_dataset.parent
    from_folder = read_negatives(root / "neg")
    from_txt = read_negatives(root / "negatives.txt")
    assert [s.image_path.name for s in from_folder] == ["bg0.png", "bg1.png"]
    assert [s.image_path for s in from_txt] == [s.image_path for s in from_folder]
    assert all(not s.is_face and s.landmarks is None for s in from_folder)


def test_dataset_yaml_splits_mixed_formats(good_dataset: Path) -> None:
    train = load_dataset_yaml(good_dataset, "train")
    val = load_dataset_yaml(good_dataset, "val")
    test = load_dataset_yaml(good_dataset, "test")
    assert [len(train), len(val), len(test)] == [3, 2, 1]
    assert train[1].landmarks.shape == (70, 2) and train[1].pose == (10.0, 0.0, 0.0)
    assert val[0].landmarks.shape == (68, 2)  # the .pts beside the .jpg was picked
    np.testing.assert_allclose(val[0].landmarks, face_points()[:68], atol=1e-3)
    with_neg = load_dataset_yaml(good_dataset, "train", negatives=True)
    assert len(with_neg) == 5 and [s.is_face for s in with_neg[-2:]] == [False, False]
    assert len(load_dataset_yaml(good_dataset, "val", negatives=True)) == 2  # shared negatives stay out of val
    assert len(load_dataset_yaml(good_dataset, "negatives")) == 2


def test_dataset_yaml_per_split_negatives(tmp_path: Path, good_dataset: Path) -> None:
    text = good_dataset.read_text().replace("negatives: negatives.txt", "negatives: {train: [neg/bg0.png], val: [neg/bg1.png]}")
    good_dataset.write_text(text)
    assert [s.image_path.name for s in load_dataset_yaml(good_dataset, "val", negatives=True)][-1] == "bg1.png"


@pytest.mark.parametrize(("content", "words"), [
    (None, "dataset YAML not found"),
    ("base_path: .\ntrain: [unclosed\n", "not valid YAML"),
    ("- just\n- a list\n", "must be a mapping"),
    ("base_path: .\ntrain: nowhere.txt\n", "nowhere.txt, which does not exist"),
    ("base_path: .\nval: 3\n", "'val' must be a txt list"),
    ("base_path: .\n", "no train, val, test or negatives"),
])
def test_bad_yaml_gives_one_line_error(tmp_path: Path, content: str | None, words: str) -> None:
    path = tmp_path / "d.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DatasetError) as e:
        load_dataset_yaml(path, "train")
    assert words in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value)


def test_absent_split_and_bad_entry(good_dataset: Path, broken_dataset: tuple[Path, dict]) -> None:
    (good_dataset.parent / "val.txt").write_text("w300/image_0000.jpg\n")
    good_dataset.write_text("base_path: .\nval: val.txt\n")
    with pytest.raises(DatasetError, match=r"no 'train' split \(it has: val\)"):
        load_dataset_yaml(good_dataset, "train")
    yaml_path, _ = broken_dataset
    with pytest.raises(DatasetError, match="wrong|short|zoo data check"):
        load_dataset_yaml(yaml_path, "train")
    kept = load_dataset_yaml(yaml_path, "train", skip_bad=True)
    assert "noann.png" not in [s.image_path.name for s in kept] and len(kept) >= 2


def test_check_clean_dataset(good_dataset: Path, zoo_cache: Path) -> None:
    counts, problems = check_dataset(good_dataset)
    assert problems == []
    assert counts == {"train": 3, "val": 2, "test": 1, "negatives:all": 2}


def test_check_lists_every_problem_once(broken_dataset: tuple[Path, dict[str, str]], zoo_cache: Path) -> None:
    yaml_path, expected = broken_dataset
    counts, problems = check_dataset(yaml_path)
    assert counts == {"train": 10, "val": 1}
    assert all("\n" not in p and ": " in p for p in problems)
    for name, words in expected.items():
        hits = [p for p in problems if name in p.split(": ")[0]]
        assert len(hits) == 1 and words in hits[0], (name, hits, problems)
    assert not any(p.split(": ")[0].endswith("/ok.png") or "ok_ldmks" in p for p in problems)
    assert len(problems) == len(expected)


def test_check_verdict_is_reused_until_a_file_changes(good_dataset: Path, zoo_cache: Path, monkeypatch) -> None:
    import zoo.data.check as check

    assert check_dataset(good_dataset) == ({"train": 3, "val": 2, "test": 1, "negatives:all": 2}, [])
    assert len(list((zoo_cache / "checks").glob("*.json"))) == 1

    def no_decoding(*_):
        raise AssertionError("an unchanged dataset must not be decoded again")

    monkeypatch.setattr(check, "image_problem", no_decoding)
    assert check_dataset(good_dataset)[1] == []
    monkeypatch.undo()
    monkeypatch.setenv("ZOO_CACHE", str(zoo_cache))
    image = good_dataset.parent / "fs" / "000001.png"
    image.write_bytes(image.read_bytes()[:100])
    problems = check_dataset(good_dataset)[1]
    assert len(problems) == 1 and "000001.png: truncated" in problems[0]
