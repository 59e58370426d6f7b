"""Raspberry Pi camera source through picamera2 (libcamera).

Two streams run at once: ``main`` at the full configured size, for snapshots, clips and region
crops, and ``lores`` at the model's input size (the ISP scales), which is what the detector gets.
On a Pi 4 the lores stream can only be YUV420, so each frame costs one small YUV->BGR conversion
and no resize; a Pi 5 delivers it as BGR directly. Both are read in place (``MappedArray``):
of the main stream only the region squares the planner asks for are read and scaled down.
Request buffers go back to libcamera as soon as that is done (``captured_request``), or the
camera stalls once its few buffers are all held. With ``ai_camera`` the IMX500 sensor detects
by itself and its boxes come with each frame (:mod:`edgecam.camera.imx500`).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Literal

from pydantic import Field, field_validator

from edgecam.camera.base import RegionPlan, ViewPlan
from edgecam.camera.imx500 import AiCameraConfig, SensorNetwork
from edgecam.camera.piapi import Picamera2Api
from edgecam.camera.pistreams import bgr_copy, cut_crops, cut_views, lores_for, lores_to_bgr
from edgecam.clips.ring import PacketRing
from edgecam.errors import CameraError
from edgecam.schema import Duration, StrictModel
from edgecam.types import Crops, Detection, Image, Views

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
    lores: Size | None = None
    """``[width, height]`` of the stream the detector sees; default: the model's input size."""
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
    ai_camera: AiCameraConfig | None = None
    """The Raspberry Pi AI Camera (IMX500): it detects on its sensor, not the TFLite detector."""

    @field_validator("size", "lores")
    @classmethod
    def _even(cls, value: Size | None) -> Size | None:
        if value is None:
            return value
        if value[0] < 16 or value[1] < 16 or value[0] % 2 or value[1] % 2:
            raise ValueError("expected [width, height], both even and at least 16")
        return value


DEFAULT_LORES: Size = (384, 216)
"""The analysed stream's size when nothing says what the model takes."""
FAKE_ENV = "EDGECAM_FAKE_PICAMERA2"
"""An image or video file: every picamera2 camera is the shipped fake looking at it."""


def real_api() -> Picamera2Api:
    """Import picamera2 and libcamera; :class:`CameraError` naming the install if missing."""
    try:
        import libcamera
        from picamera2 import MappedArray, Picamera2
        from picamera2.encoders import H264Encoder
        from picamera2.outputs import Output
    except ImportError as err:
        raise CameraError(
            "picamera2 is not installed; on Raspberry Pi OS: sudo apt install python3-picamera2 "
            "and create the virtualenv with --system-site-packages"
        ) from err
    modes = libcamera.controls.AeExposureModeEnum
    imx500: Any = None
    try:
        from picamera2.devices import IMX500

        imx500 = IMX500
    except (
        ImportError
    ):  # an old picamera2, or its IMX500 extras missing: only the AI Camera needs it
        pass
    pisp = _is_pisp(Picamera2)
    return Picamera2Api(
        Picamera2, libcamera.Transform, modes, H264Encoder, Output, MappedArray, imx500, pisp
    )


def _is_pisp(picamera2_class: Any) -> bool:
    """Whether the ISP is a Pi 5's PiSP (``Picamera2.platform``), which gives RGB lores."""
    try:
        from picamera2.platform import Platform
    except ImportError:
        return False
    return bool(getattr(picamera2_class, "platform", None) == Platform.PISP)


def default_api() -> Picamera2Api:
    """The real picamera2, or the shipped fake when :data:`FAKE_ENV` names a scene to show."""
    scene = os.environ.get(FAKE_ENV)
    if not scene:
        return real_api()
    from edgecam.camera.fake_picamera2 import FakeCameraSystem

    return FakeCameraSystem.from_file(scene).api()


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


