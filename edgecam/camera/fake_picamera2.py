"""A stand-in for picamera2 and libcamera, for tests and for trying configs without a Pi.

It honours the subset of the picamera2 API that :mod:`edgecam.camera.picamera2` uses, with the same
signatures and the same array layouts (the lores stream is YUV420 as ``height*3/2`` rows of
``stride`` bytes, padding included), and records every call so tests can pin them.
"""

from __future__ import annotations

import contextlib
import enum
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, cast

import numpy as np

from edgecam.camera.picamera2 import Picamera2Api
from edgecam.types import Image


@dataclass(frozen=True, slots=True)
class Transform:
    """Like ``libcamera.Transform``: flips (and transpose, which the Pi's ISP cannot do)."""

    hflip: int = 0
    vflip: int = 0
    transpose: int = 0


class AeExposureModeEnum(enum.IntEnum):
    """Like ``libcamera.controls.AeExposureModeEnum``."""

    Normal = 0  # the names are libcamera's spelling
    Short = 1
    Long = 2
    Custom = 3


@dataclass
class FakeCameraSystem:
    """The attached cameras and what they show; each :class:`FakePicamera2` draws from it.

    ``scene`` is the picture every camera sees (BGR, like frames); ``fail_reads`` makes the next
    N captures raise a timeout; ``absent`` makes opening fail, as with an unplugged ribbon cable.
    """

    scene: Image = field(default_factory=lambda: np.zeros((480, 640, 3), np.uint8))
    cameras: int = 1
    stride_padding: int = 64
    fail_reads: int = 0
    absent: bool = False
    calls: list[tuple[str, Any]] = field(default_factory=list)
    outstanding: int = 0
    """Requests captured and not yet released (must be back at 0 after each read)."""
    opened: int = 0

    def api(self) -> Picamera2Api:
        """The :class:`Picamera2Api` to hand to the source."""
        system = self

        class BoundPicamera2(FakePicamera2):
            def __init__(self, camera_num: int = 0, tuning: Any = None) -> None:
                super().__init__(system, camera_num, tuning)

        return Picamera2Api(
            BoundPicamera2, Transform, AeExposureModeEnum, FakeH264Encoder, FakeOutput
        )


class FakeOutput:
    """Like ``picamera2.outputs.Output``: the encoder calls ``outputframe`` with each frame."""

    def __init__(self, pts: Any = None) -> None:
        self.recording = False
        self.ptsoutput = pts

    def start(self) -> None:
        """Start recording."""
        self.recording = True

    def stop(self) -> None:
        """Stop recording."""
        self.recording = False

    def outputframe(
        self,
        frame: bytes | None,
        keyframe: bool = True,
        timestamp: int | None = None,
        packet: Any = None,
        audio: bool = False,
    ) -> None:
        """One encoded frame; subclasses keep it."""


class FakeH264Encoder:
    """Like ``picamera2.encoders.H264Encoder``, encoding in software with x264 (via PyAV).

    Like the real one it sends Annex B H.264 with the headers repeated on each keyframe (every
    ``iperiod`` frames) and timestamps in microseconds from the first frame.
    """

    def __init__(  # noqa: PLR0917 (picamera2's signature)
        self,
        bitrate: int | None = None,
        repeat: bool = True,
        iperiod: int | None = None,
        framerate: float | None = None,
        enable_sps_framerate: bool = False,
        qp: int | None = None,
        profile: str | None = None,
    ) -> None:
        self.bitrate = bitrate
        self.repeat = repeat
        self.iperiod = iperiod or 30
        self.output: Any = None
        self._ctx: Any = None
        self._first: float | None = None
        self.frames = 0

    def start(self, width: int, height: int) -> None:
        """Open the encoder for frames of this size."""
        import av

        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
        ctx.time_base = Fraction(1, 1_000_000)
        ctx.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(self.iperiod)}
        if self.bitrate:
            ctx.bit_rate = self.bitrate
        ctx.open()
        self._ctx = ctx
        self.output.start()

    def encode(self, image: Image, now: float) -> None:
        """Encode one main-stream frame and hand it to the output, as the encoder thread does."""
        import av

        if self._first is None:
            self._first = now
        timestamp = round((now - self._first) * 1_000_000)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
        frame.pts = timestamp
        for packet in self._ctx.encode(frame):
            self.output.outputframe(bytes(packet), bool(packet.is_keyframe), timestamp)
        self.frames += 1

    def stop(self) -> None:
        """Stop encoding."""
        self.output.stop()
        self._ctx = None


class FakeRequest:
    """Like ``picamera2.request.CompletedRequest``: arrays of the streams, then ``release()``."""

    def __init__(self, camera: FakePicamera2) -> None:
        self._camera = camera
        self.released = False

    def make_array(self, name: str) -> Image:
        """The named stream's image in its configured format."""
        if self.released:
            raise RuntimeError("request already released")
        stream = self._camera.configuration()[name]
        width, height = stream["size"]
        scene = self._camera.system.scene
        return _render(scene, width, height, stream["format"], self._camera.system.stride_padding)

    def release(self) -> None:
        """Hand the buffers back to the camera."""
        if not self.released:
            self.released = True
            self._camera.system.outstanding -= 1
            self._camera.system.calls.append(("release", None))


