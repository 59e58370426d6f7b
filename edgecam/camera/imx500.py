"""The Raspberry Pi AI Camera (Sony IMX500): the network runs on the sensor, boxes come with frames.

picamera2's ``IMX500`` helper (``picamera2.devices.IMX500``) is created before the camera is
opened: it hands the network's ``.rpk`` firmware to the driver, and reads the network's
intrinsics (task, labels, box layout). The upload itself happens when the camera starts and takes
tens of seconds the first time; its progress (``get_fw_upload_progress``) goes to the log and to
``loading``, which ``/healthz`` shows as ``starting``. Each completed request then carries the
network's output tensors in its metadata: ``get_outputs(metadata, add_batch=True)`` gives boxes,
scores and classes (the SSD postprocess layout), and ``convert_inference_coords`` maps a box
through the ISP's crop onto the main stream.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from edgecam.errors import CameraError
from edgecam.schema import ConfigPath, Duration, StrictModel, resolve_path
from edgecam.types import Box, Detection

log = logging.getLogger(__name__)

MODELS_DIR = Path("/usr/share/imx500-models")
"""Where Raspberry Pi OS's ``imx500-models`` package puts the networks."""
DEFAULT_NETWORK = "imx500_network_ssd_mobilenetv2_fpnlite_320x320_pp.rpk"
FW_NETWORK_STAGE = 2
"""picamera2's stage number of the network firmware upload (``FW_NETWORK_STAGE``)."""
SENSOR_FLOOR = 0.05
"""Scores below this are dropped on the camera side; the model's threshold applies later."""
PROGRESS_EVERY = 5.0
"""Seconds between log lines about the firmware upload."""


class AiCameraConfig(StrictModel):
    """Detect on the AI Camera's own sensor instead of with the TFLite detector."""

    network: str = DEFAULT_NETWORK
    """An ``.rpk`` network: a file name in /usr/share/imx500-models or a path."""
    labels: ConfigPath | None = None
    """Label file (``id  label`` or one per line); default: the network's own labels."""
    firmware_timeout: Duration = Field(default=600.0, gt=0.0)
    """How long the first frame may take: the network firmware upload, minutes at worst."""

    @field_validator("network")
    @classmethod
    def _relative_to_config(cls, value: str, info: ValidationInfo) -> str:
        """A path (not a bare name) is taken from the config file's directory, as other paths."""
        return str(resolve_path(Path(value), info)) if "/" in value else value


def network_path(network: str) -> Path:
    """The ``.rpk`` file ``network`` names: a bare name is looked up in :data:`MODELS_DIR`."""
    if "/" in network:
        return Path(network).expanduser()
    return MODELS_DIR / (network if network.endswith(".rpk") else f"{network}.rpk")


