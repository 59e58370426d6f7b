"""The clip writer thread: finished clips are muxed to MP4 off the camera and detector threads."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edgecam.clips.job import ClipJob
from edgecam.clips.mp4 import ClipWriteError, write_mp4
from edgecam.jobs import JobThread

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClipResult:
    """How one clip came out: written (``path``) or not (``error``), and if it is shorter, why."""

    job: ClipJob
    path: Path | None
    error: str | None = None
    disk_full: bool = False
    frames: int = 0
    duration: float = 0.0
    bytes: int = 0

    def info(self) -> dict[str, object]:
        """The JSON form kept with the event and published on the clip topic."""
        job = self.job
        template = job.template
        return {
            "id": job.ref.id,
            "url": job.ref.url if self.path is not None else None,
            "path": None if self.path is None else str(self.path),
            "status": "ready" if self.path is not None else "failed",
            "error": self.error,
            "frames": self.frames,
            "duration_s": round(self.duration, 3),
            "bytes": self.bytes,
            "truncated": list(job.truncated),
            "codec": None
            if template is None
            else "h264"
            if template.encoded_here
            else template.codec,
            "reencoded": None if template is None else template.encoded_here,
        }


@dataclass(slots=True)
class WriterStats:
    """Counters for stats and ``/metrics``."""

    written: int = 0
    failed: int = 0
    disk_full: int = 0
    truncated: int = 0
    bytes: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class ClipWriter:
    """Writes finished :class:`ClipJob` s one after another; reports each :class:`ClipResult`."""

    def __init__(
        self,
        on_result: Callable[[ClipResult], None],
        min_free_bytes: int = 0,
    ) -> None:
        self._on_result = on_result
        self._min_free = min_free_bytes
        self._jobs = JobThread("clip-writer", self._handle)
        self._warned_full = False
        self.stats = WriterStats()

    def submit(self, job: ClipJob) -> None:
        """Queue a finished clip (any thread); starts the thread on first use."""
        self._jobs.submit(job)

    def close(self, timeout: float) -> None:
        """Write what is queued, for at most ``timeout`` seconds; clips not begun by then are
        dropped (a clip being written is finished: its ``.part`` file only becomes a clip once
        complete, and a killed process's ``.part`` files are removed at the next start).
        Each dropped clip is reported as failed, so its event says so."""
        done = self._jobs.close(timeout)
        if dropped := self._jobs.abandon_jobs():
            log.warning("clips: %d not written, the service is stopping", len(dropped))
        if not done:
            self._jobs.join(max(1.0, timeout / 2))  # let the clip in progress finish
        for job in dropped:
            self._report(ClipResult(job, None, error="not written: the service stopped first"))

    def _handle(self, job: ClipJob) -> None:
        try:
            result = self._write(job)
        except Exception as err:  # a bug in one clip must not end the writer
            log.exception("clip %s failed", job.ref.path)
            result = ClipResult(job, None, error=f"{type(err).__name__}: {err}")
        self._report(result)

    def _report(self, result: ClipResult) -> None:
        self._count(result)
        try:
            self._on_result(result)
        except Exception:
            log.exception("clip result handler failed")

    def _write(self, job: ClipJob) -> ClipResult:
        if job.template is None or not job.packets:
            return ClipResult(job, None, error="no video in the buffer (camera not delivering)")
        directory = job.ref.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(directory).free
        if free < self._min_free + job.bytes:
            return self._disk_full(job, f"only {free} bytes free in {directory}")
        started = time.monotonic()
        try:
            meta = {"comment": "; ".join(job.truncated)} if job.truncated else {}
            meta["title"] = f"{job.camera} {job.rule} {job.ref.id}"
            written = write_mp4(job.ref.path, job.template, job.packets, meta)
        except ClipWriteError as err:
            if err.disk_full:
                return self._disk_full(job, str(err))
            log.warning("%s", err)
            return ClipResult(job, None, error=str(err))
        self._warned_full = False
        log.debug("clip %s: %d frames in %.0f ms", written.path, written.frames,
                  (time.monotonic() - started) * 1000)  # fmt: skip
        return ClipResult(
            job, written.path, frames=written.frames, duration=written.duration,
            bytes=written.bytes,
        )  # fmt: skip

    def _disk_full(self, job: ClipJob, detail: str) -> ClipResult:
        if not self._warned_full:
            self._warned_full = True  # once, until a clip is written again
            log.warning(
                "clips: disk full (%s): clips are not written until space is free; events are "
                "still delivered (counted in edgecam_clips_failed{reason=\"disk_full\"})", detail
            )  # fmt: skip
        return ClipResult(job, None, error="disk full", disk_full=True)

    def _count(self, result: ClipResult) -> None:
        stats = self.stats
        if result.path is None:
            stats.failed += 1
            stats.disk_full += result.disk_full
            reason = "disk_full" if result.disk_full else "error"
            stats.reasons[reason] = stats.reasons.get(reason, 0) + 1
            return
        stats.written += 1
        stats.bytes += result.bytes
        stats.truncated += bool(result.job.truncated)
