"""Snapshots: the frame of an event as a JPEG with the box and the zone or line drawn."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from edgecam.config.base import ConfigPath, StrictModel
from edgecam.rules.events import Event
from edgecam.types import Box, Frame

if TYPE_CHECKING:
    from edgecam.config.models import CameraConfig
    from edgecam.rules.engine import RuleEngine

log = logging.getLogger(__name__)

_EVENT = (255, 64, 32)
_OTHER = (255, 210, 0)
_AREA = (0, 200, 255)


def _px(point: Sequence[float], size: tuple[int, int]) -> tuple[int, int]:
    return round(point[0] * (size[0] - 1)), round(point[1] * (size[1] - 1))


def wants_snapshot(engine: RuleEngine, event: Event) -> bool:
    """True for alerts (not ``end``) of rules with ``snapshot: true``."""
    if event.type == "end":
        return False
    try:
        return engine.rule(event.camera, event.rule).config.snapshot
    except KeyError:
        return False


def render_snapshot(
    frame: Frame,
    event: Event,
    camera: CameraConfig | None = None,
    *,
    boxes: Sequence[Box] = (),
    quality: int = 85,
) -> bytes:
    """JPEG bytes of ``frame`` with the event's zone or line, ``boxes`` and the event's box."""
    import cv2

    image = frame.image.copy()  # draw on a copy: the frame may still be in use
    size = frame.size
    thick = max(1, round(min(size) / 240))
    if camera is not None and event.zone in camera.zones:
        poly = np.array([_px(p, size) for p in camera.zones[event.zone].polygon], np.int32)
        cv2.polylines(image, [poly], True, _AREA[::-1], thick, cv2.LINE_AA)
    if camera is not None and event.line in camera.lines:
        a, b = (_px(p, size) for p in camera.lines[event.line].points)
        cv2.arrowedLine(image, a, b, _AREA[::-1], thick, cv2.LINE_AA, tipLength=0.03)
    for box in boxes:
        cv2.rectangle(image, _px(box[:2], size), _px(box[2:], size), _OTHER[::-1], thick)
    if event.box is not None:
        top_left = _px(event.box[:2], size)
        cv2.rectangle(image, top_left, _px(event.box[2:], size), _EVENT[::-1], thick + 1)
        caption = " ".join(
            s for s in (event.label, f"#{event.track_id}" if event.track_id else None) if s
        )
        org = (top_left[0], max(12, top_left[1] - 4))
        cv2.putText(image, caption, org, cv2.FONT_HERSHEY_SIMPLEX, 0.45, _EVENT[::-1], 1)
    title = f"{event.rule} {event.type}" + (f" {event.direction}" if event.direction else "")
    cv2.putText(image, title, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 2)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(jpeg.tobytes())


class SnapshotStoreConfig(StrictModel):
    """Keep event snapshots on disk, oldest deleted first."""

    path: ConfigPath
    """Directory for the JPEG files (one subdirectory per camera)."""
    max_files: int = Field(default=1000, ge=1)
    """Most files kept, all cameras together."""
    max_bytes: int = Field(default=200_000_000, ge=1)
    """Most bytes kept, all cameras together."""


class SnapshotStore:
    """Writes snapshots as ``<camera>/<time>_<rule>.jpg`` and prunes past the limits.

    It is an event sink: the pipeline hands it snapshots like any other sink.
    """

    def __init__(self, config: SnapshotStoreConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._files: list[tuple[Path, int]] = []
        self._bytes = 0
        self._seq = 0
        self._scan()

    def _scan(self) -> None:
        """Pick up files of earlier runs, so limits hold across restarts."""
        root = self.config.path
        found = sorted(root.glob("*/*.jpg"), key=lambda p: (p.stat().st_mtime, p.name))
        self._files = [(p, p.stat().st_size) for p in found]
        self._bytes = sum(size for _, size in self._files)

    def emit(self, event: Event) -> None:
        """Events are not stored here."""

    def stats(self, stats: Mapping[str, object]) -> None:
        """Stats are not stored here."""

    def close(self) -> None:
        """Nothing to flush: every write is complete when :meth:`snapshot` returns."""

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        """Write one JPEG, then delete the oldest files past the limits."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self._clock()))
        self._seq += 1
        path = self.config.path / camera / f"{stamp}_{self._seq:06d}_{rule}.jpg"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(jpeg)
        except OSError as err:
            log.warning("cannot write snapshot %s: %s", path, err)
            return
        self._files.append((path, len(jpeg)))
        self._bytes += len(jpeg)
        self._prune()

    def _prune(self) -> None:
        cfg = self.config
        while self._files and (len(self._files) > cfg.max_files or self._bytes > cfg.max_bytes):
            path, size = self._files.pop(0)
            self._bytes -= size
            path.unlink(missing_ok=True)

    @property
    def files(self) -> list[Path]:
        """The kept files, oldest first."""
        return [p for p, _ in self._files]
