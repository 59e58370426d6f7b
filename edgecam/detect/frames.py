"""Calibration and comparison frames from image files, video files or folders of them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from edgecam.errors import ConfigError
from edgecam.imaging import as_frame
from edgecam.types import Image

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm"})


def media_files(source: Path) -> list[Path]:
    """The image and video files ``source`` names: itself, or those in the folder (sorted)."""
    if source.is_dir():
        found = sorted(
            p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES
        )
        if not found:
            raise ConfigError(
                f"calibration folder {source} holds no images or videos "
                f"({', '.join(sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))}); add some real frames"
            )
        return found
    if not source.is_file():
        raise ConfigError(f"calibration source {source} not found; give a folder, image or video")
    if source.suffix.lower() not in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
        raise ConfigError(f"calibration source {source} is not an image or video file")
    return [source]


def read_frames(sources: Sequence[Path], per_video: int) -> list[Image]:
    """BGR frames: every image, and up to ``per_video`` frames spread evenly over each video."""
    frames: list[Image] = []
    for source in sources:
        for path in media_files(source):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                frames.append(_read_image(path))
            else:
                frames.extend(_video_frames(path, per_video))
    return frames


def _read_image(path: Path) -> Image:
    from edgecam.imaging import read_image

    try:
        return read_image(path)
    except Exception as err:
        raise ConfigError(f"calibration image {path}: {err}") from err


def _video_frames(path: Path, wanted: int) -> Iterator[Image]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if not cap.isOpened() or total <= 0:
            raise ConfigError(f"cannot read calibration video {path}; give an MP4 or AVI file")
        step = max(1, total // wanted)
        index = 0
        taken = 0
        while taken < wanted:
            ok, frame = cap.read()
            if not ok:
                break
            if index % step == 0:
                taken += 1
                yield as_frame(frame)
            index += 1
    finally:
        cap.release()
