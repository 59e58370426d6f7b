"""Raspberry Pi camera source through picamera2 (libcamera).

Two streams run at once: ``main`` at the full configured size, kept for snapshots, and ``lores``
at about the model's input size, which is what the detector gets. On a Pi 4 the lores stream can
only be YUV420, so each frame costs one small YUV->BGR conversion and no large resize. Request
buffers go back to libcamera as soon as the lores image is converted (``captured_request``), or
the camera stalls once its few buffers are all held.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Literal, cast

from pydantic import Field, field_validator

from edgecam.clips.ring import PacketRing
from edgecam.errors import CameraError
from edgecam.schema import Duration, StrictModel
from edgecam.types import Image

log = logging.getLogger(__name__)

Size = tuple[
    int,
    int,
]


class Picamera2SourceConfig(StrictModel):
    """A Raspberry Pi camera module (CSI ribbon cable) through picamera2."""

    type: Literal["picamera2"] = "picamera2"
    camera: int = Field(default=0, ge=0)
    """Which camera, for boards with two connectors (``0`` is the first)."""
    size: Size = (1280, 720)
    """``[width, height]`` of the main stream, used for snapshots."""
    lores: Size = (384, 216)
    """``[width, height]`` of the stream the detector sees; near the model input, same aspect."""
    fps: float = Field(default=15.0, gt=0.0, le=120.0)
    """Frame rate the sensor runs at."""
    rotation: Literal[0, 180] = 0
    """Rotate the image (the Pi's ISP can flip, so 0 or 180 only)."""
    hflip: bool = False
    """Mirror left-right."""
    vflip: bool = False
    """Mirror top-bottom."""
    exposure: Literal["normal", "short", "long"] = "normal"
    """Auto-exposure mode: ``short`` freezes motion, ``long`` helps in dim light."""
    buffer_count: int = Field(default=4, ge=2, le=12)
    """Request buffers libcamera cycles through; few buffers keep latency and memory low."""
    read_timeout: Duration = Field(default=5.0, gt=0.0)
    """How long to wait for a frame before the read counts as failed (and the camera reopens)."""
    clip_bitrate: int = Field(default=4_000_000, ge=100_000, le=25_000_000)
    """Bits per second of the H.264 encoding of the main stream, when a rule records clips."""

    @field_validator("size", "lores")
    @classmethod
    def _even(cls, value: Size) -> Size:
        if value[0] < 16 or value[1] < 16 or value[0] % 2 or value[1] % 2:
            raise ValueError("expected [width, height], both even and at least 16")
        return value


@dataclass(frozen=True, slots=True)
class Picamera2Api:
    """The parts of picamera2 and libcamera the source uses (real ones, or the shipped fake)."""

    picamera2_class: Any
    transform_class: Any
    exposure_modes: Any
    """``libcamera.controls.AeExposureModeEnum``."""
    h264_encoder_class: Any = None
    """``picamera2.encoders.H264Encoder``: for clips."""
    output_class: Any = None
    """``picamera2.outputs.Output``: clips subclass it to receive the encoder's frames."""


def real_api() -> Picamera2Api:
    """Import picamera2 and libcamera; :class:`CameraError` naming the install if missing."""
    try:
        import libcamera
        from picamera2 import Picamera2
        from picamera2.encoders import H264Encoder
        from picamera2.outputs import Output
    except ImportError as err:
        raise CameraError(
            "picamera2 is not installed; on Raspberry Pi OS: sudo apt install python3-picamera2 "
            "and create the virtualenv with --system-site-packages"
        ) from err
    modes = libcamera.controls.AeExposureModeEnum
    return Picamera2Api(Picamera2, libcamera.Transform, modes, H264Encoder, Output)


def transform_flips(config: Picamera2SourceConfig) -> tuple[bool, bool]:
    """``(hflip, vflip)`` for the configured rotation and flips (180 degrees is both flips)."""
    turn = config.rotation == 180
    return config.hflip != turn, config.vflip != turn


def camera_controls(config: Picamera2SourceConfig, api: Picamera2Api) -> dict[str, Any]:
    """libcamera controls for the config: a fixed frame rate and the exposure mode."""
    frame_us = round(1_000_000 / config.fps)
    mode = {"normal": "Normal", "short": "Short", "long": "Long"}[config.exposure]
    return {
        "FrameDurationLimits": (frame_us, frame_us),
        "AeExposureMode": getattr(api.exposure_modes, mode),
    }


def lores_to_bgr(yuv: Image, width: int, height: int) -> Image:
    """Convert a picamera2 YUV420 array (``height*3/2`` rows of stride bytes) to a BGR frame."""
    import cv2
    import numpy as np

    bgr = cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420)
    if bgr.shape[1] != width or bgr.shape[0] != height:
        # The stride can be wider than the image: drop the padding columns.
        bgr = np.ascontiguousarray(bgr[:height, :width])
    return cast(Image, bgr)


