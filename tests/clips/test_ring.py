"""The packet ring: bounded in bytes, always starting at a keyframe, clips get every packet."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av

from edgecam.clips.ring import PacketRing, RingPacket, StreamTemplate, Subscriber


def _packet(size: int, pts: int) -> Any:
    packet = av.Packet(bytes(size))
    packet.pts = packet.dts = pts
    packet.time_base = Fraction(1, 10)
    return packet


def _feed(ring: PacketRing, frames: range, gop: int, size: int = 1000) -> None:
    for i in frames:
        ring.append(_packet(size, i), i / 10, i % gop == 0)


class Collect(Subscriber):
    def __init__(self, stop_after: float = 1e9) -> None:
        self.packets: list[RingPacket] = []
        self.stop_after = stop_after
        self.reason: str | None = None

    def prime(self, packets: list[RingPacket], template: StreamTemplate | None) -> None:
        self.packets = list(packets)

    def add(self, packet: RingPacket) -> bool:
        if packet.time > self.stop_after:
            return True
        self.packets.append(packet)
        return False

    def retemplate(self, template: StreamTemplate) -> None:
        pass

    def broken(self, reason: str) -> None:
        self.reason = reason


def test_the_ring_stays_within_its_bytes_and_starts_at_a_keyframe() -> None:
    ring = PacketRing(max_bytes=25_000)
    _feed(ring, range(200), gop=10)
    assert ring.bytes <= 25_000
    assert len(ring) == 20  # two whole GOPs of 10 kB; a third would not fit
    sub = Collect()
    ring.subscribe(0.0, sub)
    assert sub.packets[0].keyframe and sub.packets[0].time == 18.0


def test_subscribe_starts_at_the_last_keyframe_before_the_start() -> None:
    ring = PacketRing(max_bytes=10**6)
    _feed(ring, range(50), gop=10)
    sub = Collect(stop_after=6.0)
    ring.subscribe(3.5, sub)
    assert sub.packets[0].time == 3.0
    _feed(ring, range(50, 80), gop=10)
    assert [p.time for p in sub.packets][-1] == 6.0


def test_a_stream_that_loses_its_keyframes_empties_the_ring_until_the_next_one() -> None:
    ring = PacketRing(max_bytes=20_000)
    _feed(ring, range(10), gop=10)  # one keyframe, then only P-frames...
    _feed(ring, range(10, 40), gop=1000)
    assert len(ring) == 0 and ring.skipped > 0  # nothing decodable is left to keep
    sub = Collect()
    ring.subscribe(3.0, sub)
    assert sub.packets == []
    ring.append(_packet(1000, 40), 4.0, True)  # ...until a keyframe comes back
    assert len(ring) == 1 and [p.time for p in sub.packets] == [4.0]


def test_clips_get_every_packet_even_those_the_ring_cannot_keep() -> None:
    ring = PacketRing(max_bytes=5_000)
    sub = Collect()
    ring.subscribe(0.0, sub)
    _feed(ring, range(30), gop=10)
    assert [p.time for p in sub.packets] == [i / 10 for i in range(30)]


def test_a_reset_tells_the_clips_and_empties_the_ring() -> None:
    done: list[Subscriber] = []
    ring = PacketRing(max_bytes=10**6, on_done=done.append)
    _feed(ring, range(20), gop=10)
    sub = Collect()
    ring.subscribe(0.5, sub)
    ring.reset("camera dropped")
    assert sub.reason == "camera dropped" and done == [sub] and len(ring) == 0
