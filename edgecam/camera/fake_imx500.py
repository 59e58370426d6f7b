"""A stand-in for picamera2's ``IMX500`` helper: an AI Camera whose sensor runs the bundled model.

The real IMX500 runs an int8 SSD MobileNetV2 on the sensor and puts its output tensors in each
request's metadata (``CnnOutputTensor``: the tensors' floats one after another, each laid out in
Fortran order; ``CnnOutputTensorInfo``: their shapes). This fake does the same with the bundled
int8 COCO model run on the frame the camera sees, scaled to the model's input: boxes
``(y0, x0, y1, x1)`` normalised to the sensor, then scores, classes and the count, as the
SSD postprocess of ``imx500_network_ssd_mobilenetv2_fpnlite_320x320_pp.rpk`` lays them out. The
``.rpk`` file is never read. The network firmware upload takes ``firmware_seconds`` from the
camera's start, with progress as the driver's debugfs files report it.
"""

from __future__ import annotations

import enum
import functools
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgecam import bundled
from edgecam.types import Image

FIRMWARE_BYTES = 2_800_000
"""About the size of the SSD network's firmware."""
SENSOR = (4056, 3040)
"""The IMX500's full resolution, which ``convert_inference_coords`` maps from."""


class FwProgressType(enum.IntEnum):
    """Like ``IMX500.FwProgressType``: how the upload progress can be read."""

    NONE = 0
    DIRECT = 1
    INDIRECT = 2


@dataclass
class FakeIntrinsics:
    """Like ``NetworkIntrinsics`` of an SSD detection network."""

    task: str = "object detection"
    labels: list[str] = field(default_factory=list)
    bbox_normalization: bool = False
    bbox_order: str = "yx"
    ignore_dash_labels: bool = False
    preserve_aspect_ratio: bool = False
    postprocess: str = ""
    inference_rate: float = 30.0


@functools.cache
def _interpreter() -> Any:
    """The bundled int8 COCO model, loaded once per process (the sensor's network)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(bundled.model_file(bundled.INT8_MODEL)), num_threads=1)
    interpreter.allocate_tensors()
    return interpreter


def _coco_labels() -> list[str]:
    """The bundled COCO labels as the network's list: index = class id, ``-`` for gaps."""
    pairs = [line.split(maxsplit=1) for line in bundled.model_file(bundled.LABELS).read_text(
        encoding="utf-8").splitlines() if line.strip()]  # fmt: skip
    names = {int(i): name.strip() for i, name in pairs}
    return [names.get(i, "-") for i in range(max(names) + 1)]


def run_network(image: Image) -> list[np.ndarray]:
    """The network's outputs for a BGR ``image``: boxes (N,4), scores, classes (N,), count (1,)."""
    import cv2

    interpreter = _interpreter()
    detail = interpreter.get_input_details()[0]
    _, height, width, _ = (int(v) for v in detail["shape"])
    rgb = cv2.cvtColor(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA),
                       cv2.COLOR_BGR2RGB)  # fmt: skip
    interpreter.set_tensor(detail["index"], np.bitwise_xor(rgb, 0x80).view(np.int8)[None])
    interpreter.invoke()
    out = {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}
    boxes = out["TFLite_Detection_PostProcess"][0].astype(np.float32)
    classes = out["TFLite_Detection_PostProcess:1"][0].astype(np.float32)
    scores = out["TFLite_Detection_PostProcess:2"][0].astype(np.float32)
    count = out["TFLite_Detection_PostProcess:3"].astype(np.float32).reshape(1)
    return [boxes, scores, classes, count]


def bind_imx500(system: Any) -> type[FakeIMX500]:
    """The ``IMX500`` class of one fake camera system."""

    class BoundIMX500(FakeIMX500):
        def __init__(
            self, network_file: str, camera_id: str = "", tensor_injection: bool = False
        ) -> None:
            super().__init__(system, network_file)

    return BoundIMX500


