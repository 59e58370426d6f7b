"""The ``events:`` config section: where events, snapshots and clips are kept, and how many."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from edgecam.schema import ConfigPath, Duration, StrictModel


class EventsConfig(StrictModel):
    """The events store: events in SQLite, their snapshots and clips as files, all bounded."""

    enabled: bool = True
    """Keep events for the API (``/api/events``); clips need it."""
    path: ConfigPath | None = None
    """Directory for ``events.sqlite``, snapshots and clips; default: ``events/`` in the state
    directory (``$STATE_DIRECTORY``, ``/var/lib/edgecam`` or ``~/.local/state/edgecam``)."""
    max_events: int = Field(default=10_000, ge=10)
    """Most events kept; the oldest are deleted with their files."""
    max_bytes: int = Field(default=2_000_000_000, ge=1_000_000)
    """Most bytes of clips and snapshots kept, all cameras together; oldest deleted first."""
    max_age: Duration = Field(default=7 * 86400.0, gt=0.0)
    """Clips and snapshots older than this are deleted."""
    min_free_bytes: int = Field(default=50_000_000, ge=0)
    """No clip is written when the disk has less free space than this (events still go out)."""
    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    """How clients reach the web server, e.g. ``http://porch-pi.local:8080``: clip URLs on
    events and in Home Assistant start with it. Default: ``http://`` + ``http.listen``."""

    def directory(self, state_dir: Path) -> Path:
        """The store's directory (``path``, or ``events`` under ``state_dir``)."""
        return self.path if self.path is not None else state_dir / "events"
