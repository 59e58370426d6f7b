"""Event snapshots kept on disk: a sink that writes JPEGs and prunes the oldest past its limits."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import Field

from edgecam.event import Event
from edgecam.ratelimit import RateLimitedLog
from edgecam.schema import ConfigPath, StrictModel

log = logging.getLogger(__name__)


class SnapshotStoreConfig(StrictModel):
    """Keep event snapshots on disk, oldest deleted first."""

    path: ConfigPath
    """Directory for the JPEG files (one subdirectory per camera)."""
    max_files: int = Field(default=1000, ge=1)
    """Most files kept, all cameras together."""
    max_bytes: int = Field(default=200_000_000, ge=1)
    """Most bytes kept, all cameras together."""


class SnapshotStore:
    """Writes snapshots as ``<camera>/<time>_<seq>_<rule>.jpg`` and prunes past the limits.

    An event sink that takes only snapshots (:class:`~edgecam.publish.base.TakesSnapshots`).
    """

    def __init__(self, config: SnapshotStoreConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._files: list[tuple[Path, int]] = []
        self._bytes = 0
        self._seq = 0
        self._noisy = RateLimitedLog(log)
        self._scan()

    def _scan(self) -> None:
        """Pick up files of earlier runs, so limits hold across restarts."""
        root = self.config.path
        found = sorted(root.glob("*/*.jpg"), key=lambda p: (p.stat().st_mtime, p.name))
        self._files = [(p, p.stat().st_size) for p in found]
        self._bytes = sum(size for _, size in self._files)

    def emit(self, event: Event) -> None:
        """Events are not stored here."""

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
            self._noisy.warning("write", "cannot write snapshot %s: %s", path, err)
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
