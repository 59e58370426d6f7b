"""One frame through the detector: on its capture-time crops, on regions, or whole."""

from __future__ import annotations

from collections.abc import Callable

from edgecam.detect.detector import Detector
from edgecam.detect.regions import Plan, detect_crops, detect_plan
from edgecam.pipeline.cameras import CameraState
from edgecam.pipeline.guard import DetectorLike, FittingDetector
from edgecam.rules.engine import RuleEngine
from edgecam.types import Box, Detection, Frame

Interest = Callable[[CameraState, Frame], list[Box]]
"""Where objects are on a camera's frame (its tracks and what moved)."""


def detect_frame(
    detector: Detector | DetectorLike,
    fitting: FittingDetector | None,
    cam: CameraState,
    frame: Frame,
    interest: Interest,
) -> list[Detection]:
    """Run the detector on the frame: on crops, on regions, or on the whole frame."""
    if (crops := frame.crops) is not None:
        cam.invokes += len(crops.images) + crops.full_frame
        return detect_crops(detector.detect, crops, lambda: _whole(detector, fitting, cam, frame))
    cam.last_regions = ()
    if (passes := _regions(cam, frame, interest)) is not None:
        cam.invokes += len(passes.regions) + passes.full_frame
        cam.last_regions = passes.regions  # a reference: the live view's regions layer
        return detect_plan(detector.detect, frame.image, passes)
    cam.invokes += 1
    return _whole(detector, fitting, cam, frame)


def _whole(
    detector: Detector | DetectorLike,
    fitting: FittingDetector | None,
    cam: CameraState,
    frame: Frame,
) -> list[Detection]:
    """The whole analysed frame, fitted on the capture thread where it could be."""
    if fitting is not None and frame.model_input is not None and frame.seq >= cam.fitted_from:
        return fitting.detect(frame.image, frame.model_input)
    return detector.detect(frame.image)


def _regions(cam: CameraState, frame: Frame, interest: Interest) -> Plan | None:
    """Regions to detect on around motion and tracks; None: the whole frame, as usual."""
    if cam.regions is None or cam.main_regions or not cam.regions.active(frame.size):
        return None  # no per-frame work for a camera whose frames gain nothing
    return cam.regions.next(frame.size, interest(cam, frame))


def interest(engine: RuleEngine, cam: CameraState, frame: Frame) -> list[Box]:
    """Where objects are: the camera's tracks and what moved (regions go around them)."""
    boxes = engine.track_boxes(cam.name, frame.mono)
    if cam.motion is not None:
        boxes += cam.motion.moving_boxes()
    return boxes
