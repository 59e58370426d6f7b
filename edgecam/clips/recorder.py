"""Clips around events: each camera's ring (the tap its capture thread feeds) and the clips open.

Four ways packets reach a camera's ring, by what the source gives:
- a camera with a record stream (:class:`RecordStreamSource`: PyAV with ``record:``): its
  full-size stream's packets, demuxed on a thread of their own and never decoded;
- a source that demuxes an encoded stream (:class:`PacketSource`, RTSP/H.264 through PyAV): its
  packets are kept as they are, never re-encoded;
- a source with its own encoder (:class:`EncoderSource`, the Pi camera's H.264 encoder): it puts
  the encoder's output into the ring itself;
- any other source (USB cameras, files without H.264): decoded frames are encoded at a bounded
  cost (:class:`~edgecam.clips.encode.FrameEncoder`).

The pipeline thread calls :meth:`ClipRecorder.on_events` with each batch of events: a ``start``
or ``count`` opens a clip from ``pre`` seconds back in the ring, an ``end`` sets where it stops,
and ``end`` and ``count`` events get the clip's path and URL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from edgecam.clips.config import ClipsConfig, RuleClipConfig
from edgecam.clips.encode import FrameEncoder
from edgecam.clips.job import ClipJob, ClipRef
from edgecam.clips.ring import PacketRing, StreamTemplate, Subscriber
from edgecam.clips.writer import ClipResult, ClipWriter
from edgecam.event import Event
from edgecam.types import Frame

log = logging.getLogger(__name__)


@runtime_checkable
class PacketSource(Protocol):
    """A source that demuxes an encoded stream: it keeps the packets of each frame it decodes."""

    def keep_packets(self, keep: bool) -> None:
        """Start (or stop) keeping packets for :meth:`take_packets`."""

    def take_packets(self) -> list[Any]:
        """The packets demuxed since the last call (PyAV packets, time base set)."""
        ...

    def stream_template(self) -> StreamTemplate | None:
        """The codec parameters of the stream open now; None if it is not H.264."""
        ...

    def stream_time(self) -> float | None:
        """The stream time (seconds, its timestamps) of the frame just read, if it has one."""
        ...


@runtime_checkable
class RecordStreamSource(Protocol):
    """A camera with a second, full-size stream that only clips use (never decoded)."""

    def record_stream_into(self, ring: PacketRing) -> bool:
        """From the next open on, demux that stream into ``ring``; False if it has none."""
        ...


@runtime_checkable
class EncoderSource(Protocol):
    """A source with a hardware encoder of its own (the Pi camera): it fills the ring itself."""

    def record_into(self, ring: PacketRing) -> None:
        """From the next open on, put the encoder's packets into ``ring``."""


class CameraClips:
    """One camera's ring, fed by its capture thread through :meth:`frame` (the tap)."""

    def __init__(self, name: str, source: object, config: ClipsConfig,
                 on_done: Callable[[Subscriber], None]) -> None:  # fmt: skip
        self.name = name
        self.ring = PacketRing(config.buffer_bytes, on_done)
        self.encoder: FrameEncoder | None = None
        self._packets: PacketSource | None = None
        self._template: StreamTemplate | None = None
        self._times: OrderedDict[int, float] = OrderedDict()
        """Stream time of the latest frames by ``Frame.seq``: where an event's frame is."""
        if isinstance(source, RecordStreamSource) and source.record_stream_into(self.ring):
            self.mode = "record"
        elif isinstance(source, EncoderSource):
            source.record_into(self.ring)
            self.mode = "encoder"
        elif isinstance(source, PacketSource):
            source.keep_packets(True)
            self._packets = source
            self.mode = "remux"
        else:
            lossless = not getattr(source, "live", False)
            self.encoder = FrameEncoder(name, self.ring, config.encode, lossless=lossless)
            self.mode = "encode"

    def frame(self, frame: Frame) -> None:
        """A frame was captured (capture thread): its packets go into the ring."""
        source = self._packets
        if source is not None:
            template = source.stream_template()
            if template is None:
                source.take_packets()  # not H.264: nothing kept (see the source's warning)
                return
            if template is not self._template:
                self._template = template
                self.ring.set_template(template)
            for packet in source.take_packets():
                self.ring.append(packet, frame.mono, bool(packet.is_keyframe))
            if (at := source.stream_time()) is not None:
                self._times[frame.seq] = at
                if len(self._times) > KEEP_TIMES:
                    self._times.popitem(last=False)
        elif self.encoder is not None:
            self.encoder.submit(frame)

    def stream_time(self, frame: Frame) -> float:
        """Where ``frame`` is on the stream's clock (pipeline thread)."""
        at = self._times.get(frame.seq)
        return at if at is not None else self.ring.to_stream(frame.mono)

    def lost(self) -> None:
        """The camera dropped (capture thread): clips being recorded end with what they have."""
        self.ring.reset("camera dropped")
        self._template = None
        self._times.clear()
        if self.encoder is not None:
            self.encoder.restart()

    def close(self) -> None:
        """Stop the encoder thread, if any."""
        if self.encoder is not None:
            self.encoder.close()