class FakeIMX500:
    """Like ``picamera2.devices.IMX500``: made before ``Picamera2``, hands the network over."""

    FwProgressType = FwProgressType

    def __init__(self, system: Any, network_file: str) -> None:
        system.calls.append(("IMX500", network_file))
        if system.absent:
            raise RuntimeError("IMX500: Requested camera dev-node not found")
        if not network_file.endswith(".rpk"):
            raise RuntimeError(f"Firmware file {network_file} does not exist.")
        self.system = system
        self.network_file = network_file
        self.camera_num = 0
        self.fw_progress = FwProgressType.DIRECT
        self.network_intrinsics: FakeIntrinsics | None = FakeIntrinsics(labels=_coco_labels())
        self.outputs_made = 0
        """Frames the sensor ran the network on (tests compare with the TFLite invokes)."""
        system.imx500 = self

    def get_input_size(self) -> tuple[int, int]:
        """The network's input ``(width, height)``."""
        detail = _interpreter().get_input_details()[0]
        return int(detail["shape"][2]), int(detail["shape"][1])

    def get_fw_upload_progress(self, stage_req: int) -> tuple[int, int]:
        """``(current, total)`` bytes of the upload stage asked for (``(0, 0)`` for another)."""
        if stage_req != 2:
            return 0, 0
        started = self._started()
        if started is None or self.system.firmware_seconds <= 0:
            return 0, 0
        share = min(1.0, (time.monotonic() - started) / self.system.firmware_seconds)
        return round(share * FIRMWARE_BYTES), FIRMWARE_BYTES

    def _started(self) -> float | None:
        return self.system.started_at or None

    def set_auto_aspect_ratio(self) -> None:
        """Crop the sensor's view to the network's aspect ratio."""
        self.system.calls.append(("set_auto_aspect_ratio", None))

    def metadata(self, system: Any) -> dict[str, Any]:
        """The output tensor entries of a request's metadata for the current frame."""
        outputs = run_network(system.scene)
        self.outputs_made += 1
        flat = np.concatenate([t.flatten(order="F") for t in outputs])
        return {"CnnOutputTensor": flat.tolist(), "CnnOutputTensorInfo": [t.shape for t in outputs]}

    def get_outputs(self, metadata: dict[str, Any], add_batch: bool = False) -> list[Any] | None:
        """The network's outputs of a request, as picamera2 reshapes them; None if it has none."""
        tensor = metadata.get("CnnOutputTensor")
        if not tensor:
            return None
        data = np.fromiter(tensor, dtype=np.float32)
        outputs, offset = [], 0
        for shape in metadata["CnnOutputTensorInfo"]:
            size = int(np.prod(shape))
            array = data[offset : offset + size].reshape(shape, order="F")
            outputs.append(np.expand_dims(array, 0) if add_batch else array)
            offset += size
        return outputs

    def convert_inference_coords(
        self, coords: tuple[float, ...], metadata: dict[str, Any], picam2: Any, stream: str = "main"
    ) -> tuple[int, int, int, int]:
        """``(x, y, w, h)`` on ``stream`` of a box ``(y0, x0, y1, x1)`` relative to the sensor."""
        out_w, out_h = picam2.camera_configuration()[stream]["size"]
        crop_x, crop_y, crop_w, crop_h = metadata["ScalerCrop"]
        y0, x0, y1, x1 = coords
        # To sensor pixels (integers, as libcamera's Rectangle), bounded to the crop, then scaled.
        sx0, sy0 = max(0, int(x0 * SENSOR[0])), max(0, int(y0 * SENSOR[1]))
        sx1 = min(max(sx0, int(x1 * SENSOR[0])), crop_x + crop_w)
        sy1 = min(max(sy0, int(y1 * SENSOR[1])), crop_y + crop_h)
        sx0, sy0 = max(sx0, crop_x), max(sy0, crop_y)
        return (
            (sx0 - crop_x) * out_w // crop_w,
            (sy0 - crop_y) * out_h // crop_h,
            (sx1 - sx0) * out_w // crop_w,
            (sy1 - sy0) * out_h // crop_h,
        )
