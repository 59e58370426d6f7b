"""A sink that writes one JSON event per line to a file or standard output."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TextIO

from edgecam.event import Event


class JsonLinesSink:
    """Writes each event as one JSON line and flushes, so a reader sees it at once."""

    def __init__(self, stream: TextIO, *, owns_stream: bool = False) -> None:
        self._stream = stream
        self._owns = owns_stream

    def emit(self, event: Event) -> None:
        """Write the event's JSON on its own line."""
        self._stream.write(json.dumps(event.to_json(), separators=(",", ":")) + "\n")
        self._stream.flush()

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        """Snapshots are not written to a JSON-lines stream."""

    def stats(self, stats: Mapping[str, object]) -> None:
        """Stats are not written to a JSON-lines stream."""

    def close(self) -> None:
        """Close the file if this sink opened it."""
        if self._owns:
            self._stream.close()