KEEP_TIMES = 512
"""Frames whose stream time is remembered: more than the detector ever lags behind capture."""

_MODES = {
    "record": "remuxing its record stream (demuxed, never decoded)",
    "remux": "remuxing its H.264 stream (no re-encoding)",
    "encoder": "the camera's H.264 encoder",
    "encode": "encoding decoded frames (no encoded stream to keep)",
}


@dataclass(frozen=True, slots=True)
class RuleClips:
    """A rule's clip settings and the camera it watches (None: every camera)."""

    camera: str | None
    clip: RuleClipConfig


def clip_rules(rules: Iterable[Any]) -> dict[str, RuleClips]:
    """The rules with ``clip:`` by name (rule configs: ``name``, ``camera``, ``clip``)."""
    return {r.name: RuleClips(r.camera, r.clip) for r in rules if r.clip is not None}


class ClipRecorder:
    """Opens and ends clips as events come; hands finished ones to the writer thread."""

    def __init__(
        self,
        config: ClipsConfig,
        rules: Mapping[str, RuleClips],
        directory: Path,
        *,
        base_url: str,
        on_result: Callable[[ClipResult], None],
        min_free_bytes: int = 0,
    ) -> None:
        self.config = config
        self.rules = dict(rules)
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        self.cameras: dict[str, CameraClips] = {}
        self.writer = ClipWriter(on_result, min_free_bytes)
        self._open: dict[tuple[str, str], list[tuple[int | None, ClipJob]]] = {}
        self._lock = threading.Lock()

    def wants(self, camera: str, rules: Mapping[str, RuleClips] | None = None) -> bool:
        """True when a rule with ``clip:`` (of ``rules``, else the current ones) watches it."""
        rules = self.rules if rules is None else rules
        return any(r.camera in (None, camera) for r in rules.values())

    def tap(
        self, camera: str, source: object, rules: Mapping[str, RuleClips] | None = None,
        *, attach: bool = True,
    ) -> CameraClips | None:  # fmt: skip
        """The tap for ``camera``'s capture thread, or None when no rule wants its clips.

        A reload builds a camera with its new ``rules`` and ``attach=False``: :meth:`attach`
        takes it in at the swap, so a reload that fails leaves the running clips as they were.
        """
        if not self.wants(camera, rules):
            return None
        clips = CameraClips(camera, source, self.config, self._done)
        if attach:
            self.attach(clips)
        log.info("camera %s: clips by %s", camera, _MODES[clips.mode])
        return clips

    def attach(self, clips: CameraClips) -> None:
        """Events of ``clips.name`` make clips from this ring from now on (pipeline thread)."""
        # A new dict, not an update: /metrics reads it on the HTTP thread.
        self.cameras = {**self.cameras, clips.name: clips}

    def untapped(self, cameras: Iterable[str], rules: Mapping[str, RuleClips]) -> list[str]:
        """The ``cameras`` that ``rules`` want clips of but that have no ring (not recording)."""
        return [name for name in cameras if name not in self.cameras and self.wants(name, rules)]

    def retire(self, camera: str, reason: str) -> None:
        """``camera`` stops (a reload removed or restarted it; pipeline thread): the clips
        recording from its ring end here, say ``reason``, and are written like any other."""
        cam = self.cameras.get(camera)
        if cam is None:
            return
        self.cameras = {name: c for name, c in self.cameras.items() if name != camera}
        for key in [key for key in self._open if key[0] == camera]:
            del self._open[key]
        ended = [s for s in cam.ring.take_subscribers() if isinstance(s, ClipJob)]
        for job in ended:
            job.broken(reason)
            self._done(job)
        if ended:
            log.info("camera %s: %d clip(s) cut short: %s", camera, len(ended), reason)
        cam.close()

    def on_events(self, frame: Frame, events: Sequence[Event]) -> list[Event]:
        """Open, end and reference clips for these events of ``frame`` (pipeline thread)."""
        out = []
        for event in events:
            spec = self.rules.get(event.rule)
            cam = self.cameras.get(event.camera)
            if spec is None or cam is None or spec.camera not in (None, event.camera):
                out.append(event)
                continue
            out.append(self._handle(cam, spec.clip, frame, event))
        return out

    def _handle(self, cam: CameraClips, clip: RuleClipConfig, frame: Frame, event: Event) -> Event:
        key = (event.camera, event.rule)
        if event.type == "start":
            job = self._start(cam, clip, frame, event)
            self._open.setdefault(key, []).append((event.track_id, job))
            return event
        if event.type == "count" and event.track_id is not None:  # not a reset to zero
            job = self._start(cam, clip, frame, event)
            job.finish_at(job.event_time + clip.post)
            return replace(event, clip=job.ref.to_json())
        ended = self._match(key, event) if event.type == "end" else None
        if ended is not None:
            ended.finish_at(cam.stream_time(frame) + clip.post)
            return replace(event, clip=ended.ref.to_json())
        return event

    def _start(self, cam: CameraClips, clip: RuleClipConfig, frame: Frame, event: Event) -> ClipJob:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(frame.wall))
        path = self.directory / event.camera / f"{stamp}_{event.rule}_{event.id}.mp4"
        ref = ClipRef(event.id, path, f"{self.base_url}/api/events/{event.id}/clip.mp4")
        at = cam.stream_time(frame)
        start = at - clip.pre
        job = ClipJob(ref, event.camera, event.rule, at, start, start + clip.max,
                      self.config.max_clip_bytes, cam.ring.template)  # fmt: skip
        cam.ring.subscribe(start, job)
        return job

    def _match(self, key: tuple[str, str], end: Event) -> ClipJob | None:
        """The open clip an ``end`` closes: its start's (``start_id``), else the same track's,
        else the newest."""
        jobs = self._open.get(key)
        if not jobs:
            return None
        index = next((i for i, (_, job) in enumerate(jobs) if job.ref.id == end.start_id), None)
        if index is None:
            tracks = (i for i, (track, _) in enumerate(jobs) if track == end.track_id)
            index = next(tracks, len(jobs) - 1)
        return jobs.pop(index)[1]

    def _done(self, sub: Subscriber) -> None:
        """A clip is complete or its stream broke (capture thread): write it."""
        if isinstance(sub, ClipJob) and not sub.done.is_set():
            sub.done.set()
            self.writer.submit(sub)

    def close(self, timeout: float = 10.0) -> None:
        """Write every open clip with what it has, then stop (at most ``timeout`` seconds)."""
        for cam in self.cameras.values():
            cam.close()
            pending = [s for s in cam.ring.take_subscribers() if isinstance(s, ClipJob)]
            for job in pending:
                job.truncated.append("recording stopped before the clip's end")
                self._done(job)
        self._open.clear()
        self.writer.close(timeout)
