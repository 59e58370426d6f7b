"""The per-camera ring of encoded video packets that gives clips their pre-roll.

The ring holds packets as the camera's encoder (or FFmpeg's demuxer) made them, bounded in bytes,
each with its time on the stream's own clock (its timestamp, in seconds): clips are cut by the
video's own timing, whatever the network or the decoder did to when frames arrived. ``offset``
maps the camera's frame clock (``Frame.mono``) onto it: the smallest arrival-minus-stream time
seen, the arrival of the least delayed packet.

It always starts at a keyframe: when the budget is exceeded, whole groups of pictures go from the
front, so whatever remains decodes. Clips being recorded subscribe and receive every new packet,
so a clip longer than the ring still gets all of its packets.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StreamTemplate:
    """Codec parameters of a camera's encoded stream, to mux its packets without decoding them.

    ``stream`` is a PyAV stream holding a copy of the codec parameters (in a container that is
    never written), so it stays valid after the source that made it has closed.
    """

    stream: Any
    codec: str
    width: int
    height: int
    encoded_here: bool
    """True when edgecam encoded the stream from decoded frames (no encoded source to keep)."""
    holder: Any = None
    """Keeps the in-memory container of ``stream`` alive."""


def copy_template(source_stream: Any, *, encoded_here: bool = False) -> StreamTemplate:
    """A :class:`StreamTemplate` copied from a PyAV stream (input or encoder output)."""
    import io

    import av

    holder = av.open(io.BytesIO(), "w", format="mp4")
    stream = holder.add_stream_from_template(source_stream)
    ctx = source_stream.codec_context
    return StreamTemplate(stream, ctx.name, ctx.width, ctx.height, encoded_here, holder)


@dataclass(frozen=True, slots=True)
class RingPacket:
    """One encoded packet with its time on the stream's clock (seconds)."""

    packet: Any
    """A PyAV ``Packet`` with ``pts``, ``dts`` and ``time_base`` set."""
    time: float
    keyframe: bool
    size: int


class Subscriber:
    """Something that wants every new packet (a clip being recorded)."""

    def prime(self, packets: list[RingPacket], template: StreamTemplate | None) -> None:
        """The packets already in the ring that it wants, before any ``add``, and their codec."""
        raise NotImplementedError

    def add(self, packet: RingPacket) -> bool:
        """Take one packet; return True when no more are wanted."""
        raise NotImplementedError

    def retemplate(self, template: StreamTemplate) -> None:
        """The stream's parameters became known (or changed) before any packet came."""
        raise NotImplementedError

    def broken(self, reason: str) -> None:
        """The stream broke (camera dropped or reopened): no more packets will follow."""
        raise NotImplementedError


JUMP = 10.0
"""Seconds a packet may arrive later than its timestamp says before that is a new timeline."""


