"""A stand-in for picamera2 and libcamera, for tests and for trying configs without a Pi.

It honours the subset of the picamera2 API that :mod:`edgecam.camera.picamera2` uses, with the same
signatures and the same array layouts (the lores stream is YUV420 as ``height*3/2`` rows of
``stride`` bytes, padding included; ``MappedArray`` gives views of the buffers, ``make_array``
copies), and records every call so tests can pin them. The scene is a still image or a video (one
video frame per request, looped); each stream is rendered from it once per frame, so reading a
request costs what the real camera's buffers cost: nothing until the caller touches them. An
AI Camera (:mod:`edgecam.camera.fake_imx500`) runs the bundled COCO model on the frame it sees.
"""

from __future__ import annotations

import contextlib
import enum
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from edgecam.camera.fake_encoder import FakeH264Encoder, FakeOutput
from edgecam.camera.piapi import Picamera2Api
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
    video: Path | None = None
    """A video the camera looks at instead of ``scene``: one frame per request, looped."""
    paced: bool = False
    """Deliver requests at the configured frame rate, as a sensor does (else as fast as asked)."""
    pisp: bool = False
    """A Pi 5's ISP: the lores stream may be RGB (a Pi 4's VC4 refuses anything but YUV)."""
    firmware_seconds: float = 0.0
    """How long the AI Camera's network firmware upload takes after the camera starts."""
    imx500: Any = None
    """The fake AI Camera's state once an ``IMX500`` helper has been made (fake_imx500)."""
    frame_index: int = 0
    started_at: float = 0.0
    """When a camera last started (the firmware upload runs from then)."""
    keep_calls: int = 0
    """Keep only this many recorded calls (0: all), so a long run of the fake stays small."""
    main_copies: int = 0
    """Whole main-stream frames copied out (``make_array("main")``): snapshots only."""
    """Video frames shown so far."""
    _reader: Any = None
    _rendered: dict[tuple[int, int, str], Image] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | Path) -> FakeCameraSystem:
        """A paced camera looking at an image or a video file (``EDGECAM_FAKE_PICAMERA2``)."""
        from edgecam.imaging import read_image

        file = Path(path)
        # How long the fake AI Camera's firmware upload takes, for trying the start-up reports.
        upload = float(os.environ.get("EDGECAM_FAKE_FIRMWARE_SECONDS", "0") or 0)
        if file.suffix.lower() in {".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm"}:
            return cls(video=file, paced=True, firmware_seconds=upload, keep_calls=1000)
        return cls(scene=read_image(file), paced=True, firmware_seconds=upload, keep_calls=1000)

    def api(self) -> Picamera2Api:
        """The :class:`Picamera2Api` to hand to the source."""
        system = self

        class BoundPicamera2(FakePicamera2):
            def __init__(self, camera_num: int = 0, tuning: Any = None) -> None:
                super().__init__(system, camera_num, tuning)

        from edgecam.camera.fake_imx500 import bind_imx500

        return Picamera2Api(
            BoundPicamera2, Transform, AeExposureModeEnum, FakeH264Encoder, FakeOutput,
            FakeMappedArray, bind_imx500(self), self.pisp,
        )  # fmt: skip

    def next_frame(self) -> None:
        """Move the video on by one frame (a new exposure); a still scene stays."""
        if self.video is None:
            return
        import cv2

        if self._reader is None:
            self._reader = cv2.VideoCapture(str(self.video))
        ok, frame = self._reader.read()
        if not ok:  # looped, as a camera never ends
            self._reader.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._reader.read()
            if not ok:
                raise RuntimeError(f"fake camera: cannot read video {self.video}")
        self.scene = frame
        self.frame_index += 1
        self._rendered.clear()

    def rendered(self, width: int, height: int, fmt: str) -> Image:
        """The scene as a stream of this size and format delivers it (rendered once per frame)."""
        key = (width, height, fmt)
        if (image := self._rendered.get(key)) is None:
            padding = self.stride_padding if fmt == "YUV420" else 0
            image = self._rendered[key] = _render(self.scene, width, height, fmt, padding)
        return image


