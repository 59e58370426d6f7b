"""Still-image source: one or more pictures presented as a stream of frames."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import Field

from edgecam.errors import CameraError
from edgecam.imaging import read_image
from edgecam.schema import ConfigPath, StrictModel
from edgecam.types import Image


class ImageSourceConfig(StrictModel):
    """Frames from still images, shown in turn."""

    type: Literal["image"] = "image"
    paths: list[ConfigPath] = Field(min_length=1)
    """Image files, relative to the config file's directory."""
    fps: float = Field(default=1.0, gt=0.0, le=120.0)
    """How many images per second to present."""
    loop: bool = False
    """Present the images again and again instead of ending."""


class ImageSource:
    """Presents still images as frames, decoding each once."""

    def __init__(self, name: str, config: ImageSourceConfig) -> None:
        self.name = name
        self.config = config
        self._images: list[Image] = []
        self._index = 0
        self._shown = 0
        self._next_due = 0.0
        self.start_wall = 0.0
        """Wall-clock time of the first frame: when the images were opened."""
        self.frame_time = 0.0
        """Presentation time of the image last read: images shown so far / ``fps``."""

    @property
    def nominal_fps(self) -> float | None:
        """The configured presentation rate."""
        return self.config.fps

    def open(self) -> None:
        """Decode every image up front so bad files fail at start-up."""
        self._images = [read_image(p) for p in self.config.paths]
        self._index = 0
        self._shown = 0
        self.start_wall = time.time()
        self._next_due = time.monotonic()

    def read(self) -> Image | None:
        """The next image (a copy, since the consumer may keep it)."""
        if not self._images:
            raise CameraError(f"camera {self.name!r}: read before open")
        if self._index >= len(self._images):
            if not self.config.loop:
                return None
            self._index = 0
        delay = self._next_due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next_due = max(self._next_due, time.monotonic()) + 1.0 / self.config.fps
        image = self._images[self._index].copy()
        self._index += 1
        self.frame_time = self._shown / self.config.fps
        self._shown += 1
        return image

    def close(self) -> None:
        """Forget the decoded images."""
        self._images = []
