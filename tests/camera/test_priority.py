"""Lowering a capture thread's priority: a refusal (a seccomp filter, say) is one warning."""

from __future__ import annotations

import logging
import os

import pytest

from edgecam.camera import priority


def test_a_refused_priority_change_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(_which: int, _who: int, _prio: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    priority._priority_warning.cache_clear()
    monkeypatch.setattr(os, "setpriority", refuse)
    with caplog.at_level(logging.WARNING):
        for niceness in (5, 10, 5):  # three cameras
            priority.lower_priority(niceness)
    [record] = caplog.records
    assert "Operation not permitted" in record.getMessage()
    assert "SystemCallFilter=setpriority" in record.getMessage()
    priority._priority_warning.cache_clear()
