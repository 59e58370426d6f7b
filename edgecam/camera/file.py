"""Video-file source (any container OpenCV's FFmpeg build reads), stamped with video time."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from edgecam.camera.pace import RealtimePacer
from edgecam.errors import CameraError
from edgecam.imaging import as_frame
from edgecam.schema import ConfigPath, StrictModel
from edgecam.types import Image

DEFAULT_FPS = 25.0
"""Frame rate assumed for a file that states none (frame times only; pacing is off then)."""


class FileSourceConfig(StrictModel):
    """Frames from a video file."""

    type: Literal["file"] = "file"
    path: ConfigPath
    """The video file; relative to the config file's directory."""
    loop: bool = False
    """Start again at the end instead of ending the stream (video time runs on)."""
    pace: Literal["realtime", "fast", "every"] = "realtime"
    """``realtime``: at the file's own fps, like a live camera (stale frames dropped);
    ``fast``: as fast as it decodes (stale frames dropped); ``every``: every frame analysed."""
    start: Literal["mtime", "opened"] | AwareDatetime = "mtime"
    """Wall-clock time of the video's first frame, for event times and schedules: ``mtime``
    (the file's modification time, so every run of the same file gives the same times),
    ``opened`` (when edgecam opened it) or a time with zone, e.g. ``2026-05-01T22:00:00+02:00``."""
    decode_threads: int = Field(default=1, ge=0, le=64)
    """FFmpeg decoder threads; 0 lets FFmpeg take one per core. One thread uses the least CPU per
    frame and wakes no extra threads in the middle of an inference; give more only for a video
    too large to decode in time on one core (``pace: fast`` on 4K footage)."""


class VideoClock:
    """Frame times of a recording: its container timestamps, else frame index / fps.

    Times start at 0 with the first frame, only ever grow (a timestamp that goes back or stalls
    is replaced by the previous one plus a frame), and run on across loops.
    """

    def __init__(self, fps: float | None) -> None:
        self.step = 1.0 / (fps or DEFAULT_FPS)
        self.offset = 0.0
        self.last: float | None = None

    def tick(self, stamp_ms: float | None) -> float:
        """The time of the frame just read, given its container timestamp in ms (if any)."""
        t = None if stamp_ms is None else self.offset + round(stamp_ms / 1000.0, 6)
        if self.last is not None and (t is None or t <= self.last):
            t = self.last + self.step
        elif t is None:
            t = self.offset
        self.last = t
        return t

    def rewind(self) -> None:
        """The file starts again: its timestamps restart, the clock does not."""
        self.offset = (self.last if self.last is not None else -self.step) + self.step


def start_wall(config: FileSourceConfig) -> float:
    """Seconds since the epoch of the video's first frame (see ``FileSourceConfig.start``)."""
    if isinstance(config.start, datetime):
        return config.start.timestamp()
    if config.start == "mtime":
        return config.path.stat().st_mtime
    return time.time()


class FileSource:
    """Reads a video file with OpenCV and paces it as configured; frames carry video time."""

    def __init__(self, name: str, config: FileSourceConfig) -> None:
        self.name = name
        self.config = config
        self._cap: Any = None
        self._fps: float | None = None
        self._pacer = RealtimePacer()
        self._clock = VideoClock(None)
        self.start_wall = 0.0
        """Wall-clock time of the first frame (``config.start``)."""
        self.frame_time = 0.0
        """Video time of the frame last read: seconds since the first frame."""

    @property
    def nominal_fps(self) -> float | None:
        """The file's own frame rate."""
        return self._fps

    @property
    def unpaced(self) -> bool:
        """True when frames are read as fast as they decode (``pace: fast``)."""
        return self.config.pace == "fast"

    def open(self) -> None:
        """Open the file; a missing or undecodable file is a :class:`CameraError`."""
        import cv2

        path = self.config.path
        if not path.is_file():
            raise CameraError(
                f"camera {self.name!r}: video file {path} not found; check source.path"
            )
        params = [cv2.CAP_PROP_N_THREADS, self.config.decode_threads]
        cap = cv2.VideoCapture(str(path), cv2.CAP_ANY, params)
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
        self._clock = VideoClock(self._fps)
        self.start_wall = start_wall(self.config)
        self._cap = cap
        self._pacer.start()

    def read(self) -> Image | None:
        """Next frame (BGR); ``None`` at the end unless looping."""
        import cv2

        if self._cap is None:
            raise CameraError(f"camera {self.name!r}: read before open")
        ok, bgr = self._cap.read()
        if not ok and self.config.loop:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self._clock.rewind()
            ok, bgr = self._cap.read()
        if not ok:
            return None
        stamp = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        self.frame_time = self._clock.tick(stamp if stamp >= 0 else None)
        if self.config.pace == "realtime" and self._fps:
            self._pacer.wait(self._fps)
        return as_frame(bgr)

    def close(self) -> None:
        """Release the file."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None
