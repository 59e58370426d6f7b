"""A camera's record stream: its packets go into the clip ring as they are, never decoded.

Most IP cameras send a small substream (decoded for detection) and a full-size main stream.
Decoding the main stream costs far more CPU than detecting on the substream (on a Pi 5 every
frame is decoded in software), so the main stream is only demuxed, on a thread of its own: each
packet goes into the camera's :class:`~edgecam.clips.ring.PacketRing`, and clips are remuxed
from it at the camera's full resolution. A failed record stream is reopened by the camera's
reconnect policy while detection goes on; meanwhile the camera reports ``degraded``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Literal

from pydantic import Field

from edgecam.camera.base import ReconnectPolicy, backoff_delay
from edgecam.camera.opencv import redact_url
from edgecam.camera.priority import lower_priority
from edgecam.clips.ring import PacketRing, copy_template
from edgecam.errors import CameraError
from edgecam.ratelimit import RateLimitedLog
from edgecam.schema import Duration, StrictModel
from edgecam.types import Image

log = logging.getLogger(__name__)

RECORDABLE = ("h264",)
"""Codecs a record stream may have: clips are MP4 that browsers play."""
RECORD_NICENESS = 5
"""As the capture threads: below inference, which must not wait for a demuxer."""

SNAPSHOT_PACKETS = 30
"""Most record-stream frames decoded for one full-size snapshot (from its newest keyframe)."""

RecordStatus = Literal["starting", "running", "reconnecting", "stopped"]


class RecordStreamConfig(StrictModel):
    """The camera's record stream (usually its full-size main stream): clips, never decoded."""

    url: str
    """``rtsp://...``, ``http://...`` or any FFmpeg input; reopened when it fails."""
    transport: Literal["tcp", "udp"] = "tcp"
    """RTSP transport; TCP survives lossy Wi-Fi without smeared frames."""
    open_timeout: Duration = Field(default=10.0, gt=0.0)
    """How long opening the stream may take before it counts as failed."""
    read_timeout: Duration = Field(default=10.0, gt=0.0)
    """How long the stream may go without data before it counts as failed (and is reopened)."""


def open_options(url: str, transport: str) -> dict[str, str]:
    """FFmpeg input options for a live stream at ``url``."""
    # FFmpeg reads 5 s ahead at open by default, then hands those packets over in a burst: their
    # arrival times would bunch up. One second finds the parameters; a keyframe carries the rest.
    options = {"analyzeduration": "1000000"}
    if url.lower().startswith(("rtsp://", "rtsps://")):
        options["rtsp_transport"] = transport
    return options


