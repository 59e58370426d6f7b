"""OpenCV source: V4L2 cameras (USB webcams) by index or path, and RTSP/HTTP streams."""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any, Literal

from pydantic import Field, model_validator

from edgecam.errors import CameraError
from edgecam.imaging import as_frame
from edgecam.schema import Duration, StrictModel
from edgecam.types import Image

log = logging.getLogger(__name__)

_USERINFO = re.compile(r"(?<=://)[^/@]*@")

# OpenCV's FFmpeg backend reads its demuxer options from one process-wide environment variable at
# open time, so opens that set it must not interleave.
_FFMPEG_OPTIONS_LOCK = threading.Lock()
FFMPEG_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"


def redact_url(url: str) -> str:
    """The URL with any ``user:password@`` replaced, for logs and error messages."""
    return _USERINFO.sub("***@", url)


class OpenCVSourceConfig(StrictModel):
    """A V4L2 camera (``device``) or a network stream (``url``) read through OpenCV."""

    type: Literal["opencv"] = "opencv"
    device: int | str | None = None
    """V4L2 camera: an index (``0``) or a path (``/dev/video0``, ``/dev/v4l/by-id/...``)."""
    url: str | None = None
    """Network stream: ``rtsp://...``, ``http://...`` (MJPEG or any FFmpeg input)."""
    size: tuple[int, int] | None = None
    """Requested ``[width, height]`` of a V4L2 camera; the driver picks the nearest mode."""
    fps: float | None = Field(default=None, gt=0.0, le=240.0)
    """Requested frame rate of a V4L2 camera."""
    fourcc: str | None = Field(default="MJPG", pattern=r"^[A-Za-z0-9 ]{4}$")
    """V4L2 pixel format; ``MJPG`` lets USB 2 cameras deliver full frame rates; null: default."""
    transport: Literal["tcp", "udp"] = "tcp"
    """RTSP transport; TCP survives lossy Wi-Fi without smeared frames."""
    open_timeout: Duration = Field(default=10.0, gt=0.0)
    """How long opening a stream may take before it counts as failed."""
    read_timeout: Duration = Field(default=10.0, gt=0.0)
    """How long a stream may go without delivering data before a read counts as failed."""

    @model_validator(mode="after")
    def _one_of_device_or_url(self) -> OpenCVSourceConfig:
        if (self.device is None) == (self.url is None):
            raise ValueError("give exactly one of device (a V4L2 camera) or url (a stream)")
        return self


def ffmpeg_options(config: OpenCVSourceConfig) -> str:
    """The ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` value for a stream (``key;value|key;value``)."""
    options = {}
    if config.url is not None and config.url.lower().startswith(("rtsp://", "rtsps://")):
        options["rtsp_transport"] = config.transport
    return "|".join(f"{key};{value}" for key, value in options.items())


def open_params(config: OpenCVSourceConfig) -> list[int]:
    """``VideoCapture`` open parameters: timeouts for streams, mode requests for V4L2."""
    import cv2

    if config.url is not None:
        return [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, round(config.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, round(config.read_timeout * 1000),
        ]  # fmt: skip
    params: list[int] = []
    # FOURCC first: the driver's choice of sizes and rates depends on the pixel format.
    if config.fourcc:
        params += [cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*config.fourcc)]
    if config.size:
        params += [cv2.CAP_PROP_FRAME_WIDTH, config.size[0]]
        params += [cv2.CAP_PROP_FRAME_HEIGHT, config.size[1]]
    if config.fps:
        params += [cv2.CAP_PROP_FPS, round(config.fps)]
    return params


class OpenCVSource:
    """Reads a V4L2 camera or a stream; a failed read raises so the capture loop reopens it."""

    live = True

    def __init__(self, name: str, config: OpenCVSourceConfig) -> None:
        self.name = name
        self.config = config
        self._cap: Any = None
        self._fps: float | None = None

    @property
    def target(self) -> str:
        """What is opened, safe to log (credentials removed)."""
        if self.config.url is not None:
            return redact_url(self.config.url)
        return f"V4L2 device {self.config.device}"

    @property
    def nominal_fps(self) -> float | None:
        """The frame rate the device or stream reports, if any."""
        return self._fps

    def open(self) -> None:
        """Open the device or stream; :class:`CameraError` if it cannot deliver a frame."""
        import cv2

        self.close()
        try:
            cap = self._open_capture()
        except cv2.error as err:
            raise CameraError(f"camera {self.name!r}: cannot open {self.target}: {err}") from err
        if not cap.isOpened():
            cap.release()
            raise CameraError(
                f"camera {self.name!r}: cannot open {self.target}; check that it exists, "
                "is reachable and is not in use by another program"
            )
        fps = cap.get(cv2.CAP_PROP_FPS)
        self._fps = fps if 0 < fps < 1000 else None
        self._cap = cap
        log.info("camera %s: opened %s (%s fps)", self.name, self.target, self._fps or "?")

    def _open_capture(self) -> Any:
        import cv2

        config = self.config
        if config.url is None:
            device: Any = config.device
            if isinstance(device, str) and device.isdigit():
                device = int(device)
            cap = cv2.VideoCapture(device, cv2.CAP_V4L2, open_params(config))
            # Keep the driver queue short: a deep queue only adds latency to the newest frame.
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            return cap
        with _FFMPEG_OPTIONS_LOCK:
            previous = os.environ.get(FFMPEG_OPTIONS_ENV)
            options = ffmpeg_options(config)
            if options:
                os.environ[FFMPEG_OPTIONS_ENV] = options
            try:
                return cv2.VideoCapture(config.url, cv2.CAP_FFMPEG, open_params(config))
            finally:
                if previous is None:
                    os.environ.pop(FFMPEG_OPTIONS_ENV, None)
                else:
                    os.environ[FFMPEG_OPTIONS_ENV] = previous

    def read(self) -> Image:
        """The next frame (BGR); :class:`CameraError` if the device or stream failed."""

        if self._cap is None:
            raise CameraError(f"camera {self.name!r}: read before open")
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            raise CameraError(f"camera {self.name!r}: no frame from {self.target}")
        return as_frame(bgr)

    def close(self) -> None:
        """Release the device or connection."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None