class FakePicamera2:
    """Like ``picamera2.Picamera2`` for one camera, video use case."""

    def __init__(self, system: FakeCameraSystem, camera_num: int = 0, tuning: Any = None) -> None:
        system.calls.append(("Picamera2", camera_num))
        if system.absent or camera_num >= system.cameras:
            raise IndexError("list index out of range")  # what picamera2 raises for no camera
        self.system = system
        self.camera_num = camera_num
        self._config: dict[str, Any] | None = None
        self.started = False
        self.encoder: FakeH264Encoder | None = None
        system.opened += 1

    @staticmethod
    def global_camera_info() -> list[dict[str, Any]]:
        """Like the real one: one entry per attached camera."""
        return [{"Model": "fake", "Num": 0}]

    def create_video_configuration(  # noqa: PLR0917 (picamera2's signature)
        self,
        main: dict[str, Any] | None = None,
        lores: dict[str, Any] | None = None,
        raw: dict[str, Any] | None = None,
        transform: Transform | None = None,
        colour_space: Any = None,
        buffer_count: int = 6,
        controls: dict[str, Any] | None = None,
        display: str | None = "main",
        encode: str | None = "main",
        queue: bool = True,
        sensor: dict[str, Any] | None = None,
        use_case: str = "video",
    ) -> dict[str, Any]:
        """A configuration dict shaped like picamera2's."""
        args = {"main": main, "lores": lores, "controls": controls, "transform": transform}
        self.system.calls.append(("create_video_configuration", {**args, "bc": buffer_count}))
        return {
            "use_case": use_case,
            "transform": transform or Transform(),
            "buffer_count": buffer_count,
            "main": {"format": "XBGR8888", "size": (1280, 720), **(main or {})},
            "lores": None if lores is None else {"format": "YUV420", **lores},
            "controls": dict(controls or {}),
            "display": display,
            "encode": encode,
        }

    def configure(self, camera_config: dict[str, Any]) -> None:
        """Apply a configuration (the camera must be stopped)."""
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        self.system.calls.append(("configure", camera_config))
        self._config = camera_config

    def configuration(self) -> dict[str, Any]:
        """The applied configuration."""
        if self._config is None:
            raise RuntimeError("camera not configured")
        return self._config

    def start(self) -> None:
        """Start streaming."""
        if self._config is None:
            raise RuntimeError("Camera has not been configured")
        self.system.calls.append(("start", None))
        self.started = True

    def start_encoder(
        self,
        encoder: FakeH264Encoder | None = None,
        output: Any = None,
        pts: Any = None,
        quality: Any = None,
        name: str | None = None,
    ) -> None:
        """Encode the ``name`` stream (``encode`` of the configuration by default) to ``output``."""
        config = self.configuration()
        name = name or config["encode"]
        if encoder is None or name is None or config.get(name) is None:
            raise RuntimeError(f"Encode stream {name} was not defined")
        self.system.calls.append(("start_encoder", name))
        encoder.output = output
        encoder.start(*config[name]["size"])
        self.encoder = encoder

    def stop_encoder(self, encoders: Any = None) -> None:
        """Stop the running encoder."""
        self.system.calls.append(("stop_encoder", None))
        if self.encoder is not None:
            self.encoder.stop()
            self.encoder = None

    def capture_request(self, wait: Any = None, flush: Any = None) -> FakeRequest:
        """The next completed request; the caller must ``release()`` it."""
        self.system.calls.append(("capture_request", wait))
        if not self.started:
            raise RuntimeError("camera not started")
        if self.system.fail_reads > 0:
            self.system.fail_reads -= 1
            raise TimeoutError("frame wait timed out")
        self.system.outstanding += 1
        if self.encoder is not None:  # the real encoder gets every request on its own thread
            width, height = self.configuration()["main"]["size"]
            main = _render(self.system.scene, width, height, "RGB888", 0)
            self.encoder.encode(main, time.monotonic())
        return FakeRequest(self)

    @contextlib.contextmanager
    def captured_request(self, wait: Any = None, flush: Any = None) -> Iterator[FakeRequest]:
        """``capture_request`` whose request is released when the block ends."""
        request = self.capture_request(wait=wait, flush=flush)
        try:
            yield request
        finally:
            request.release()

    def stop(self) -> None:
        """Stop streaming."""
        self.system.calls.append(("stop", None))
        self.started = False

    def close(self) -> None:
        """Release the camera."""
        self.system.calls.append(("close", None))
        self.started = False


def _render(scene: Image, width: int, height: int, fmt: str, padding: int) -> Image:
    import cv2

    bgr = cv2.resize(scene, (width, height), interpolation=cv2.INTER_AREA)
    if fmt == "RGB888":  # picamera2's names give the byte order in a 32-bit word: B,G,R here
        return cast(Image, bgr)
    if fmt == "BGR888":
        return np.ascontiguousarray(bgr[..., ::-1])
    if fmt == "YUV420":
        # Pad on the right to the stride, as libcamera does, then lay the planes out as
        # picamera2's make_array does: (height*3/2, stride).
        stride = width + padding
        padded = np.zeros((height, stride, 3), np.uint8)
        padded[:, :width] = bgr
        return cast(Image, cv2.cvtColor(padded, cv2.COLOR_BGR2YUV_I420))
    raise RuntimeError(f"Format {fmt} not supported")
