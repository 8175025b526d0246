"""Detectors on real faces at 30-120 px (issue 28 item 2); the MTCNN option and its one-line errors."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from zoo.track.detector_eval import compare, crowd_frames
from zoo.track.detectors import DetectorError, make_detector
from zoo.track.photos import real_folder

needs_photos = pytest.mark.skipif(not real_folder().is_dir(), reason="../shared/data/real/lfpw-train not present")
needs_mtcnn = pytest.mark.skipif(importlib.util.find_spec("mtcnn") is None, reason="pip install 'zoo[mtcnn]'")


def test_mtcnn_without_its_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mtcnn", None)  # import mtcnn now raises ImportError
    with pytest.raises(DetectorError, match=r"pip install 'zoo\[mtcnn\]'"):
        make_detector("mtcnn")


def test_bad_mtcnn_spec_is_refused():
    with pytest.raises(DetectorError, match="unknown detector"):
        make_detector("mtcnn:big")


@needs_photos
def test_hog_finds_large_real_faces_and_raises_no_false_alarm():
    row = compare({"hog": make_detector("hog")}, crowd_frames(4, seed=3))["hog"]
    assert row["recall_90_120"] >= 0.8 and row["false_per_frame"] == 0.0
    assert row["recall_30_40"] is None or row["recall_30_40"] <= 0.2  # upsample 0 cannot see 30-40 px faces


@needs_photos
@needs_mtcnn
def test_mtcnn_finds_small_real_faces():
    row = compare({"mtcnn": make_detector("mtcnn")}, crowd_frames(4, seed=3))["mtcnn"]
    assert row["recall_ge40"] >= 0.95 and row["false_per_frame"] <= 0.25
