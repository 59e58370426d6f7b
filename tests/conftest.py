"""Shared fixtures: test data and the bundled model's detector."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edgecam.config.models import ModelConfig
from edgecam.detect.detector import Detector
from tests.helpers import DATA


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Test images and video (copies of the project's reference data)."""
    return DATA


@pytest.fixture(scope="session")
def detector() -> Iterator[Detector]:
    """The bundled CPU model, loaded once per test session."""
    det = Detector.from_config(ModelConfig(device="cpu"))
    yield det
    det.close()
