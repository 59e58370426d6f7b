"""int8-input models get the uint8 pixel minus 128, written straight into the input tensor."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector, DetectorInfo

INFO = DetectorInfo("fake", "0", "cpu", 1, "m.tflite", (4, 4))


class Int8Interpreter:
    """A 4x4 int8-input SSD with fixed outputs: enough of the TFLite interpreter API."""

    def __init__(self) -> None:
        self.input = np.zeros((1, 4, 4, 3), np.int8)
        self.outputs = {
            1: np.array([[[0.0, 0.0, 0.5, 0.5]]], np.float32),
            2: np.array([[0.0]], np.float32),
            3: np.array([[0.9]], np.float32),
            4: np.array([1.0], np.float32),
        }
        self.invokes = 0

    def get_input_details(self) -> list[dict[str, Any]]:
        shape = np.array([1, 4, 4, 3])
        return [{"index": 0, "shape": shape, "dtype": np.int8, "quantization": (1 / 128, 0)}]

    def get_output_details(self) -> list[dict[str, Any]]:
        names = ["TFLite_Detection_PostProcess", "TFLite_Detection_PostProcess:1"]
        names += ["TFLite_Detection_PostProcess:2", "TFLite_Detection_PostProcess:3"]
        return [
            {"index": i, "name": n, "shape": np.array(self.outputs[i].shape)}
            for i, n in zip(self.outputs, names, strict=True)
        ]

    def tensor(self, index: int) -> Any:
        return lambda: self.input

    def get_tensor(self, index: int) -> Any:
        return self.outputs[index].copy()

    def get_tensor_details(self) -> list[dict[str, Any]]:
        return []

    def invoke(self) -> None:
        self.invokes += 1


def test_int8_input_is_pixel_minus_128() -> None:
    interp = Int8Interpreter()
    model = ModelConfig(device="cpu")
    det = Detector(interp, model, {0: "person"}, INFO, model.model_file())
    image = np.full((8, 8, 3), 200, np.uint8)
    image[:4] = 0
    (found,) = det.detect(image)
    assert found.label == "person" and found.box == (0.0, 0.0, 0.5, 0.5)
    assert interp.input.dtype == np.int8
    assert int(interp.input[0, 0, 0, 0]) == -128
    assert int(interp.input[0, 3, 3, 0]) == 200 - 128
