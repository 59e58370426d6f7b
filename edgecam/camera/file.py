"""Video-file source (any container OpenCV's FFmpeg build reads)."""

from __future__ import annotations

import time
from typing import Any, Literal

from edgecam.camera.convert import as_frame
from edgecam.config.base import ConfigPath, StrictModel
from edgecam.errors import CameraError
from edgecam.types import Image


class FileSourceConfig(StrictModel):
    """Frames from a video file."""

    type: Literal["file"] = "file"
    path: ConfigPath
    """The video file; relative to the config file's directory."""
    loop: bool = False
    """Start again at the end instead of ending the stream."""
    pace: Literal["realtime", "fast", "every"] = "realtime"
    """``realtime``: at the file's own fps, like a live camera (stale frames dropped);
    ``fast``: as fast as it decodes (stale frames dropped); ``every``: every frame analysed."""


class FileSource:
    """Reads a video file with OpenCV and paces it as configured."""

    def __init__(self, name: str, config: FileSourceConfig) -> None:
        self.name = name
        self.config = config
        self._cap: Any = None
        self._fps: float | None = None
        self._next_due = 0.0

    @property
    def nominal_fps(self) -> float | None:
        """The file's own frame rate."""
        return self._fps

    def open(self) -> None:
        """Open the file; a missing or undecodable file is a :class:`CameraError`."""
        import cv2

        path = self.config.path
        if not path.is_file():
            raise CameraError(
                f"camera {self.name!r}: video file {path} not found; check source.path"
            )
        cap = cv2.VideoCapture(str(path))
        ok, _ = cap.read() if cap.isOpened() else (False, None)
        if not ok:
            cap.release()
            raise CameraError(
                f"camera {self.name!r}: cannot decode video file {path}; "
                "use a format OpenCV reads (avi, mp4, mkv, webm)"
            )
        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        fps = cap.get(cv2.CAP_PROP_FPS)
        self._fps = fps if fps and fps > 0 else None
        self._cap = cap
        self._next_due = time.monotonic()

    def read(self) -> Image | None:
        """Next frame (BGR); ``None`` at the end unless looping."""
        import cv2

        if self._cap is None:
            raise CameraError(f"camera {self.name!r}: read before open")
        ok, bgr = self._cap.read()
        if not ok and self.config.loop:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, bgr = self._cap.read()
        if not ok:
            return None
        if self.config.pace == "realtime" and self._fps:
            self._next_due += 1.0 / self._fps
            delay = self._next_due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                self._next_due = time.monotonic()
        return as_frame(bgr)

    def close(self) -> None:
        """Release the file."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None
