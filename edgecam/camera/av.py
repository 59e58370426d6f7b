"""PyAV source: RTSP/HTTP streams and video files through FFmpeg, keeping the encoded packets.

Frames are decoded for the detector as with OpenCV, but the demuxed packets are kept too (when a
rule wants clips), so an H.264 stream's clips are remuxed from the camera's own packets and never
re-encoded. PyAV's wheels bundle FFmpeg, so nothing else needs installing.

With ``record:`` the camera has a second stream (its full-size main stream, while ``url`` is its
substream): only demuxed, on a thread of its own, into the clip ring (:mod:`edgecam.camera.record`);
how the detect stream is decoded is ``decode:`` (:mod:`edgecam.camera.decoding`).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field, model_validator

from edgecam.camera.base import ReconnectPolicy
from edgecam.camera.decoding import DecodeConfig, describe, hardware_decoder, software_options
from edgecam.camera.opencv import redact_url
from edgecam.camera.pace import RealtimePacer
from edgecam.camera.record import RecordStream, RecordStreamConfig, open_options
from edgecam.clips.ring import PacketRing, StreamTemplate, copy_template
from edgecam.errors import CameraError
from edgecam.schema import ConfigPath, Duration, StrictModel
from edgecam.types import Image

log = logging.getLogger(__name__)

REMUXABLE = ("h264",)
"""Codecs whose packets clips keep as they are (browsers play H.264 in MP4)."""


class AvSourceConfig(StrictModel):
    """A network stream (``url``) or a video file (``path``) read with PyAV (FFmpeg)."""

    type: Literal["av"] = "av"
    url: str | None = None
    """Stream: ``rtsp://...``, ``http://...`` or any FFmpeg input; reopened when it fails."""
    path: ConfigPath | None = None
    """Video file; relative to the config file's directory; ends at its end."""
    transport: Literal["tcp", "udp"] = "tcp"
    """RTSP transport; TCP survives lossy Wi-Fi without smeared frames."""
    pace: Literal["realtime", "fast", "every"] = "realtime"
    """Files only: ``realtime`` at the file's own rate, ``fast``, or ``every`` frame analysed."""
    open_timeout: Duration = Field(default=10.0, gt=0.0)
    """How long opening a stream may take before it counts as failed."""
    read_timeout: Duration = Field(default=10.0, gt=0.0)
    """How long a stream may go without delivering data before a read counts as failed."""
    decode: DecodeConfig = Field(default_factory=DecodeConfig)
    """How this (the detect) stream is decoded: threads, skipped frames, the hardware decoder."""
    record: RecordStreamConfig | None = None
    """The camera's full-size stream for clips: demuxed, never decoded; ``url`` is then the
    small detect stream (the camera's substream)."""

    @model_validator(mode="after")
    def _one_of_url_or_path(self) -> AvSourceConfig:
        if (self.url is None) == (self.path is None):
            raise ValueError("give exactly one of url (a stream) or path (a video file)")
        if self.record is not None and self.url is None:
            raise ValueError("record needs url: a record stream goes with a live detect stream, "
                             "not a video file")  # fmt: skip
        return self