class PacketRing:
    """Encoded packets of one camera, newest last, at most ``max_bytes`` of them (thread-safe)."""

    def __init__(self, max_bytes: int, on_done: Callable[[Subscriber], None] | None = None) -> None:
        self.max_bytes = max_bytes
        self.template: StreamTemplate | None = None
        self._packets: deque[RingPacket] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._on_done = on_done
        self._want_key = True
        self.offset: float | None = None
        """Frame clock minus stream clock (see the module docs); None before the first packet."""
        self.packets_in = 0
        self.dropped_gops = 0
        """Groups of pictures evicted for the byte budget (normal once the ring is full)."""
        self.skipped = 0
        """Packets dropped while waiting for a keyframe (after a break, or a stream without any)."""

    @property
    def bytes(self) -> int:
        """Bytes held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._packets)

    def set_template(self, template: StreamTemplate) -> None:
        """A (re)opened stream: its parameters; packets of an earlier stream are dropped.

        The first stream of an empty ring breaks nothing: clips that began before the camera's
        first packet simply start with it.
        """
        with self._lock:
            if not self._packets:
                self.template = template
                for sub in self._subscribers:
                    sub.retemplate(template)
                return
        self.reset("camera reopened", template)

    def to_stream(self, mono: float) -> float:
        """A frame-clock time on the stream's clock."""
        offset = self.offset
        return mono if offset is None else mono - offset

    def _stream_time(self, packet: Any, arrival: float) -> float:
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is None or packet.time_base is None:
            return self.to_stream(arrival)
        at = float(stamp * packet.time_base)
        lag = arrival - at
        if self.offset is None or lag < self.offset:
            self.offset = lag
        elif lag - self.offset > JUMP:
            # The stream's timestamps jumped (a camera restarted its clock): a new timeline.
            self._packets.clear()
            self._bytes = 0
            self._want_key = True
            self.offset = lag
        return at

    def append(self, packet: Any, arrival: float, keyframe: bool) -> None:
        """Add one packet that arrived at ``arrival`` on the frame clock (the camera's thread)."""
        done: list[Subscriber] = []
        with self._lock:
            entry = RingPacket(packet, self._stream_time(packet, arrival), keyframe, packet.size)
            self.packets_in += 1
            if self._want_key and not keyframe:
                self.skipped += 1  # undecodable without its keyframe: not kept for pre-roll
            else:
                self._want_key = False
                self._packets.append(entry)
                self._bytes += entry.size
                self._evict()
            if self._subscribers:  # clips being recorded get every packet, kept or not
                done = [s for s in self._subscribers if s.add(entry)]
                if done:
                    self._subscribers = [s for s in self._subscribers if s not in done]
        for sub in done:
            if self._on_done is not None:
                self._on_done(sub)

    def _evict(self) -> None:
        packets = self._packets
        while self._bytes > self.max_bytes and packets:
            self._bytes -= packets.popleft().size
            while packets and not packets[0].keyframe:
                self._bytes -= packets.popleft().size
            self.dropped_gops += 1
        if not packets:
            # One group of pictures is larger than the whole budget: wait for the next keyframe.
            self._want_key = True

    def latest_gop(self, limit: int) -> tuple[list[RingPacket], StreamTemplate | None]:
        """The packets from the newest keyframe on (at most ``limit``), and their codec."""
        with self._lock:
            packets = self._packets
            for index in range(len(packets) - 1, -1, -1):
                if packets[index].keyframe:
                    end = min(len(packets), index + limit)
                    return list(itertools.islice(packets, index, end)), self.template
            return [], self.template

    def subscribe(self, start: float, subscriber: Subscriber) -> None:
        """Prime ``subscriber`` from the last keyframe at or before ``start``; then every new one.

        If the ring has no keyframe that early, it starts at the oldest it has (the clip is
        shorter at the front). The subscriber gets later packets through ``add``.
        """
        with self._lock:
            first = 0
            for index, entry in enumerate(self._packets):
                if entry.time > start:
                    break
                if entry.keyframe:
                    first = index
            subscriber.prime(list(itertools.islice(self._packets, first, None)), self.template)
            self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Stop sending packets to ``subscriber``."""
        with self._lock:
            self._subscribers = [s for s in self._subscribers if s is not subscriber]

    def take_subscribers(self) -> list[Subscriber]:
        """Remove and return every subscriber (the service is stopping)."""
        with self._lock:
            subscribers, self._subscribers = self._subscribers, []
        return subscribers

    def reset(self, reason: str, template: StreamTemplate | None = None) -> None:
        """Drop every packet; subscribers hear that the stream broke (``reason``)."""
        with self._lock:
            subscribers, self._subscribers = self._subscribers, []
            self._packets.clear()
            self._bytes = 0
            self._want_key = True
            self.offset = None  # a new stream: a new timeline
            if template is not None:
                self.template = template
        for sub in subscribers:
            sub.broken(reason)
            if self._on_done is not None:
                self._on_done(sub)
