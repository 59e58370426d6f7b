"""The detect stream's decode options (``source.decode``) on a real H.264 recording."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edgecam.camera.av import AvSource, AvSourceConfig
from edgecam.camera.decoding import DecodeConfig
from tests.clips.media import write_h264

FRAMES, GOP = 40, 10


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s of the demo clip, small, a keyframe a second."""
    return write_h264(tmp_path_factory.mktemp("dec") / "d.mp4", frames=FRAMES, size=(192, 144))


def _read_all(path: Path, decode: DecodeConfig) -> tuple[AvSource, int]:
    source = AvSource("cam", AvSourceConfig(path=path, pace="fast", decode=decode))
    source.open()
    frames = 0
    try:
        while (image := source.read()) is not None:
            assert image.shape == (144, 192, 3)
            frames += 1
    finally:
        source.close()
    return source, frames


def test_default_decode_gives_every_frame_and_counts_them(h264: Path) -> None:
    source, frames = _read_all(h264, DecodeConfig())
    assert frames == FRAMES and source.decoded == FRAMES


def test_skip_frame_nonkey_decodes_only_the_keyframes(h264: Path) -> None:
    source, frames = _read_all(h264, DecodeConfig(skip_frame="nonkey"))
    assert frames == FRAMES // GOP and source.decoded == frames


def test_hardware_decoder_that_does_not_open_falls_back_to_software_and_says_so(
    h264: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Asked for by name where it does not open (no /dev/video10: any machine but a Pi 4), it
    # falls back with a warning; on a Pi 4 the log names it instead.
    with caplog.at_level(logging.INFO):
        _, frames = _read_all(h264, DecodeConfig(hardware="h264_v4l2m2m"))
    assert frames == FRAMES
    if "hardware decoder h264_v4l2m2m" in caplog.text:
        return
    lines = [r for r in caplog.records if "decoding in software" in r.getMessage()]
    assert lines and lines[0].levelno == logging.WARNING, caplog.text
    assert "software decoder h264" in caplog.text
