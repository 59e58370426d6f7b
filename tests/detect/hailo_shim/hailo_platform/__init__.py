"""``hailo_platform`` in test processes (PYTHONPATH=tests/detect/hailo_shim): edgecam's fake."""

from edgecam.detect.fake_hailo import (
    HEF,
    FormatType,
    HailoRTException,
    HailoSchedulingAlgorithm,
    VDevice,
    __version__,
)

__all__ = [
    "HEF",
    "FormatType",
    "HailoRTException",
    "HailoSchedulingAlgorithm",
    "VDevice",
    "__version__",
]
