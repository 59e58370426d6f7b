"""JPEGs of the live view, encoded on demand only, at most ``stream_fps`` per camera and kind.

Nothing here runs on the pipeline thread: a frame is encoded when a viewer asks for it, and all
viewers asking within the same interval share one encoding (so 200 viewers cost one encode).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from edgecam.errors import CameraError
from edgecam.types import Image
from edgecam.web.overlay import DEFAULT_LAYERS, draw_overlay
from edgecam.web.view import ServiceView

QUALITY = 80


@dataclass(slots=True)
class _Cached:
    seq: int
    made: float
    jpeg: bytes


class LiveFrames:
    """Encodes each camera's latest analysed frame for viewers, rate-capped and shared."""

    def __init__(
        self, view: ServiceView, max_fps: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.view = view
        self.interval = 1.0 / max_fps
        self._clock = clock
        self._cache: dict[tuple[str, frozenset[str]], _Cached] = {}
        self._locks: dict[tuple[str, frozenset[str]], threading.Lock] = {}
        self._guard = threading.Lock()
        self.encoded = 0
        """JPEGs made so far (tests and the benchmark read it)."""

    def jpeg(
        self, camera: str, overlay: bool = True, layers: Collection[str] = DEFAULT_LAYERS
    ) -> bytes | None:
        """The latest frame as JPEG with ``layers`` drawn (none unless ``overlay``).

        None before the camera's first analysed frame; KeyError for an unknown camera. Blocks
        while another thread encodes the same picture, then shares its result.
        """
        key = (camera, frozenset(layers) if overlay else frozenset())
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            cached = self._cache.get(key)
            now = self._clock()
            if cached is not None and now - cached.made < self.interval:
                return cached.jpeg
            frame = self.view.latest_frame(camera)
            if frame is None:
                return None
            if cached is not None and cached.seq == frame.seq:
                cached.made = now
                return cached.jpeg
            image = frame.image
            if key[1]:
                cam_config = self.view.config().cameras.get(camera)
                motion = frame.motion() if "motion" in key[1] and frame.motion else ()
                image = draw_overlay(
                    image, cam_config, frame.detections, frame.tracks, layers=key[1],
                    regions=frame.regions, motion=motion,
                )  # fmt: skip
            jpeg = _encode(image)
            self._cache[key] = _Cached(frame.seq, now, jpeg)
            self.encoded += 1
            return jpeg


def _encode(image: Image) -> bytes:
    import cv2

    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    if not ok:
        raise CameraError("cannot encode the latest frame as JPEG")
    return bytes(data.tobytes())
