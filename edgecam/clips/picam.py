"""The Pi camera's H.264 encoder into a clip ring: a picamera2 ``Output`` that keeps packets.

picamera2's ``CircularOutput`` keeps a number of frames and writes a bare H.264 stream without
timestamps; this output is the same idea (an ``Output`` the encoder hands every frame to) but
bounded in bytes and keeping the encoder's timestamps, so clips are remuxed to MP4 with the
sensor's own timing and never re-encoded.
"""

from __future__ import annotations

import io
import time
from fractions import Fraction
from typing import Any

from edgecam.clips.ring import PacketRing, copy_template

MICROSECONDS = Fraction(1, 1_000_000)


def ring_output(output_class: Any, ring: PacketRing) -> Any:
    """An instance of a subclass of picamera2's ``Output`` that puts frames into ``ring``."""

    class RingOutput(output_class):  # type: ignore[misc]
        """Frames from the encoder thread: a template from the first keyframe, then packets."""

        def __init__(self) -> None:
            super().__init__()
            self._started = False

        def outputframe(
            self,
            frame: bytes | None,
            keyframe: bool = True,
            timestamp: int | None = None,
            packet: Any = None,
            audio: bool = False,
        ) -> None:
            """One encoded frame (Annex B H.264, headers repeated on keyframes)."""
            import av

            if audio or frame is None or timestamp is None:
                return
            if not self._started:
                if not keyframe:
                    return  # nothing decodes before the first keyframe
                with av.open(io.BytesIO(frame), format="h264") as probe:
                    ring.set_template(copy_template(probe.streams.video[0]))
                self._started = True
            out = av.Packet(frame)
            out.pts = out.dts = timestamp
            out.time_base = MICROSECONDS
            out.is_keyframe = keyframe
            ring.append(out, time.monotonic(), keyframe)

    return RingOutput()
