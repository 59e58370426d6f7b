"""Logging set-up fit for a terminal and for journald.

Under systemd (``JOURNAL_STREAM`` names our stderr) journald stamps each line itself, so we print no
time, and a ``<N>`` syslog priority prefix lets ``journalctl -p`` filter by level.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

LEVELS = ("debug", "info", "warning", "error")
"""The level names the config accepts."""

_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


def is_journal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """True if ``stream`` is the journald stream systemd set up (``JOURNAL_STREAM=dev:inode``)."""
    value = environ.get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        stat = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return False
    return (stat.st_dev, stat.st_ino) == (int(dev), int(ino))


class JournalFormatter(logging.Formatter):
    """``<priority>logger: message``; journald adds the time, the unit and the pid."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """Prefix every line of the record with its syslog priority."""
        priority = _PRIORITY.get(record.levelno, 6)
        text = super().format(record)
        return "\n".join(f"<{priority}>{line}" for line in text.splitlines())


def make_handler(stream: TextIO, environ: Mapping[str, str]) -> logging.Handler:
    """A stream handler whose format suits where ``stream`` goes."""
    handler = logging.StreamHandler(stream)
    if is_journal(stream, environ):
        handler.setFormatter(JournalFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def setup_logging(
    level: str = "info", *, stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> None:
    """Configure the root logger once: one handler on stderr (or ``stream``) at ``level``."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(make_handler(stream or sys.stderr, os.environ if environ is None else environ))
    set_level(level)


def set_level(level: str) -> None:
    """Change the root level (on start-up and on reload)."""
    logging.getLogger().setLevel(level.upper())
