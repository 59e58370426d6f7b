"""One clip being recorded: the packets from ``pre`` before its event to ``post`` after its end."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from edgecam.clips.ring import RingPacket, StreamTemplate, Subscriber

PRE_TOLERANCE = 0.25
"""Seconds a pre-roll may fall short before the clip says so (one frame or two of jitter)."""


@dataclass(frozen=True, slots=True)
class ClipRef:
    """Where an event's clip is (or will be, once its post-roll has passed)."""

    id: str
    path: Path
    url: str

    def to_json(self) -> dict[str, object]:
        """The ``clip`` field of an event."""
        return {"id": self.id, "path": str(self.path), "url": self.url}


@dataclass(eq=False)
class ClipJob(Subscriber):
    """Collects one clip's packets from a camera's ring (they arrive on the camera's thread)."""

    ref: ClipRef
    camera: str
    rule: str
    event_time: float
    """Stream time (the camera's own timestamps, seconds) of the event's start."""
    start: float
    """``event_time - pre``: where the clip should begin."""
    cap: float
    """``start + max``: where it ends at the latest."""
    max_bytes: int
    template: StreamTemplate | None
    end_at: float = 0.0
    packets: list[RingPacket] = field(default_factory=list)
    bytes: int = 0
    truncated: list[str] = field(default_factory=list)
    """Why the clip is shorter than asked for, if it is; empty when it is whole."""
    done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.end_at = self.cap

    def finish_at(self, end: float) -> None:
        """The event ended: stop at ``end`` (its end plus ``post``), or at the cap."""
        if end > self.cap:
            self._note_max()
        self.end_at = min(end, self.cap)

    def _note_max(self) -> None:
        reason = f"max length reached ({self.cap - self.start:.0f} s)"
        if reason not in self.truncated:
            self.truncated.append(reason)

    def prime(self, packets: list[RingPacket], template: StreamTemplate | None) -> None:
        """The pre-roll from the ring; says so when the ring could not reach back far enough."""
        self.template = template
        self.packets = packets
        self.bytes = sum(p.size for p in packets)
        first = packets[0].time if packets else None
        if first is None or first > self.start + PRE_TOLERANCE:
            have = 0.0 if first is None else max(0.0, self.event_time - first)
            self.truncated.append(
                f"pre-roll {have:.1f} s of {self.event_time - self.start:.1f} s "
                "(no keyframe that early in the buffer)"
            )

    def retemplate(self, template: StreamTemplate) -> None:
        """The codec became known before the clip's first packet."""
        if not self.packets:
            self.template = template

    def add(self, packet: RingPacket) -> bool:
        """Take a new packet; True once the clip is complete."""
        if packet.time > self.end_at:
            if self.end_at >= self.cap:
                self._note_max()
            return True
        if not self.packets and not packet.keyframe:
            return False  # a clip must start at a keyframe; wait for one
        self.packets.append(packet)
        self.bytes += packet.size
        if self.bytes > self.max_bytes:
            self.truncated.append(f"size limit reached ({self.max_bytes} bytes)")
            return True
        return False

    def broken(self, reason: str) -> None:
        """The stream broke mid-clip: the clip ends with what it has."""
        self.truncated.append(f"{reason} mid-clip")
