"""Writing a clip: encoded packets remuxed into an MP4 file, complete or not at all.

The file is written as ``<name>.part`` and renamed into place only once the MP4 is finished, so
a reader never sees half a clip: a failed write (a full disk, a stop mid-write) leaves no clip,
and leftover ``.part`` files of a killed run are removed at the next start.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from edgecam.clips.ring import RingPacket, StreamTemplate
from edgecam.errors import EdgecamError

PART_SUFFIX = ".part"


class ClipWriteError(EdgecamError):
    """A clip could not be written; ``disk_full`` says whether space ran out."""

    def __init__(self, message: str, *, disk_full: bool = False) -> None:
        super().__init__(message)
        self.disk_full = disk_full


@dataclass(frozen=True, slots=True)
class WrittenClip:
    """What was written: the file, its size, and the frame-clock span it covers."""

    path: Path
    bytes: int
    frames: int
    duration: float
    """Seconds from the first frame to the end of the last (by the packets' own timestamps)."""
    start: float
    """Frame-clock time of the first packet."""
    end: float
    """Frame-clock time of the last packet."""


def write_mp4(
    path: Path,
    template: StreamTemplate,
    packets: Sequence[RingPacket],
    metadata: Mapping[str, str] | None = None,
) -> WrittenClip:
    """Remux ``packets`` (starting with a keyframe) into an MP4 at ``path``, atomically."""
    if not packets:
        raise ClipWriteError(f"clip {path.name}: no packets to write")
    part = path.with_name(path.name + PART_SUFFIX)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        duration = _mux(part, template, packets, metadata or {})
        part.replace(path)
        size = path.stat().st_size
    except (OSError, ValueError) as err:  # av.FFmpegError is an OSError or a ValueError
        with contextlib.suppress(OSError):
            part.unlink()
        full = getattr(err, "errno", None) == 28  # ENOSPC, from the OS or from FFmpeg
        raise ClipWriteError(f"clip {path}: cannot write: {err}", disk_full=full) from err
    return WrittenClip(path, size, len(packets), duration, packets[0].time, packets[-1].time)


def _mux(part: Path, template: StreamTemplate, packets: Sequence[RingPacket],
         metadata: Mapping[str, str]) -> float:  # fmt: skip
    import av

    first = packets[0].packet
    base_tb: Fraction = first.time_base
    origin = first.dts if first.dts is not None else first.pts
    # faststart puts the index in front, so a browser can play and seek before the whole file
    # has arrived.
    with av.open(str(part), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        out.metadata.update(metadata)
        stream = out.add_stream_from_template(template.stream)
        stream.time_base = base_tb
        end = 0
        for entry in packets:
            src = entry.packet
            packet = av.Packet(src)  # a copy: the ring's packet may be in another clip too
            packet.stream = stream
            packet.time_base = src.time_base
            pts = src.pts if src.pts is not None else src.dts
            dts = src.dts if src.dts is not None else pts
            packet.pts = pts - origin
            packet.dts = dts - origin
            packet.is_keyframe = entry.keyframe
            if src.duration:
                packet.duration = src.duration
            end = max(end, packet.pts + (src.duration or 0))
            out.mux(packet)
    return float(end * base_tb)
