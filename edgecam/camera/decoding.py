"""How a detect stream is decoded (``type: av``): the cheaper FFmpeg options, and the hardware.

Each option was measured (``python -m benchmarks.decode_cost``; the table is in
docs/cameras.md) and is on by default only where it pays:
- ``threads``: one decoder thread uses the least CPU per frame and wakes no threads in the middle
  of an inference; more only lower the latency of a stream too large for one core.
- ``skip_frame: nonref`` drops frames nothing else refers to (B-frames); IP cameras rarely send
  any, so it saves nothing there. ``nonkey`` decodes keyframes only: for a detector at one frame a
  second or less on a camera with a keyframe each second.
- ``skip_loop_filter`` skips H.264's deblocking filter: the detector barely sees the blocking,
  and the decode is cheaper.
- ``hardware``: the Pi 4's stateful H.264 decoder (``h264_v4l2m2m``, /dev/video10) where FFmpeg
  can open it; else software, with a log line saying which one is used.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import Field

from edgecam.schema import StrictModel

log = logging.getLogger(__name__)

HARDWARE = {"h264": "h264_v4l2m2m"}
"""The V4L2 memory-to-memory decoder for each codec (the Pi 4's; the Pi 5 has none for H.264)."""


class DecodeConfig(StrictModel):
    """Decoding of the detect stream (``source.decode``)."""

    threads: int = Field(default=1, ge=0, le=16)
    """Decoder threads; 0 lets FFmpeg take one per core (lower latency, more CPU)."""
    skip_frame: Literal["none", "nonref", "nonkey"] = "none"
    """Frames not decoded at all: ``nonref`` (B-frames), ``nonkey`` (all but keyframes)."""
    skip_loop_filter: bool = True
    """Skip H.264's deblocking filter (cheaper; the detector does not need it)."""
    hardware: Literal["auto", "off", "h264_v4l2m2m"] = "auto"
    """``auto``: the hardware decoder where it opens, else software; ``off``: software only."""


def software_options(ctx: Any, config: DecodeConfig) -> None:
    """Apply the cheaper-decode options to a software decoder before its first packet."""
    ctx.thread_count = config.threads
    if config.skip_frame != "none":
        ctx.skip_frame = config.skip_frame.upper()
    if config.skip_loop_filter:
        ctx.options = {**ctx.options, "skip_loop_filter": "all"}


def hardware_decoder(camera: str, stream: Any, config: DecodeConfig) -> tuple[Any, str] | None:
    """An open hardware decoder for ``stream`` and its name, or None (then: software)."""
    import av

    codec = stream.codec_context.name
    name = HARDWARE.get(codec)
    if config.hardware == "off" or name is None:
        return None
    if name not in av.codecs_available:
        _fallback(camera, config, f"this FFmpeg has no {name}")
        return None
    try:
        ctx: Any = av.CodecContext.create(name, "r")
        ctx.extradata = stream.codec_context.extradata
        ctx.width, ctx.height = stream.codec_context.width, stream.codec_context.height
        ctx.open()
    except (av.FFmpegError, OSError, ValueError) as err:
        _fallback(camera, config, f"{name} does not open here ({err})")
        return None
    return ctx, name


def _fallback(camera: str, config: DecodeConfig, why: str) -> None:
    level = logging.WARNING if config.hardware != "auto" else logging.INFO
    log.log(level, "camera %s: %s; decoding in software", camera, why)


def describe(ctx: Any, hardware: str | None, config: DecodeConfig) -> str:
    """The decoder in use, for the log line at open."""
    if hardware is not None:
        return f"hardware decoder {hardware}"
    parts = [f"software decoder {ctx.name}", f"{config.threads or 'auto'} thread(s)"]
    if config.skip_frame != "none":
        parts.append(f"skip_frame {config.skip_frame}")
    if config.skip_loop_filter:
        parts.append("no loop filter")
    return ", ".join(parts)
