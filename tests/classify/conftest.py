"""Fixtures: the real Mosquitto of the publish tests, and the bird clip made once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.classify.clip import make_bird_clip
from tests.publish.conftest import broker, subscriber

__all__ = ["bird_clip", "broker", "subscriber"]


@pytest.fixture(scope="session")
def bird_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two bird photos gliding across a background, one after the other (12.5 s, 10 fps)."""
    return make_bird_clip(tmp_path_factory.mktemp("clip") / "birds.avi")
