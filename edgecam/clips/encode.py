"""H.264 from decoded frames, for cameras with nothing encoded to keep (USB, non-H.264 files).

The capture thread only hands over a reference to the frame (frames are never written to after
capture); a worker thread at low priority scales it down, encodes it with x264 (``ultrafast``,
one thread, no B-frames) and puts the packets into the camera's ring. The cost is bounded by
``encode.fps`` and ``encode.max_width``; when the worker falls behind, frames are skipped and
counted, never queued without end.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from fractions import Fraction
from typing import Any

from edgecam.clips.config import EncodeConfig
from edgecam.clips.ring import PacketRing, copy_template
from edgecam.types import Frame

log = logging.getLogger(__name__)

TIME_BASE = Fraction(1, 1000)
ENCODER_NICENESS = 10


def encoded_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """The encoded frame size: at most ``max_width`` wide, aspect kept, both even."""
    if width > max_width:
        height = round(height * max_width / width)
        width = max_width
    return width - width % 2, height - height % 2


class FrameEncoder:
    """Encodes one camera's frames into its ring on a thread of its own."""

    def __init__(
        self, camera: str, ring: PacketRing, config: EncodeConfig, *, lossless: bool = False
    ) -> None:
        self.camera = camera
        self.lossless = lossless
        """Wait for the worker instead of skipping frames (recordings: no deadline to keep)."""
        self.ring = ring
        self.config = config
        self.encoded = 0
        self.skipped = 0
        """Frames not encoded: over ``encode.fps``, or the worker was still busy."""
        self._interval = 1.0 / config.fps
        self._last = float("-inf")
        self._pending: Frame | None = None
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._ctx: Any = None
        self._size: tuple[int, int] | None = None
        self._origin = 0.0

    def submit(self, frame: Frame) -> None:
        """Offer a frame (capture thread); never waits."""
        # A little slack, so that a camera at exactly ``fps`` never loses a frame to jitter.
        if frame.mono - self._last < self._interval * 0.9:
            self.skipped += 1
            return
        self._last = frame.mono
        with self._cond:
            if self._thread is None and not self._closing:
                self._thread = threading.Thread(
                    target=self._run, name=f"clip-encode-{self.camera}", daemon=True
                )
                self._thread.start()
            if self.lossless:
                while self._pending is not None and not self._closing:
                    self._cond.wait(1.0)
            if self._pending is not None:
                self.skipped += 1
            self._pending = frame
            self._cond.notify()

    def restart(self) -> None:
        """The camera reopened: the next frame starts a new stream (new size, new keyframe)."""
        with self._cond:
            self._pending = None
            self._size = None

    def close(self) -> None:
        """End the worker thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(5.0)

    def _run(self) -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ENCODER_NICENESS)
        while True:
            with self._cond:
                while self._pending is None and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                frame, self._pending = self._pending, None
                assert frame is not None
                self._cond.notify_all()
            try:
                self._encode(frame)
            except Exception:  # an encoder failure costs clips, never the camera
                log.exception("camera %s: clip encoder failed; restarting it", self.camera)
                self._size = None

    def _open(self, frame: Frame) -> None:
        import av

        h, w = frame.image.shape[:2]
        size = encoded_size(w, h, self.config.max_width)
        # A container that is never written holds the encoder's stream: its header (avcC) makes
        # the template for muxing the packets into clips.
        holder = av.open(io.BytesIO(), "w", format="mp4")
        fps = max(1, round(self.config.fps))
        stream = holder.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE
        stream.codec_context.thread_count = 1
        stream.codec_context.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "crf": str(self.config.crf),
            "g": str(max(1, round(self.config.keyframe_interval * self.config.fps))),
            "bf": "0",
        }
        stream.codec_context.open()
        holder.start_encoding()  # copies the header into the stream's parameters
        self._ctx = stream.codec_context
        self._holder = holder
        self._size = size
        self._origin = frame.mono
        self.ring.set_template(copy_template(stream, encoded_here=True))

    def _encode(self, frame: Frame) -> None:
        import av

        if self._size is None:
            self._open(frame)
        assert self._size is not None
        video = av.VideoFrame.from_ndarray(frame.image, format="bgr24")
        if (video.width, video.height) != self._size:
            video = video.reformat(*self._size, format="yuv420p")
        video.pts = round((frame.mono - self._origin) / TIME_BASE)
        video.time_base = TIME_BASE
        for packet in self._ctx.encode(video):
            packet.time_base = TIME_BASE
            self.ring.append(packet, frame.mono, bool(packet.is_keyframe))
        self.encoded += 1
