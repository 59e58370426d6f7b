"""The capture loop: one thread per camera reading its source into a latest-frame slot.

Files and stills end; live sources (cameras, streams) never do: a failed open or read, or a
frame that comes only after ``stall_timeout`` of silence, closes the source and opens it again after
a capped exponential backoff, while the rest of the service runs on. The thread's ``status`` and
counters are what stats and health report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Literal, Protocol

from edgecam.camera.base import (
    CountsDecodes,
    ExtrasSource,
    FrameSource,
    GrabbingSource,
    ReconnectPolicy,
    RecordedSource,
    TwoStreamSource,
    ViewSource,
    backoff_delay,
)
from edgecam.camera.priority import capture_niceness, lower_priority
from edgecam.camera.slot import LatestFrameSlot
from edgecam.errors import CameraError
from edgecam.ratelimit import RateLimitedLog
from edgecam.types import Frame, Image

log = logging.getLogger(__name__)

Status = Literal[
    "starting", "running", "degraded", "stalled", "reconnecting", "ended", "failed", "stopped"
]
"""``degraded``: frames come, but the camera's record stream is down (no clips meanwhile)."""

__all__ = ["CaptureThread", "ReconnectPolicy", "Status", "backoff_delay", "is_live"]


class CaptureTap(Protocol):
    """Sees every captured frame on the capture thread (the clip ring); must return at once."""

    def frame(self, frame: Frame) -> None:
        """A frame was captured."""

    def lost(self) -> None:
        """The source failed and is being reopened."""


def is_live(source: FrameSource) -> bool:
    """Live sources are reopened on failure; files and stills end or fail for good."""
    return bool(getattr(source, "live", False))