class Picamera2Source:
    """Reads the lores stream of a Pi camera as BGR frames; ``snapshot()`` gives the main stream.

    With :meth:`cut_regions`, each read also cuts the planned squares from the main stream; with
    ``ai_camera``, each read also decodes the sensor's detections (:meth:`frame_extras`).
    """

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
        self._model: Size | None = None
        self._keep_aspect = False
        self._plan: RegionPlan | None = None
        self._side = 0
        self._lores: Size = config.lores or DEFAULT_LORES
        self._main_size: Size = config.size
        self._rgb_lores = False
        self._mapped: Any = None
        self._crops: Crops | None = None
        self._view_plan: ViewPlan | None = None
        self._views: Views | None = None
        self._no_views: Views | None = None
        self._found: tuple[Detection, ...] | None = None
        self._sensor: SensorNetwork | None = None
        self._first_read = True

    @property
    def slow_open(self) -> bool:
        """The AI Camera's first start uploads its network: the service does not wait for it."""
        return self.config.ai_camera is not None

    @property
    def detects_on_sensor(self) -> bool:
        """Whether this camera detects by itself (the AI Camera)."""
        return self.config.ai_camera is not None

    @property
    def loading(self) -> str | None:
        """What the camera waits for while it starts (the AI Camera's upload), else None."""
        if self._sensor is not None:
            return self._sensor.loading
        return "opening the AI Camera" if self.config.ai_camera is not None else None

    def fit_to(self, model: Size, keep_aspect: bool) -> None:
        """Deliver lores at the model's input (unless ``lores`` is set) from the next open."""
        if min(model) >= 16:  # a size libcamera can scale to (test detectors may report none)
            self._model, self._keep_aspect = model, keep_aspect

    def cut_regions(self, plan: RegionPlan | None, side: int) -> None:
        """Cut the squares ``plan`` asks for from the main stream, scaled to ``side`` pixels."""
        self._plan, self._side = (plan, side) if side >= 16 else (None, 0)

    def cut_views(self, plan: ViewPlan | None) -> None:
        """Cut the classifier views ``plan`` asks for from the main stream (None: stop)."""
        self._view_plan = plan

    def frame_views(self) -> Views | None:
        """The classifier views of the frame last read (None: this camera cuts none)."""
        return self._views

    def frame_extras(self) -> tuple[Crops | None, tuple[Detection, ...] | None]:
        """The crops and sensor detections of the frame last read."""
        return self._crops, self._found

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

    def _lores_wanted(self) -> Size:
        config = self.config
        if config.lores is not None or self._model is None:
            return config.lores or DEFAULT_LORES
        return lores_for(self._model, config.size, self._keep_aspect)

    def open(self) -> None:
        """Acquire, configure and start the camera; :class:`CameraError` if any step fails."""
        self.close()
        api = self._api or default_api()
        config = self.config
        number = config.camera
        if config.ai_camera is not None:
            if api.imx500_class is None:
                raise CameraError(
                    f"camera {self.name!r}: picamera2 has no IMX500 support; on Raspberry Pi OS: "
                    "sudo apt install imx500-all python3-picamera2 (a current version)"
                )
            self._sensor = SensorNetwork(self.name, config.ai_camera, api.imx500_class)
            number = self._sensor.load()  # before Picamera2 opens the camera, as picamera2 asks
        try:
            camera = api.picamera2_class(number)
        except (RuntimeError, IndexError, OSError) as err:
            self._close_sensor()
            raise CameraError(
                f"camera {self.name!r}: Pi camera {number} not available ({err}); check "
                "the ribbon cable, `rpicam-hello --list-cameras`, and that no other program uses it"
            ) from err
        try:
            self._configure(camera, api)
            self._start_encoder(camera, api)
            camera.start()
        except (RuntimeError, ValueError, OSError) as err:
            camera.close()
            self._close_sensor()
            raise CameraError(
                f"camera {self.name!r}: cannot start the Pi camera with size {config.size}, "
                f"lores {self._lores_wanted()}, {config.fps} fps ({err}); try a smaller size "
                "or rate"
            ) from err
        if self._sensor is not None:
            self._sensor.started()
        self._camera, self._mapped, self._first_read = camera, api.mapped_array_class, True
        log.info(
            "camera %s: Pi camera %d started: main %dx%d, lores %dx%d %s", self.name, number,
            *self._main_size, *self._lores, "BGR" if self._rgb_lores else "YUV420",
        )  # fmt: skip

    def _configure(self, camera: Any, api: Picamera2Api) -> None:
        """Configure both streams; the sizes libcamera settled on are the ones read."""
        config = self.config
        hflip, vflip = transform_flips(config)
        self._rgb_lores = api.rgb_lores
        video = camera.create_video_configuration(
            main={"size": config.size, "format": "RGB888"},  # RGB888 is B,G,R in memory
            lores={"size": self._lores_wanted(), "format": "RGB888" if api.rgb_lores else "YUV420"},
            controls=camera_controls(config, api),
            transform=api.transform_class(hflip=int(hflip), vflip=int(vflip)),
            buffer_count=config.buffer_count,
            display=None,
            encode="main" if self._ring is not None else None,
        )
        camera.configure(video)
        applied = camera.camera_configuration()
        (mw, mh), (lw, lh) = applied["main"]["size"], applied["lores"]["size"]
        self._main_size, self._lores = (int(mw), int(mh)), (int(lw), int(lh))

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
        wait = self.config.read_timeout
        if self._first_read and self.config.ai_camera is not None:
            wait = self.config.ai_camera.firmware_timeout  # the network is being uploaded
        metadata: dict[str, Any] | None = None
        try:
            with camera.captured_request(wait=wait) as request:
                image = self._read_request(request)
                if self._sensor is not None:
                    metadata = request.get_metadata()
        except (RuntimeError, TimeoutError, OSError) as err:
            raise CameraError(f"camera {self.name!r}: no frame from the Pi camera: {err}") from err
        if self._sensor is not None and metadata is not None:
            # Decoded after the buffers went back: the metadata is a copy of its own.
            self._found = self._sensor.detections(metadata, camera, self._main_size)
        self._first_read = False
        return image

    def _read_request(self, request: Any) -> Image:
        """Everything taken from one request while its buffers are held."""
        width, height = self._lores
        with self._mapped(request, "lores") as lores:
            if self._rgb_lores:
                image = bgr_copy(lores.array, width, height)
            else:
                image = lores_to_bgr(lores.array, width, height)
        self._crops = None
        if self._plan is not None and (planned := self._plan(self._main_size)) is not None:
            rects, full = planned
            with self._mapped(request, "main") as main:
                self._crops = cut_crops(main.array, self._main_size, rects, self._side, full)
        if self._view_plan is not None:
            self._views = self._cut_views(request, self._view_plan)
        if self._want_main.is_set():
            self._main = request.make_array("main")  # make_array copies the buffer
            self._want_main.clear()
            self._main_ready.set()
        return image

    def _cut_views(self, request: Any, plan: ViewPlan) -> Views:
        """This frame's classifier views; with none planned, the main stream is not touched."""
        size = self._main_size
        if not (planned := plan(size)):
            if self._no_views is None or self._no_views.size != size:
                self._no_views = Views(size, (), ())
            return self._no_views  # one shared empty value: nothing made per frame
        with self._mapped(request, "main") as main:
            return cut_views(main.array, size, planned)

    def snapshot(self, timeout: float = 2.0) -> Image | None:
        """A full-size BGR frame from the main stream (taken by the next read), or ``None``."""
        self._main_ready.clear()
        self._want_main.set()
        if not self._main_ready.wait(timeout):
            return None
        return self._main

    def _close_sensor(self) -> None:
        if self._sensor is not None:
            self._sensor.close()

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
            self._close_sensor()
