"""Test media: an H.264 recording of the demo clip, made with PyAV's encoder, and clip probes."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av

from edgecam.bundled import demo_clip
from edgecam.types import Image

GOP = 10
"""Frames between keyframes of the H.264 test recording (1 s at its 10 fps)."""
FPS = 10


def write_h264(
    path: Path, frames: int = 120, gop: int = GOP, size: tuple[int, int] | None = None
) -> Path:
    """The first ``frames`` frames of the demo clip as H.264 in MP4 (no B-frames), at 10 fps.

    ``size`` (width, height) scales the frames, as a camera's substream is its main stream's.

    One frame at a time: holding the whole clip would swell the test process, and every child
    it forks starts that large (other tests measure their children's memory).
    """
    import cv2

    capture = cv2.VideoCapture(str(demo_clip()))
    try:
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=FPS)
            stream.codec_context.options = {"preset": "ultrafast", "g": str(gop), "bf": "0"}
            for index in range(frames):
                ok, image = capture.read()
                if not ok:
                    break
                if size is not None:
                    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
                if index == 0:
                    h, w = image.shape[:2]
                    stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                frame = av.VideoFrame.from_ndarray(cast(Image, image), format="bgr24")
                frame.pts = index
                frame.time_base = Fraction(1, FPS)
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
    finally:
        capture.release()
    return path


@dataclass(frozen=True, slots=True)
class Probe:
    """What a clip holds, read back with PyAV."""

    codec: str
    width: int
    height: int
    profile: str | None
    extradata: bytes
    times: list[float]
    """Presentation time of each decoded frame, seconds from the clip's start."""
    packets: list[bytes]
    keyframes: list[int]
    """Indexes of the keyframe packets."""


def probe(path: Path) -> Probe:
    """Decode every frame of ``path`` (an error if any frame is corrupt)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx: Any = stream.codec_context
        packets: list[bytes] = []
        keyframes: list[int] = []
        times: list[float] = []
        for packet in container.demux(stream):
            if packet.size:
                if packet.is_keyframe:
                    keyframes.append(len(packets))
                packets.append(bytes(packet))
            for frame in packet.decode():
                times.append(float(frame.time))
        return Probe(ctx.name, ctx.width, ctx.height, ctx.profile, bytes(ctx.extradata or b""),
                     times, packets, keyframes)  # fmt: skip