class CaptureThread(threading.Thread):
    """Reads frames as fast as the source gives them; the newest frame waits in ``slot``."""

    def __init__(
        self,
        source: FrameSource,
        slot: LatestFrameSlot,
        stop: threading.Event,
        ready: threading.Event,
        *,
        policy: ReconnectPolicy | None = None,
        fit: Callable[[Image], Image] | None = None,
    ) -> None:
        super().__init__(name=f"capture-{source.name}", daemon=True)
        self.source = source
        self.fit = fit
        """Fits each frame to the detector's input here, off the detector's thread."""
        self.slot = slot
        self.tap: CaptureTap | None = None
        """Gets every frame before the slot (clips keep their packets from it)."""
        self.policy = policy or ReconnectPolicy()
        if isinstance(source, TwoStreamSource):
            source.follow_policy(self.policy)
        self.live = is_live(source)
        self._noisy = RateLimitedLog(log)
        self._recorded = source if isinstance(source, RecordedSource) else None
        self._extras = source if isinstance(source, ExtrasSource) else None
        self._views = source if isinstance(source, ViewSource) else None
        """The source, when its frames carry their own (video) time."""
        self._grabbing = source if isinstance(source, GrabbingSource) else None
        self.wanted: Callable[[float], bool] | None = None
        """Whether the detector may take a frame captured at this time (its ``fps`` cap, read
        each frame, so a reload applies at once); a frame it never takes is decoded but not
        converted or fitted. None: every frame is."""
        self._delivered_at = float("-inf")
        self._read_at = 0.0
        self._stop_event = stop
        self._ready = ready
        self._opened = False
        self._first_open = threading.Event()
        self._attempt = 0
        self._warned_at = float("-inf")
        self.status: Status = "starting"
        self.frames = 0
        self.reconnects = 0
        self.read_errors = 0
        self.stalls = 0
        self.unconverted = 0
        """Frames decoded but never converted to BGR: the detector would not have taken them."""
        self.last_frame_mono: float | None = None
        self.error: CameraError | None = None
        """The last error; for a live source it may be cleared again by a reconnect."""

    def start(self) -> None:
        """Start the thread and wait for its first open of the source.

        The thread opens the source itself, after lowering its priority, so that threads the
        source starts (FFmpeg's decoder threads) inherit that priority. A file or still that
        cannot be opened raises :class:`CameraError` here; a live source is retried in the
        background.
        """
        super().start()
        if self.live and getattr(self.source, "slow_open", False):
            return  # the AI Camera's first open uploads firmware: minutes, reported meanwhile
        self._first_open.wait()
        if self.status == "failed" and self.error is not None:
            raise self.error

    def request_stop(self) -> None:
        """Ask the thread to end (it closes its source and slot on the way out)."""
        self._stop_event.set()

    def run(self) -> None:
        """Read until the source ends, fails for good or the service stops; then close the slot."""
        lower_priority(capture_niceness(self.source))
        try:
            self._open_first()
            self._loop()
            if self.status not in ("ended", "failed"):
                self.status = "stopped"
        except CameraError as err:
            self._fail(err)
        except Exception as err:  # a backend's bug: this camera fails, the service runs on
            log.exception("camera %s: capture failed", self.source.name)
            self._fail(CameraError(f"camera {self.source.name!r}: {type(err).__name__}: {err}"))
        finally:
            self.source.close()
            self.slot.close()
            self._first_open.set()
            self._ready.set()

    def _fail(self, err: CameraError) -> None:
        self.error = err
        self.status = "failed"
        if self._first_open.is_set():  # else start() raises it to the caller
            log.error("%s", err)

    def _open_first(self) -> None:
        err = self._try_open()
        if err is not None:
            if not self.live:
                raise err
            self._note_error(err)
            log.warning("%s; retrying in the background", err)
        self._first_open.set()

    def _try_open(self) -> CameraError | None:
        """Open the source; the error if it failed (any exception, so a live camera retries)."""
        try:
            self.source.open()
        except CameraError as err:
            return err
        except Exception as err:
            log.debug("camera %s: open raised", self.source.name, exc_info=True)
            return CameraError(
                f"camera {self.source.name!r}: cannot open: {type(err).__name__}: {err}; check the "
                "camera and its source settings (run with --debug for the traceback)"
            )
        self._opened = True
        return None

    def _loop(self) -> None:
        while not self._stop_event.is_set():
            if not self._opened:
                if not self._reopen():
                    return
                continue
            try:
                image = self._read()
            except Exception as err:
                if not self.live:
                    raise
                self.read_errors += 1
                self._lost(err)
                continue
            if image is None:
                log.info("camera %s: end of stream after %d frames", self.source.name, self.frames)
                self.status = "ended"
                return
            if not isinstance(image, _Skipped):
                self._deliver(image, self._read_at)

    def _read(self) -> Image | _Skipped | None:
        """The next frame; ``SKIPPED`` for one decoded but not wanted (not converted)."""
        grabbing = self._grabbing
        if grabbing is None:
            image = self.source.read()
            return image if image is None else self._checked(image)
        if not grabbing.grab():
            return None
        # The frame's capture time is when it was decoded: what ``wanted`` was asked about.
        self._read_at = now = time.monotonic()
        if self._stall(now):
            return SKIPPED
        wanted = self.wanted
        mono = self._recorded.frame_time if self._recorded is not None else now
        if wanted is not None and not wanted(mono) and mono - self._delivered_at < KEEPALIVE:
            self.unconverted += 1
            self._came(now)
            return SKIPPED
        return grabbing.retrieve()

    def _checked(self, image: Image) -> Image | _Skipped:
        self._read_at = now = time.monotonic()
        return SKIPPED if self._stall(now) else image

    def _stall(self, now: float) -> bool:
        """A frame after a stall: the source is closed (and reopened), the frame dropped."""
        if not (self.live and self._stalled(now)):
            return False
        self.stalls += 1
        self._lost(CameraError(f"camera {self.source.name!r}: stalled, no frame for "
                               f"{now - (self.last_frame_mono or now):.1f} s"))  # fmt: skip
        return True

    def _deliver(self, image: Image, now: float) -> None:
        fitted = self.fit(image) if self.fit is not None else None
        crops, found = self._extras.frame_extras() if self._extras is not None else (None, None)
        if (recorded := self._recorded) is not None:
            # Video time: the same clip gives the same events at any decoding speed.
            t = recorded.frame_time
            frame = Frame(image, self.frames, t, recorded.start_wall + t, self.source.name, fitted)
        else:
            name = self.source.name
            views = self._views.frame_views() if self._views is not None else None
            frame = Frame(image, self.frames, now, time.time(), name, fitted, crops, found, views)
        self.frames += 1
        self._delivered_at = frame.mono
        if self.tap is not None:
            self.tap.frame(frame)
        self._came(now)
        self.slot.put(frame, self._stop_event)
        self._ready.set()

    def _came(self, now: float) -> None:
        """A frame came (delivered or not): the source is running, not stalled."""
        self.last_frame_mono = now
        self._attempt = 0
        if self.status != "running":
            self.status = "running"
            self.error = None

    def _stalled(self, now: float) -> bool:
        last = self.last_frame_mono
        return last is not None and now - last > self.policy.stall_timeout

    def _lost(self, err: Exception) -> None:
        """Note a failed read and close the source; the next turn of the loop reopens it."""
        wrapped = err if isinstance(err, CameraError) else CameraError(
            f"camera {self.source.name!r}: read failed: {type(err).__name__}: {err}"
        )  # fmt: skip
        self._note_error(wrapped)
        self._noisy.warning("lost", "%s; reconnecting", wrapped)
        if self.tap is not None:
            self.tap.lost()
        self.source.close()
        self._opened = False

    def _note_error(self, err: CameraError) -> None:
        self.error = err
        self.status = "reconnecting"

    def _reopen(self) -> bool:
        """Wait the backoff, then open; False if the service stopped meanwhile."""
        self._attempt += 1
        delay = backoff_delay(self._attempt, self.policy)
        if self._stop_event.wait(delay):
            return False
        if (err := self._try_open()) is not None:
            self._note_error(err)
            self._report_failed_open(err)
            return True
        self.reconnects += 1
        # A reopened source gets a fresh stall clock: silence while closed is not a stall.
        self.last_frame_mono = None
        log.info("camera %s: reconnected (attempt %d)", self.source.name, self._attempt)
        return True

    def _report_failed_open(self, err: CameraError) -> None:
        """A warning for the first attempts, then one reminder every ``REMIND_EVERY`` seconds.

        A camera that stays away for days must not fill the journal; stats and ``/healthz``
        show its state all along.
        """
        now = time.monotonic()
        next_in = backoff_delay(self._attempt + 1, self.policy)
        if self._attempt <= LOUD_ATTEMPTS:
            self._warned_at = now
            log.warning("%s; next attempt in %.1f s", err, next_in)
        elif now - self._warned_at >= REMIND_EVERY:
            self._warned_at = now
            log.warning(
                "%s; still failing after %d attempts, retrying every %.0f s (this is repeated "
                "every %.0f min)", err, self._attempt, next_in, REMIND_EVERY / 60,
            )  # fmt: skip
        else:
            log.debug("%s; next attempt in %.1f s", err, next_in)

    def health(self, now: float) -> dict[str, object]:
        """The camera's status for stats and health: state, counters, age of the last frame."""
        age = None if self.last_frame_mono is None else round(now - self.last_frame_mono, 2)
        status: Status = self.status
        if status == "running" and self.live and self._stalled(now):
            status = "stalled"
        health: dict[str, object] = {
            "status": status,
            "frames": self.frames,
            "reconnects": self.reconnects,
            "read_errors": self.read_errors,
            "stalls": self.stalls,
            "last_frame_age_s": age,
            "error": str(self.error) if self.error else None,
            **({"detail": detail} if (detail := self.starting_detail()) else {}),
        }
        if isinstance(self.source, CountsDecodes):
            health["decoded"] = self.source.decoded
        if self._grabbing is not None:
            health["unconverted"] = self.unconverted
        source = self.source
        record = source.record_health(now) if isinstance(source, TwoStreamSource) else None
        if record is not None:
            health["record"] = record
            if status == "running" and record["status"] != "running":
                # Detection goes on; clips wait for the record stream: one camera, one health.
                health["status"] = "degraded"
        return health

    def starting_detail(self) -> str | None:
        """What a camera still starting is waiting for (the AI Camera's firmware upload)."""
        if self.status not in ("starting", "reconnecting"):
            return None
        detail = getattr(self.source, "loading", None)
        return detail if isinstance(detail, str) else None


class _Skipped:
    """The type of :data:`SKIPPED`."""


SKIPPED = _Skipped()
"""A frame read but not delivered (not wanted, or after a stall)."""
KEEPALIVE = 1.0
"""Seconds (of the frames' clock) after which a frame is delivered even if the detector will not
take it: the pipeline's heartbeat stays fresh, and a clip ring fed at each delivered frame gets
its packets at most this late, whatever the ``fps`` cap."""
LOUD_ATTEMPTS = 3
"""Failed reopen attempts in a row that each log a warning; later ones only now and then."""
REMIND_EVERY = 600.0
"""Seconds between warnings while a camera stays unreachable."""
