"""Malformed videos: truncated at any size, zero frames, random bytes or an empty frame folder give a
one-line SourceError, and ``zoo track`` a single error line with no traceback and none of OpenCV's or
FFmpeg's own log lines (issue 24, part 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from fuzzing import FUZZ
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from zoo.track.video import SourceError, VideoSource


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("video") / "ok.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    for i in range(12):
        writer.write(np.full((48, 64, 3), 20 * i, np.uint8))
    writer.release()
    return path.read_bytes()


def _frames_or_refusal(path: Path) -> int:
    try:
        source = VideoSource(str(path))
    except SourceError as e:
        assert "\n" not in str(e) and str(path) in str(e), str(e)
        return -1
    try:
        return sum(1 for _ in source)
    finally:
        source.close()


@FUZZ
@given(cut=st.floats(0.0, 1.0))
def test_truncated_video(clip: bytes, cut: float, tmp_path: Path) -> None:
    """Cut anywhere: refused, or the frames before the cut (an mp4 with its index at the end has none)."""
    path = tmp_path / "cut.mp4"
    path.write_bytes(clip[: int(len(clip) * cut)])
    assert _frames_or_refusal(path) <= 12


@FUZZ
@given(data=st.binary(max_size=2048), prefix=st.sampled_from([b"", b"\x00\x00\x00\x20ftypisom", b"RIFF\0\0\0\0AVI "]))
def test_random_bytes_as_video(data: bytes, prefix: bytes, tmp_path: Path) -> None:
    path = tmp_path / "random.mp4"
    path.write_bytes(prefix + data)
    assert _frames_or_refusal(path) == -1


def test_zero_frames_empty_file_and_empty_folder(tmp_path: Path) -> None:
    writer = cv2.VideoWriter(str(tmp_path / "zero.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    writer.release()
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "0001.png").write_bytes(b"")
    (tmp_path / "none").mkdir()
    for name in ("zero.mp4", "empty.mp4", "frames", "none"):
        with pytest.raises(SourceError):
            VideoSource(str(tmp_path / name))


def test_zoo_track_on_a_cut_video_prints_one_line(clip: bytes, tmp_path: Path) -> None:
    """In a real process, so that native log lines written straight to the terminal would show."""
    from zoo.cli import app

    for size in (0, 1000, len(clip) - 200):
        (tmp_path / f"cut{size}.mp4").write_bytes(clip[:size])
        result = CliRunner().invoke(app, ["track", str(tmp_path / f"cut{size}.mp4"), "--model", "lw-relu6"])
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.output
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "zoo", "track", str(tmp_path / "cut1000.mp4"), "--model", "lw-relu6"],
                          capture_output=True, text=True, env=env, timeout=120)
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), proc.stdout + proc.stderr
