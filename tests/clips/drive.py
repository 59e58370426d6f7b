"""Driving a camera's clip tap frame by frame on the video's own clock, as the capture loop does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edgecam.camera.base import FrameSource
from edgecam.clips.config import ClipsConfig, RuleClipConfig
from edgecam.clips.recorder import ClipRecorder, RuleClips
from edgecam.clips.writer import ClipResult
from edgecam.event import Event, iso_utc
from edgecam.types import Frame

WALL0 = 1_800_000_000.0


def recorder(
    root: Path, results: list[ClipResult], clip: RuleClipConfig, config: ClipsConfig | None = None
) -> ClipRecorder:
    """A recorder for one rule ``walk`` on camera ``cam`` that collects its results."""
    return ClipRecorder(
        config or ClipsConfig(),
        {"walk": RuleClips("cam", clip)},
        root,
        base_url="http://127.0.0.1:8080",
        on_result=results.append,
    )


def event(kind: str, frame: Frame, event_id: str) -> Event:
    """An event of rule ``walk`` on ``frame``."""
    return Event(event_id, kind, "walk", "cam", iso_utc(frame.wall), frame.seq, track_id=1)  # type: ignore[arg-type]


def play(
    source: FrameSource,
    rec: ClipRecorder,
    events: dict[int, str],
    *,
    fps: float = 10.0,
    on_frame: Callable[[int], None] | None = None,
) -> list[Event]:
    """Read ``source`` to its end through the tap; emit ``events[index]`` (a type) on those frames.

    Frame times are the video's own (index / fps), so the expected clip is exact.
    """
    tap = rec.tap("cam", source)
    assert tap is not None
    source.open()
    emitted: list[Event] = []
    index = 0
    try:
        while (image := source.read()) is not None:
            frame = Frame(image, index, index / fps, WALL0 + index / fps, "cam")
            tap.frame(frame)
            if on_frame is not None:
                on_frame(index)
            if index in events:
                emitted += rec.on_events(frame, [event(events[index], frame, f"e{index}")])
            index += 1
    finally:
        source.close()
    return emitted
