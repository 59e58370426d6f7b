"""Can a recorded video be read? The same test the sources make when they open, for check-config."""

from __future__ import annotations

from pathlib import Path
from typing import Literal


def undecodable(path: Path, reader: Literal["opencv", "av"]) -> str | None:
    """Why ``path`` cannot be read as a video by ``reader`` (None if its first frame decodes)."""
    if reader == "opencv":
        import cv2

        cap = cv2.VideoCapture(str(path))
        try:
            ok = cap.isOpened() and cap.read()[0]
        finally:
            cap.release()
        if ok:
            return None
        return f"cannot decode video file {path}; use a format OpenCV reads (avi, mp4, mkv, webm)"
    import av

    try:
        with av.open(str(path)) as container:
            if container.streams.video:
                return None
    except (av.FFmpegError, OSError, ValueError) as err:
        return f"cannot open video file {path}: {err}"
    return f"video file {path} has no video stream"