class Picamera2Source:
    """Reads the lores stream of a Pi camera as BGR frames; ``snapshot()`` gives the main stream."""

    live = True

    def __init__(
        self, name: str, config: Picamera2SourceConfig, api: Picamera2Api | None = None
    ) -> None:
        self.name = name
        self.config = config
        self._api = api
        self._camera: Any = None
        self._want_main = threading.Event()
        self._main_ready = threading.Event()
        self._main: Image | None = None
        self._ring: PacketRing | None = None
        self._encoding = False

    def record_into(self, ring: PacketRing) -> None:
        """Clips want this camera: from the next open on, H.264 of the main stream goes to ``ring``.

        The camera's own encoder does the work (the Pi 4's hardware codec; software on a Pi 5),
        so clips are never encoded from the analysed frames.
        """
        self._ring = ring

    @property
    def nominal_fps(self) -> float | None:
        """The configured sensor frame rate."""
        return self.config.fps

    def open(self) -> None:
        """Acquire, configure and start the camera; :class:`CameraError` if any step fails."""
        self.close()
        api = self._api or real_api()
        config = self.config
        hflip, vflip = transform_flips(config)
        try:
            camera = api.picamera2_class(config.camera)
        except (RuntimeError, IndexError, OSError) as err:
            raise CameraError(
                f"camera {self.name!r}: Pi camera {config.camera} not available ({err}); check "
                "the ribbon cable, `rpicam-hello --list-cameras`, and that no other program uses it"
            ) from err
        try:
            video = camera.create_video_configuration(
                main={"size": config.size, "format": "RGB888"},  # RGB888 is B,G,R in memory
                lores={"size": config.lores, "format": "YUV420"},
                controls=camera_controls(config, api),
                transform=api.transform_class(hflip=int(hflip), vflip=int(vflip)),
                buffer_count=config.buffer_count,
                display=None,
                encode="main" if self._ring is not None else None,
            )
            camera.configure(video)
            self._start_encoder(camera, api)
            camera.start()
        except (RuntimeError, ValueError, OSError) as err:
            camera.close()
            raise CameraError(
                f"camera {self.name!r}: cannot start the Pi camera with size {config.size}, "
                f"lores {config.lores}, {config.fps} fps ({err}); try a smaller size or rate"
            ) from err
        self._camera = camera
        log.info("camera %s: Pi camera %d started", self.name, config.camera)

    def _start_encoder(self, camera: Any, api: Picamera2Api) -> None:
        """Start H.264 of the main stream into the ring, as ``start_recording`` does."""
        if self._ring is None:
            return
        from edgecam.clips.picam import ring_output

        encoder = api.h264_encoder_class(
            bitrate=self.config.clip_bitrate, repeat=True, iperiod=max(1, round(self.config.fps))
        )
        camera.start_encoder(encoder, ring_output(api.output_class, self._ring), name="main")
        self._encoding = True

    def read(self) -> Image:
        """The next lores frame (BGR); :class:`CameraError` if none came within the timeout."""
        camera = self._camera
        if camera is None:
            raise CameraError(f"camera {self.name!r}: read before open")
        width, height = self.config.lores
        try:
            with camera.captured_request(wait=self.config.read_timeout) as request:
                image = lores_to_bgr(request.make_array("lores"), width, height)
                if self._want_main.is_set():
                    self._main = request.make_array("main").copy()
                    self._want_main.clear()
                    self._main_ready.set()
        except (RuntimeError, TimeoutError, OSError) as err:
            raise CameraError(f"camera {self.name!r}: no frame from the Pi camera: {err}") from err
        return image

    def snapshot(self, timeout: float = 2.0) -> Image | None:
        """A full-size BGR frame from the main stream (taken by the next read), or ``None``."""
        self._main_ready.clear()
        self._want_main.set()
        if not self._main_ready.wait(timeout):
            return None
        return self._main

    def close(self) -> None:
        """Stop and release the camera; safe to call twice."""
        camera, self._camera = self._camera, None
        if camera is None:
            return
        try:
            camera.stop()
            if self._encoding:
                self._encoding = False
                camera.stop_encoder()
        finally:
            camera.close()