class AvSource:
    """Demuxes and decodes with PyAV; keeps each frame's packets for clips when asked to."""

    def __init__(self, name: str, config: AvSourceConfig) -> None:
        self.name = name
        self.config = config
        self.live = config.url is not None
        self._container: Any = None
        self._stream: Any = None
        self._packets: Iterator[Any] | None = None
        self._decoded: deque[Any] = deque()
        self._frame: Any = None
        """The frame last grabbed, until it is retrieved."""
        self._keep = False
        self._kept: list[Any] = []
        self._template: StreamTemplate | None = None
        self._fps: float | None = None
        self._pacer = RealtimePacer()
        self._frame_time: float | None = None
        self._first_time: float | None = None
        self._decoder: Any = None
        self._hardware_failed = False
        self.decoded = 0
        """Frames decoded from the detect stream (``edgecam_frames_decoded``)."""
        self._ring: PacketRing | None = None
        self._policy = ReconnectPolicy()
        self._record: RecordStream | None = None
        if not self.live:
            # A recording's frames carry video time (RecordedSource): the capture thread checks
            # for these attributes when it is made, before the first open.
            self.start_wall = 0.0
            self.frame_time = 0.0

    @property
    def target(self) -> str:
        """What is opened, safe to log (credentials removed)."""
        return redact_url(self.config.url) if self.config.url else str(self.config.path)

    @property
    def nominal_fps(self) -> float | None:
        """The stream's frame rate, if it says."""
        return self._fps

    def keep_packets(self, keep: bool) -> None:
        """Keep the demuxed packets for :meth:`take_packets` (clips want them)."""
        self._keep = keep

    def take_packets(self) -> list[Any]:
        """The packets demuxed since the last call."""
        kept, self._kept = self._kept, []
        return kept

    def record_stream_into(self, ring: PacketRing) -> bool:
        """From the next open on, demux the record stream into ``ring``; False if there is none."""
        if self.config.record is None:
            return False
        self._ring = ring
        return True

    def follow_policy(self, policy: ReconnectPolicy) -> None:
        """Reopen the record stream by the camera's policy (stall and backoff)."""
        self._policy = policy
        if self._record is not None:
            self._record.policy = policy

    def record_health(self, now: float) -> dict[str, object] | None:
        """The record stream's state and counters, while it runs."""
        record = self._record
        return None if record is None else record.health(now)

    def snapshot(self, timeout: float = 2.0) -> Image | None:
        """A full-size frame for event snapshots: the record stream's newest, else None."""
        record = self._record
        return None if record is None or not record.running else record.snapshot()

    def stream_template(self) -> StreamTemplate | None:
        """The open stream's codec parameters, if its packets can go into clips as they are."""
        return self._template

    def stream_time(self) -> float | None:
        """The stream time (seconds, by its timestamps) of the frame just read."""
        return self._frame_time

    def open(self) -> None:
        """Open the stream or file; :class:`CameraError` if it cannot be read."""
        import av

        self.close()
        config = self.config
        if config.path is not None and not config.path.is_file():
            raise CameraError(f"camera {self.name!r}: video file {config.path} not found; "
                              "check source.path")  # fmt: skip
        # A live stream: analysed for one second, not five, so that its first frames do not come
        # in a burst (their capture times would bunch up, and pre-rolls grow).
        options = {} if config.url is None else open_options(config.url, config.transport)
        try:
            container = av.open(
                config.url or str(config.path), options=options,
                timeout=(config.open_timeout, config.read_timeout),
            )  # fmt: skip
        except (av.FFmpegError, OSError, ValueError) as err:
            raise CameraError(f"camera {self.name!r}: cannot open {self.target}: {err}") from err
        if not container.streams.video:
            container.close()
            raise CameraError(f"camera {self.name!r}: {self.target} has no video stream")
        stream = container.streams.video[0]
        self._container, self._stream = container, stream
        self._packets = container.demux(stream)
        rate = stream.average_rate or stream.guessed_rate
        self._fps = float(rate) if rate else None
        self._template = self._make_template(stream)
        decoder = self._open_decoder(stream)
        self._pacer.start()
        if not self.live:
            # Only a recording has these (the capture loop then uses video time, RecordedSource).
            self.start_wall = time.time()
            self.frame_time = 0.0
            self._first_time = None
        log.info("camera %s: opened %s (%s, %s fps; %s)", self.name, self.target,
                 stream.codec_context.name, self._fps or "?", decoder)  # fmt: skip
        if self._ring is not None and config.record is not None:
            if self._record is None:
                self._record = RecordStream(self.name, config.record, self._ring, self._policy)
            self._record.start()

    def _open_decoder(self, stream: Any) -> str:
        """Pick the decoder (hardware where it opens) and set its options; says which."""
        config = self.config.decode
        found = None if self._hardware_failed else hardware_decoder(self.name, stream, config)
        if found is not None:
            self._decoder, name = found
            return describe(self._decoder, name, config)
        self._decoder = stream.codec_context
        software_options(self._decoder, config)
        return describe(self._decoder, None, config)

    def _make_template(self, stream: Any) -> StreamTemplate | None:
        if not self._keep:
            return None
        if stream.codec_context.name not in REMUXABLE:
            log.warning(
                "camera %s: %s is %s, not H.264: clips are encoded from decoded frames instead",
                self.name, self.target, stream.codec_context.name,
            )  # fmt: skip
            return None
        return copy_template(stream)

    def read(self) -> Image | None:
        """The next frame (BGR); None at the end of a file; :class:`CameraError` if it failed."""
        return self.retrieve() if self.grab() else None

    def grab(self) -> bool:
        """Decode the next frame, not yet converted; False at the end of a file.

        :class:`CameraError` if the stream failed or ended.
        """
        import av

        if self._packets is None:
            raise CameraError(f"camera {self.name!r}: read before open")
        try:
            frame = self._decode_next()
        except (av.FFmpegError, OSError) as err:
            if self._decoder is not None and self._decoder is not self._stream.codec_context:
                # The hardware decoder failed mid-stream: software from the next open on.
                self._hardware_failed = True
                log.warning("camera %s: hardware decoder failed (%s); decoding in software "
                            "from now on", self.name, err)  # fmt: skip
            raise CameraError(
                f"camera {self.name!r}: read from {self.target} failed: {err}"
            ) from err
        self._frame = frame
        if frame is None:
            if self.live:
                raise CameraError(f"camera {self.name!r}: stream {self.target} ended")
            return False
        self._pace()
        return True

    def retrieve(self) -> Image:
        """The frame last grabbed, converted to BGR (about 30 % of a 1080p frame's decode)."""
        if self._frame is None:
            raise CameraError(f"camera {self.name!r}: retrieve before grab")
        image: Image = self._frame.to_ndarray(format="bgr24")
        self._frame = None
        return image

    def _decode_next(self) -> Any:
        assert self._packets is not None
        while not self._decoded:
            packet = next(self._packets, None)
            if packet is None:
                return None
            if packet.size and self._keep and self._template is not None:
                self._kept.append(packet)
            # The empty packet at the end flushes the decoder's delayed frames (B-frames).
            self._decoded.extend(self._decoder.decode(packet if packet.size else None))
        frame = self._decoded.popleft()
        self.decoded += 1
        self._frame_time = frame.time
        if not self.live and frame.time is not None:
            # A recording: its frames carry video time (RecordedSource), from its first frame.
            if self._first_time is None:
                self._first_time = frame.time
            self.frame_time = frame.time - self._first_time
        return frame

    def _pace(self) -> None:
        if self.live or self.config.pace != "realtime" or not self._fps:
            return
        self._pacer.wait(self._fps)

    def close(self) -> None:
        """Close the stream or file (and the record stream); safe to call twice."""
        if self._record is not None:
            self._record.stop()
        self._decoder = None
        container, self._container = self._container, None
        self._packets = None
        self._kept = []
        self._decoded.clear()
        self._frame = None
        if container is not None:
            container.close()