class SensorNetwork:
    """One AI Camera's network: loaded before the camera opens, its outputs decoded per frame."""

    def __init__(self, camera: str, config: AiCameraConfig, imx500_class: Any) -> None:
        self.camera = camera
        self.config = config
        self._imx500_class = imx500_class
        self.imx500: Any = None
        self.labels: list[str] = []
        self._order_xy = False
        self._normalise = 0.0
        self._last: tuple[Detection, ...] = ()
        self.loading: str | None = "opening the AI Camera"
        """What the camera waits for while it starts (the firmware upload), else None."""
        self._done = threading.Event()
        self.frames_without_outputs = 0

    def load(self) -> int:
        """Hand the network to the camera (before Picamera2 opens it); the camera's number."""
        path = network_path(self.config.network)
        try:
            imx500 = self._imx500_class(str(path))
        except (RuntimeError, OSError, ValueError) as err:
            raise CameraError(
                f"camera {self.camera!r}: cannot load the AI Camera network {path} ({err}); "
                "check the ribbon cable, `sudo apt install imx500-all`, and ai_camera.network"
            ) from err
        intrinsics = imx500.network_intrinsics
        task = getattr(intrinsics, "task", None) if intrinsics else None
        if task not in (None, "object detection"):
            raise CameraError(
                f"camera {self.camera!r}: AI Camera network {path.name} does {task!r}, not "
                "object detection; give an SSD detection network in ai_camera.network"
            )
        self.imx500 = imx500
        self.labels = _labels(intrinsics)
        self._order_xy = getattr(intrinsics, "bbox_order", None) == "xy"
        if intrinsics is not None and getattr(intrinsics, "bbox_normalization", False):
            self._normalise = float(imx500.get_input_size()[1])
        self._done.clear()
        self.loading = "uploading the network firmware to the AI Camera"
        threading.Thread(target=self._report, name=f"imx500-{self.camera}", daemon=True).start()
        return int(getattr(imx500, "camera_num", 0))

    def started(self) -> None:
        """The camera runs: apply the network's input crop, as picamera2's demo does."""
        intrinsics = self.imx500.network_intrinsics
        if intrinsics is not None and getattr(intrinsics, "preserve_aspect_ratio", False):
            self.imx500.set_auto_aspect_ratio()

    def detections(
        self, metadata: dict[str, Any], picam2: Any, main: tuple[int, int]
    ) -> tuple[Detection, ...]:
        """The frame's detections, boxes normalised to the view; a frame without outputs (the
        network runs at its own rate) repeats the last ones."""
        outputs = self.imx500.get_outputs(metadata, add_batch=True)
        if outputs is None:
            self.frames_without_outputs += 1
            return self._last
        if self.loading is not None:
            self._finished()
        boxes, scores, classes = outputs[0][0], outputs[1][0], outputs[2][0]
        if self._normalise:
            boxes = boxes / self._normalise
        if self._order_xy:
            boxes = boxes[:, [1, 0, 3, 2]]
        found = []
        for i in np.flatnonzero(np.asarray(scores) >= SENSOR_FLOOR).tolist():
            coords = tuple(float(v) for v in boxes[i])
            x, y, w, h = picam2_box(self.imx500, coords, metadata, picam2)
            class_id = int(classes[i])
            label = self.labels[class_id] if 0 <= class_id < len(self.labels) else ""
            box = _normalised(x, y, w, h, main)
            found.append(Detection(label or f"class{class_id}", class_id, float(scores[i]), box))
        self._last = tuple(found)
        return self._last

    def close(self) -> None:
        """Stop reporting progress (the camera closed)."""
        self._done.set()

    def _finished(self) -> None:
        self.loading = None
        if not self._done.is_set():
            self._done.set()
            log.info("camera %s: AI Camera network running", self.camera)

    def _report(self) -> None:
        """Log the upload's progress every few seconds until the first outputs arrive."""
        started = time.monotonic()
        next_log = started  # the first reading at once, then every few seconds
        readable = bool(getattr(self.imx500, "fw_progress", 0))
        log.info("camera %s: uploading the AI Camera network firmware (the first time takes "
                 "tens of seconds)", self.camera)  # fmt: skip
        while not self._done.wait(1.0):
            now = time.monotonic()
            text = f"uploading the network firmware to the AI Camera ({now - started:.0f} s)"
            if readable:
                try:
                    current, total = self.imx500.get_fw_upload_progress(FW_NETWORK_STAGE)
                except (OSError, ValueError, RuntimeError, IndexError):
                    readable = False  # the debugfs files went away: time alone from now on
                else:
                    if total:
                        share, mib = 100 * current / total, total / 2**20
                        text = f"uploading the network firmware: {share:.0f} % of {mib:.1f} MiB"
            if self._done.is_set():
                return
            self.loading = text
            if now >= next_log:
                next_log = now + PROGRESS_EVERY
                log.info("camera %s: %s", self.camera, text)


def picam2_box(imx500: Any, coords: tuple[float, ...], metadata: Any, picam2: Any) -> Any:
    """``(x, y, w, h)`` on the main stream of a ``(y0, x0, y1, x1)`` box of the network's input."""
    return imx500.convert_inference_coords(coords, metadata, picam2)


def _normalised(x: float, y: float, w: float, h: float, main: tuple[int, int]) -> Box:
    width, height = main
    return (
        min(max(x / width, 0.0), 1.0),
        min(max(y / height, 0.0), 1.0),
        min(max((x + w) / width, 0.0), 1.0),
        min(max((y + h) / height, 0.0), 1.0),
    )


def _labels(intrinsics: Any) -> list[str]:
    """The network's labels in class order, ``-`` entries dropped where the network says so."""
    labels = list(getattr(intrinsics, "labels", None) or []) if intrinsics else []
    if intrinsics is not None and getattr(intrinsics, "ignore_dash_labels", False):
        labels = [label for label in labels if label and label != "-"]
    return labels
