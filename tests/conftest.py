"""Shared fixtures: test data and the bundled model's detector."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from tests.helpers import DATA


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Test images and video (copies of the project's reference data)."""
    return DATA


@pytest.fixture(scope="session")
def detector() -> Iterator[Detector]:
    """The default CPU model (the int8 COCO built-in), loaded once per test session."""
    det = Detector.from_config(ModelConfig(device="cpu"))
    yield det
    det.close()


@pytest.fixture(scope="session")
def reference_detector() -> Iterator[Detector]:
    """Coral's uint8 COCO model (``coco-uint8``): the reference the int8 build is held to."""
    det = Detector.from_config(ModelConfig(name="coco-uint8", device="cpu"))
    yield det
    det.close()


def _edgetpu_present() -> bool:
    """An Edge TPU and its library are on this machine (USB ids of Coral, or a PCIe apex)."""
    import ctypes

    try:
        ctypes.CDLL("libedgetpu.so.1")
    except OSError:
        return False
    if Path("/dev/apex_0").exists():
        return True
    # The Coral USB Accelerator: 1a6e:089a until its firmware is loaded, then 18d1:9302.
    for device in Path("/sys/bus/usb/devices").iterdir():
        try:
            ids = (
                (device / "idVendor").read_text().strip(),
                (device / "idProduct").read_text().strip(),
            )
        except OSError:
            continue
        if ids in {("1a6e", "089a"), ("18d1", "9302")}:
            return True
    return False


def _picamera_present() -> bool:
    try:
        from picamera2 import Picamera2
    except ImportError:
        return False
    return bool(Picamera2.global_camera_info())


def _hailo_present() -> bool:
    """A Hailo device node and HailoRT's Python API (hailo-all on Raspberry Pi OS)."""
    import importlib.util

    return Path("/dev/hailo0").exists() and importlib.util.find_spec("hailo_platform") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip hardware-marked tests, and only those, where the hardware is absent."""
    checks = {"edgetpu": _edgetpu_present, "picamera": _picamera_present, "hailo": _hailo_present}
    present: dict[str, bool] = {}
    for item in items:
        for marker, check in checks.items():
            if marker in item.keywords:
                if marker not in present:
                    present[marker] = check()
                if not present[marker]:
                    item.add_marker(pytest.mark.skip(reason=f"no {marker} hardware here"))


def pytest_configure(config: pytest.Config) -> None:
    """State (outbox, events store, clips) of services run by tests goes to a scratch directory."""
    import os
    import tempfile

    if "STATE_DIRECTORY" not in os.environ:
        os.environ.setdefault("XDG_STATE_HOME", tempfile.mkdtemp(prefix="edgecam-test-state-"))
