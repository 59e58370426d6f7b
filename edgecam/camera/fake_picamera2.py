"""A stand-in for picamera2 and libcamera, for tests and for trying configs without a Pi.

It honours the subset of the picamera2 API that :mod:`edgecam.camera.picamera2` uses, with the same
signatures and the same array layouts (the lores stream is YUV420 as ``height*3/2`` rows of
``stride`` bytes, padding included), and records every call so tests can pin them.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
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

        return Picamera2Api(BoundPicamera2, Transform, AeExposureModeEnum)


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

    def capture_request(self, wait: Any = None, flush: Any = None) -> FakeRequest:
        """The next completed request; the caller must ``release()`` it."""
        self.system.calls.append(("capture_request", wait))
        if not self.started:
            raise RuntimeError("camera not started")
        if self.system.fail_reads > 0:
            self.system.fail_reads -= 1
            raise TimeoutError("frame wait timed out")
        self.system.outstanding += 1
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
