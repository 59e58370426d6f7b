"""Stand-ins for picamera2's H.264 encoder and its output, encoding in software with x264."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from edgecam.types import Image


class FakeOutput:
    """Like ``picamera2.outputs.Output``: the encoder calls ``outputframe`` with each frame."""

    def __init__(self, pts: Any = None) -> None:
        self.recording = False
        self.ptsoutput = pts

    def start(self) -> None:
        """Start recording."""
        self.recording = True

    def stop(self) -> None:
        """Stop recording."""
        self.recording = False

    def outputframe(
        self,
        frame: bytes | None,
        keyframe: bool = True,
        timestamp: int | None = None,
        packet: Any = None,
        audio: bool = False,
    ) -> None:
        """One encoded frame; subclasses keep it."""


class FakeH264Encoder:
    """Like ``picamera2.encoders.H264Encoder``, encoding in software with x264 (via PyAV).

    Like the real one it sends Annex B H.264 with the headers repeated on each keyframe (every
    ``iperiod`` frames) and timestamps in microseconds from the first frame.
    """

    def __init__(  # noqa: PLR0917 (picamera2's signature)
        self,
        bitrate: int | None = None,
        repeat: bool = True,
        iperiod: int | None = None,
        framerate: float | None = None,
        enable_sps_framerate: bool = False,
        qp: int | None = None,
        profile: str | None = None,
    ) -> None:
        self.bitrate = bitrate
        self.repeat = repeat
        self.iperiod = iperiod or 30
        self.output: Any = None
        self._ctx: Any = None
        self._first: float | None = None
        self.frames = 0

    def start(self, width: int, height: int) -> None:
        """Open the encoder for frames of this size."""
        import av

        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
        ctx.time_base = Fraction(1, 1_000_000)
        ctx.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(self.iperiod)}
        if self.bitrate:
            ctx.bit_rate = self.bitrate
        ctx.open()
        self._ctx = ctx
        self.output.start()

    def encode(self, image: Image, now: float) -> None:
        """Encode one main-stream frame and hand it to the output, as the encoder thread does."""
        import av

        if self._first is None:
            self._first = now
        timestamp = round((now - self._first) * 1_000_000)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
        frame.pts = timestamp
        for packet in self._ctx.encode(frame):
            self.output.outputframe(bytes(packet), bool(packet.is_keyframe), timestamp)
        self.frames += 1

    def stop(self) -> None:
        """Stop encoding."""
        self.output.stop()
        self._ctx = None
