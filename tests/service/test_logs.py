"""Logging: journald-style lines (priority, no timestamp) only when stderr is the journal."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from edgecam.service.logs import is_journal, make_handler


def _line(handler: logging.Handler, level: int, text: str) -> str:
    record = logging.LogRecord("edgecam.x", level, __file__, 1, text, None, None)
    return handler.format(record)


def test_journal_lines_have_a_priority_and_no_time(tmp_path: Path) -> None:
    with (tmp_path / "stream").open("w") as stream:
        st = os.fstat(stream.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        assert is_journal(stream, env)
        handler = make_handler(stream, env)
        assert _line(handler, logging.WARNING, "camera lost") == "<4>edgecam.x: camera lost"
        assert _line(handler, logging.ERROR, "a\nb") == "<3>edgecam.x: a\n<3>b"


@pytest.mark.parametrize("value", ["", "1:2", "junk"])
def test_terminal_lines_have_a_time(tmp_path: Path, value: str) -> None:
    with (tmp_path / "stream").open("w") as stream:
        env = {"JOURNAL_STREAM": value} if value else {}
        assert not is_journal(stream, env)
        line = _line(make_handler(stream, env), logging.INFO, "hello")
        assert line.endswith("INFO edgecam.x: hello") and line[:4].isdigit()