class FakeRequest:
    """Like ``picamera2.request.CompletedRequest``: arrays of the streams, then ``release()``."""

    def __init__(self, camera: FakePicamera2) -> None:
        self._camera = camera
        self.released = False

    def make_array(self, name: str) -> Image:
        """A copy of the named stream's image in its configured format (as picamera2 copies)."""
        if name == "main":
            self._camera.system.main_copies += 1
        return self.buffer(name).copy()

    def buffer(self, name: str) -> Image:
        """The named stream's buffer itself (what ``MappedArray`` maps)."""
        if self.released:
            raise RuntimeError("request already released")
        stream = self._camera.configuration()[name]
        width, height = stream["size"]
        return self._camera.system.rendered(width, height, stream["format"])

    def get_metadata(self) -> dict[str, Any]:
        """The request's metadata: the crop of the sensor, and the AI Camera's outputs."""
        if self.released:
            raise RuntimeError("request already released")
        metadata: dict[str, Any] = {"ScalerCrop": (0, 0, 4056, 3040), "SensorTimestamp": 0}
        if self._camera.system.imx500 is not None:
            metadata.update(self._camera.system.imx500.metadata(self._camera.system))
        return metadata

    def release(self) -> None:
        """Hand the buffers back to the camera."""
        if not self.released:
            self.released = True
            self._camera.system.outstanding -= 1
            self._camera.system.calls.append(("release", None))


class FakeMappedArray:
    """Like ``picamera2.MappedArray``: the stream's buffer in place, for the ``with`` block only."""

    def __init__(
        self, request: FakeRequest, stream: str, reshape: bool = True, write: bool = True
    ) -> None:
        self._request, self._stream, self._write = request, stream, write
        self.array: Image | None = None

    def __enter__(self) -> FakeMappedArray:
        view = self._request.buffer(self._stream).view()
        view.flags.writeable = self._write
        self.array = view
        return self

    def __exit__(self, *exc: object) -> None:
        self.array = None


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
        """Apply a configuration (the camera must be stopped); checked as picamera2 checks it."""
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        lores, main = camera_config.get("lores"), camera_config["main"]
        if lores is not None:
            if lores["size"][0] > main["size"][0] or lores["size"][1] > main["size"][1]:
                raise RuntimeError("lores stream dimensions may not exceed main stream")
            if not self.system.pisp and lores["format"] != "YUV420":
                raise RuntimeError("lores stream must be YUV")
        self.system.calls.append(("configure", camera_config))
        self._config = camera_config
        self._next_due = 0.0

    def camera_configuration(self) -> dict[str, Any]:
        """The applied configuration (picamera2's name)."""
        return self.configuration()

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
        self.started_at = self.system.started_at = time.monotonic()

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
        calls = self.system.calls
        calls.append(("capture_request", wait))
        if self.system.keep_calls and len(calls) > 2 * self.system.keep_calls:
            del calls[: -self.system.keep_calls]
        if not self.started:
            raise RuntimeError("camera not started")
        if self.system.fail_reads > 0:
            self.system.fail_reads -= 1
            raise TimeoutError("frame wait timed out")
        self._wait_for_frame(float(wait) if wait is not None else None)
        self.system.next_frame()
        self.system.outstanding += 1
        if self.encoder is not None:  # the real encoder gets every request on its own thread
            width, height = self.configuration()["main"]["size"]
            self.encoder.encode(self.system.rendered(width, height, "RGB888"), time.monotonic())
        return FakeRequest(self)

    def _wait_for_frame(self, wait: float | None) -> None:
        """Sleep until the next frame is due: after the AI Camera's upload, at the frame rate."""
        now = time.monotonic()
        due = now
        if self.system.imx500 is not None:
            due = max(due, self.started_at + self.system.firmware_seconds)
        if self.system.paced:
            limits = self.configuration()["controls"].get("FrameDurationLimits", (0, 0))
            due = max(due, self._next_due)
            self._next_due = max(due, now) + limits[0] / 1_000_000
        if wait is not None and due - now > wait:
            time.sleep(wait)
            raise TimeoutError("frame wait timed out")
        if due > now:
            time.sleep(due - now)

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

    started_at = 0.0
    _next_due = 0.0


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
