"""The parts of picamera2 and libcamera the Pi camera source uses, real or fake, passed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Picamera2Api:
    """The parts of picamera2 and libcamera the source uses (real ones, or the shipped fake)."""

    picamera2_class: Any
    transform_class: Any
    exposure_modes: Any
    """``libcamera.controls.AeExposureModeEnum``."""
    h264_encoder_class: Any = None
    """``picamera2.encoders.H264Encoder``: for clips."""
    output_class: Any = None
    """``picamera2.outputs.Output``: clips subclass it to receive the encoder's frames."""
    mapped_array_class: Any = None
    """``picamera2.MappedArray``: a stream's buffer in place, without the copy make_array does."""
    imx500_class: Any = None
    """``picamera2.devices.IMX500``: the AI Camera's helper (None where picamera2 lacks it)."""
    rgb_lores: bool = False
    """The ISP can deliver lores as RGB (a Pi 5's PiSP); a Pi 4's VC4 only gives YUV420."""
