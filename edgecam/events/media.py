"""Clip and snapshot files under a size and an age cap, oldest deleted first."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from edgecam.clips.mp4 import PART_SUFFIX

log = logging.getLogger(__name__)

KINDS = ("*/*.mp4", "*/*.jpg")


class MediaStore:
    """Files ``<camera>/<name>.mp4`` and ``.jpg`` of a directory, under a size and an age cap."""

    def __init__(
        self,
        root: Path,
        max_bytes: int,
        max_age: float,
        clock: Callable[[], float] = time.time,
        on_removed: Callable[[Path], None] | None = None,
    ) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._clock = clock
        self._on_removed = on_removed
        self._lock = threading.Lock()
        self._files: list[tuple[float, Path, int]] = []
        self._bytes = 0
        self.removed = 0
        self._scan()

    def _scan(self) -> None:
        """Pick up earlier runs' files (limits hold across restarts); drop unfinished ones."""
        for part in self.root.glob(f"*/*{PART_SUFFIX}"):
            log.info("removing unfinished clip %s of an earlier run", part)
            part.unlink(missing_ok=True)
        found = []
        for pattern in KINDS:
            for path in self.root.glob(pattern):
                stat = path.stat()
                found.append((stat.st_mtime, path, stat.st_size))
        self._files = sorted(found)
        self._bytes = sum(size for _, _, size in self._files)
        self.prune()

    @property
    def bytes(self) -> int:
        """Bytes of the kept files."""
        return self._bytes

    @property
    def files(self) -> list[Path]:
        """The kept files, oldest first."""
        return [path for _, path, _ in self._files]

    def add(self, path: Path) -> None:
        """Count a newly written file, then prune past the caps."""
        size = path.stat().st_size
        with self._lock:
            self._files.append((self._clock(), path, size))
            self._bytes += size
        self.prune()

    def prune(self) -> None:
        """Delete files older than ``max_age``, then the oldest while over ``max_bytes``."""
        cutoff = self._clock() - self.max_age
        gone: list[Path] = []
        with self._lock:
            files = self._files
            while files and (files[0][0] < cutoff or self._bytes > self.max_bytes):
                _, path, size = files.pop(0)
                self._bytes -= size
                gone.append(path)
        for path in gone:
            path.unlink(missing_ok=True)
            self.removed += 1
            if self._on_removed is not None:
                self._on_removed(path)