class RecordStream:
    """Demuxes one record stream into a ring on a thread; reopens it by the camera's policy."""

    def __init__(
        self, camera: str, config: RecordStreamConfig, ring: PacketRing, policy: ReconnectPolicy
    ) -> None:
        self.camera = camera
        self.config = config
        self.ring = ring
        self.policy = policy
        self.status: RecordStatus = "starting"
        self.packets = 0
        self.reconnects = 0
        self.decoded = 0
        """Frames decoded from this stream: only keyframes for full-size snapshots, on demand."""
        self.error: str | None = None
        self.size: tuple[int, int] | None = None
        self.last_packet_mono: float | None = None
        self._stop = threading.Event()
        self._noisy = RateLimitedLog(log)
        self._thread: threading.Thread | None = None

    @property
    def target(self) -> str:
        """The stream's URL, safe to log."""
        return redact_url(self.config.url)

    @property
    def running(self) -> bool:
        """True while the thread runs (started and not stopped)."""
        return self._thread is not None and not self._stop.is_set()

    def start(self) -> None:
        """Start demuxing on a new thread (returns at once; the thread opens the stream).

        Counters go on across stops and starts: the camera reopened, the stream is the same.
        """
        self._stop = threading.Event()
        self.status = "starting"
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name=f"record-{self.camera}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """End the thread; it closes its stream itself (within ``read_timeout`` if silent)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive() and threading.current_thread() is not thread:
            thread.join(timeout)
        self.status = "stopped"

    def snapshot(self) -> Image | None:
        """The newest full-size frame, decoded from the ring (snapshot thread, off the hot path).

        Decodes from the newest keyframe on, at most ``SNAPSHOT_PACKETS`` frames, with a decoder
        of its own (one thread, no loop filter skipped: this picture is for people).
        """
        import av

        packets, template = self.ring.latest_gop(SNAPSHOT_PACKETS)
        if not packets or template is None or template.encoded_here:
            return None
        ctx: Any = av.CodecContext.create(template.codec, "r")
        ctx.extradata = template.stream.codec_context.extradata
        ctx.thread_count = 1
        frames: list[Any] = []
        try:
            for entry in packets:
                # A copy: the clip writer may be muxing the ring's packet at the same moment.
                frames += ctx.decode(av.Packet(bytes(entry.packet)))
            frames += ctx.decode(None)
        except (av.FFmpegError, OSError, ValueError) as err:
            log.debug("camera %s: record-stream snapshot failed: %s", self.camera, err)
            return None
        self.decoded += len(frames)
        if not frames:
            return None
        image: Image = frames[-1].to_ndarray(format="bgr24")
        return image

    def health(self, now: float) -> dict[str, object]:
        """State and counters for stats, health and ``/metrics``."""
        last = self.last_packet_mono
        return {
            "status": self.status,
            "url": self.target,
            "size": list(self.size) if self.size else None,
            "packets": self.packets,
            "decoded": self.decoded,
            "reconnects": self.reconnects,
            "last_packet_age_s": None if last is None else round(now - last, 2),
            "error": self.error,
        }

    def _run(self, stop: threading.Event) -> None:
        lower_priority(RECORD_NICENESS)
        attempt = 0
        while not stop.is_set():
            try:
                container = self._open(stop)
            except CameraError as err:
                attempt += 1
                self._failed(stop, str(err), attempt)
                continue
            if attempt:
                self.reconnects += 1
                log.info("camera %s: record stream reconnected (attempt %d)", self.camera, attempt)
            try:
                self._demux(container, stop)
                attempt = 0
            except CameraError as err:
                attempt = 1
                self._failed(stop, str(err), attempt)
            finally:
                container.close()

    def _failed(self, stop: threading.Event, error: str, attempt: int) -> None:
        """The stream failed: clips in progress end; wait the backoff before the next open."""
        if stop.is_set():
            return
        self.status, self.error = "reconnecting", error
        self.ring.reset("record stream dropped")
        delay = backoff_delay(attempt, self.policy)
        self._noisy.warning("lost", "%s; detection goes on, clips resume once it is back; "
                            "reconnecting in %.1f s", error, delay)  # fmt: skip
        stop.wait(delay)

    def _open(self, stop: threading.Event) -> Any:
        import av

        config = self.config
        # Silence ends the stream at the camera's stall_timeout too: one policy for both streams.
        silence = min(config.read_timeout, self.policy.stall_timeout)
        try:
            container = av.open(
                config.url, options=open_options(config.url, config.transport),
                timeout=(config.open_timeout, silence),
            )  # fmt: skip
        except (av.FFmpegError, OSError, ValueError) as err:
            raise CameraError(
                f"camera {self.camera!r}: cannot open record stream {self.target}: {err}"
            ) from err
        if not container.streams.video:
            container.close()
            raise CameraError(f"camera {self.camera!r}: record stream {self.target} has no video")
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if codec not in RECORDABLE:
            container.close()
            raise CameraError(
                f"camera {self.camera!r}: record stream {self.target} is {codec}, not H.264; "
                "set the camera's stream to H.264 (clips are MP4 that browsers play)"
            )
        self.size = (stream.codec_context.width, stream.codec_context.height)
        if stop.is_set():  # stopped while opening: the ring is the next thread's
            container.close()
            raise CameraError(f"camera {self.camera!r}: record stream stopped")
        self.ring.set_template(copy_template(stream))
        log.info("camera %s: record stream %s opened (%s %dx%d), demuxed for clips, not decoded",
                 self.camera, self.target, codec, *self.size)  # fmt: skip
        return container

    def _demux(self, container: Any, stop: threading.Event) -> None:
        import av

        stream = container.streams.video[0]
        try:
            for packet in container.demux(stream):
                if stop.is_set():
                    return
                if not packet.size:
                    continue  # the flush packet at the end
                now = time.monotonic()
                self.ring.append(packet, now, bool(packet.is_keyframe))
                self.packets += 1
                self.last_packet_mono = now
                if self.status != "running":
                    self.status, self.error = "running", None
        except (av.FFmpegError, OSError) as err:
            raise CameraError(
                f"camera {self.camera!r}: record stream {self.target} failed: {err}"
            ) from err
        if not stop.is_set():
            raise CameraError(f"camera {self.camera!r}: record stream {self.target} ended")
