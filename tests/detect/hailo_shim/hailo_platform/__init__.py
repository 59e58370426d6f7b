"""``hailo_platform`` for test processes: the fake shipped in edgecam (PYTHONPATH=this folder's parent)."""

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
