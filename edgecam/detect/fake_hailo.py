"""A stand-in for HailoRT's ``hailo_platform``, for tests and for trying configs without a Hailo.

It honours the subset of the API :mod:`edgecam.detect.hailo` uses, with the same names, shapes
and output layout: a ``VDevice`` that only one holder may open at a time (as without HailoRT's
multi-process service), ``HEF`` stream infos, an infer model whose NMS output is a list (per
class) of ``[n, 5]`` float32 rows ``[ymin, xmin, ymax, xmax, score]``, and ``HailoRTException``.

A fake HEF is a small text file (:func:`write_fake_hef`) naming a TFLite SSD model: the fake
runs that model on the uint8 input and hands its boxes out in Hailo's per-class form, so tests
check real boxes through the Hailo decode path. A fake 80-class HEF (like the YOLO builds) numbers
the COCO model's classes 0..79. To make the fake the ``hailo_platform`` of a
process, put a ``hailo_platform`` package on its path that does ``from
edgecam.detect.fake_hailo import *`` (the tests do). The device can be lost mid-run:
``EDGECAM_FAKE_HAILO_LOSE_AFTER=N`` makes inference N+1 fail and the device vanish, as when the
PCIe link drops; ``EDGECAM_FAKE_HAILO_ABSENT=1`` means no device at all.
"""

from __future__ import annotations

import enum
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgecam import bundled
from edgecam.detect.labels import read_labels
from edgecam.detect.model import read_outputs
from edgecam.detect.runtime import find_runtime

__version__ = "4.20.0+edgecam-fake"
MAGIC = "EDGECAM-FAKE-HEF 1\n"
NMS_SCORE_THRESHOLD = 0.3
"""The score floor of the fake's on-chip NMS (Hailo's zoo SSD uses 0.3 too)."""


class HailoRTException(Exception):  # noqa: N818 (HailoRT's name)
    """Like ``hailo_platform.HailoRTException``: every HailoRT failure."""


class HailoSchedulingAlgorithm(enum.IntEnum):
    """Like ``hailo_platform.HailoSchedulingAlgorithm``."""

    NONE = 0
    ROUND_ROBIN = 1


class FormatType(enum.IntEnum):
    """Like ``hailo_platform.FormatType``."""

    AUTO = 0
    UINT8 = 1
    UINT16 = 2
    FLOAT32 = 3


@dataclass
class FakeHailoSystem:
    """The fake's one device: present or not, held or free, and when it is lost."""

    absent: bool = False
    lose_after: int | None = None
    """Inferences that succeed before the device is lost (None: never)."""
    runs: int = 0
    held: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_environ(cls) -> FakeHailoSystem:
        """The system the environment variables describe (see the module docstring)."""
        lose = os.environ.get("EDGECAM_FAKE_HAILO_LOSE_AFTER")
        absent = os.environ.get("EDGECAM_FAKE_HAILO_ABSENT", "") not in ("", "0")
        return cls(absent=absent, lose_after=int(lose) if lose else None)


_SYSTEM: list[FakeHailoSystem] = []


def system() -> FakeHailoSystem:
    """The process's fake device (created from the environment on first use)."""
    if not _SYSTEM:
        _SYSTEM.append(FakeHailoSystem.from_environ())
    return _SYSTEM[0]


def reset(new: FakeHailoSystem | None = None) -> FakeHailoSystem:
    """Replace the process's fake device (tests)."""
    _SYSTEM[:] = [new or FakeHailoSystem()]
    return _SYSTEM[0]


def write_fake_hef(
    path: Path, tflite: Path, classes: int = 90, name: str = "ssd_mobilenet_v2"
) -> Path:
    """Write a fake HEF at ``path`` that runs the TFLite SSD model ``tflite``."""
    spec = {"network": name, "tflite": str(tflite.resolve()), "classes": classes}
    path.write_text(MAGIC + json.dumps(spec) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class _Format:
    type: FormatType


@dataclass(frozen=True)
class NmsShape:
    """Like pyhailort's NMS shape of an output stream."""

    number_of_classes: int
    max_bboxes_per_class: int


@dataclass(frozen=True)
class VStreamInfo:
    """Like pyhailort's ``VStreamInfo``: name, shape, format (and NMS shape for NMS outputs)."""

    name: str
    shape: tuple[int, ...]
    format: _Format
    nms: NmsShape | None = None

    @property
    def nms_shape(self) -> NmsShape:
        """The NMS shape; HailoRTException for an output without NMS, as pyhailort raises."""
        if self.nms is None:
            raise HailoRTException("not an NMS output")
        return self.nms


class _Network:
    """A parsed fake HEF and the TFLite interpreter behind it."""

    def __init__(self, path: str) -> None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise HailoRTException(f"Failed to parse HEF file {path}: {err}") from err
        if not text.startswith(MAGIC):
            raise HailoRTException(f"HEF file {path} is not a (fake) HEF: HAILO_INVALID_HEF")
        spec = json.loads(text[len(MAGIC) :])
        self.name = str(spec["network"])
        self.classes = int(spec["classes"])
        self.tflite = Path(spec["tflite"])
        runtime = find_runtime()
        self.interpreter = runtime.interpreter_class(model_path=str(self.tflite), num_threads=2)
        self.interpreter.allocate_tensors()
        (detail,) = self.interpreter.get_input_details()
        self.input_index = int(detail["index"])
        self.signed = detail["dtype"] == np.int8
        self.shape = tuple(int(v) for v in detail["shape"][1:])
        self.interpreter.invoke()
        self.outputs = read_outputs(self.interpreter, self.tflite)
        # An 80-class HEF (the YOLO builds) numbers COCO's classes 0..79, Coral's model by
        # their COCO ids (0..89 with gaps): renumber as such a HEF would.
        coco_ids = sorted(read_labels(bundled.model_file(bundled.LABELS)))
        self.renumber = {cid: i for i, cid in enumerate(coco_ids)} if self.classes == 80 else {}
        self.input_name = f"{self.name}/input_layer1"
        self.output_name = f"{self.name}/nms1"

    def run(self, image: np.ndarray[Any, np.dtype[np.uint8]]) -> list[np.ndarray[Any, Any]]:
        """The per-class NMS rows for one uint8 RGB input."""
        data = (image ^ 0x80).view(np.int8) if self.signed else image
        self.interpreter.set_tensor(self.input_index, data[None])
        self.interpreter.invoke()
        get = self.interpreter.get_tensor
        out = self.outputs
        count = int(get(out.boxes).shape[1])
        count = min(count, int(get(out.count).flat[0]))
        boxes, classes, scores = get(out.boxes)[0], get(out.classes)[0], get(out.scores)[0]
        rows: list[list[list[float]]] = [[] for _ in range(self.classes)]
        for i in range(count):
            class_id = int(classes[i])
            class_id = self.renumber.get(class_id, -1) if self.renumber else class_id
            if scores[i] >= NMS_SCORE_THRESHOLD and 0 <= class_id < self.classes:
                rows[class_id].append([*boxes[i].tolist(), float(scores[i])])
        return [np.asarray(r, np.float32).reshape(-1, 5) for r in rows]


class HEF:
    """Like ``hailo_platform.HEF``: the stream infos of a (fake) HEF file."""

    def __init__(self, path: str) -> None:
        self._network = _Network(path)

    def get_input_vstream_infos(self) -> list[VStreamInfo]:
        """The single image input."""
        n = self._network
        return [VStreamInfo(n.input_name, n.shape, _Format(FormatType.UINT8))]

    def get_output_vstream_infos(self) -> list[VStreamInfo]:
        """The single NMS output."""
        n = self._network
        nms = NmsShape(n.classes, 100)
        return [VStreamInfo(n.output_name, (n.classes, 5, 100), _Format(FormatType.FLOAT32), nms)]


class _Stream:
    def __init__(self, name: str, shape: tuple[int, ...]) -> None:
        self.name = name
        self.shape = shape
        self.format_type = FormatType.AUTO

    def set_format_type(self, kind: FormatType) -> None:
        self.format_type = kind


class InferModel:
    """Like HailoRT's ``InferModel``: streams, batch size, ``configure``."""

    def __init__(self, device: VDevice, path: str) -> None:
        self._device = device
        self._network = _Network(path)
        n = self._network
        self._input = _Stream(n.input_name, n.shape)
        self.outputs = [_Stream(n.output_name, (n.classes * 501,))]
        self.batch_size = 1

    @property
    def output_names(self) -> list[str]:
        """Names of the output streams."""
        return [o.name for o in self.outputs]

    def input(self, name: str | None = None) -> _Stream:
        """The input stream."""
        return self._input

    def output(self, name: str | None = None) -> _Stream:
        """An output stream (the only one when ``name`` is None)."""
        if name is None:
            return self.outputs[0]
        return next(o for o in self.outputs if o.name == name)

    def set_batch_size(self, size: int) -> None:
        """Frames per inference."""
        self.batch_size = size

    def configure(self) -> ConfiguredInferModel:
        """The model loaded on the device."""
        if self._input.format_type not in (FormatType.UINT8, FormatType.AUTO):
            raise HailoRTException("the fake takes uint8 input only")
        return ConfiguredInferModel(self._device, self._network)


class _Buffer:
    def __init__(self, value: Any = None) -> None:
        self.value = value

    def set_buffer(self, value: Any) -> None:
        self.value = value

    def get_buffer(self) -> Any:
        return self.value


class Bindings:
    """Like HailoRT's bindings: one input and one output buffer."""

    def __init__(self, output_buffers: dict[str, Any] | None) -> None:
        self._input = _Buffer()
        self._output = _Buffer(output_buffers)

    def input(self, name: str | None = None) -> _Buffer:
        """The input buffer."""
        return self._input

    def output(self, name: str | None = None) -> _Buffer:
        """The output buffer (after ``run``: the per-class NMS rows)."""
        return self._output


class ConfiguredInferModel:
    """Like HailoRT's ``ConfiguredInferModel``: bindings and a synchronous ``run``."""

    def __init__(self, device: VDevice, network: _Network) -> None:
        self._device = device
        self._network = network

    def create_bindings(self, output_buffers: dict[str, Any] | None = None) -> Bindings:
        """Bindings for one inference."""
        return Bindings(output_buffers)

    def run(self, bindings: list[Bindings], timeout_ms: int) -> None:
        """Run every binding's input; HailoRTException once the device is lost."""
        fake = system()
        for binding in bindings:
            with fake.lock:
                if self._device.released or fake.absent:
                    raise HailoRTException("HAILO_DRIVER_FAIL: the device is gone")
                if fake.lose_after is not None and fake.runs >= fake.lose_after:
                    fake.absent = True
                    raise HailoRTException("HAILO_PCIE_DRIVER_FAIL: lost the device mid-inference")
                fake.runs += 1
            image = np.asarray(binding.input().get_buffer(), np.uint8)
            if image.shape != self._network.shape:
                raise HailoRTException(
                    f"input of shape {image.shape}, expected {self._network.shape}"
                )
            binding.output().set_buffer(self._network.run(image))

    def shutdown(self) -> None:
        """Stop using the device."""


@dataclass
class _Params:
    scheduling_algorithm: HailoSchedulingAlgorithm = HailoSchedulingAlgorithm.ROUND_ROBIN
    group_id: str = "SHARED"


class VDevice:
    """Like ``hailo_platform.VDevice``: one holder at a time; raises when there is no device."""

    def __init__(self, params: _Params | None = None) -> None:
        fake = system()
        with fake.lock:
            if fake.absent:
                raise HailoRTException("HAILO_OUT_OF_PHYSICAL_DEVICES: no Hailo device found")
            if fake.held:
                raise HailoRTException("HAILO_OUT_OF_PHYSICAL_DEVICES: the device is in use")
            fake.held = True
        self.released = False

    @staticmethod
    def create_params() -> _Params:
        """Default parameters."""
        return _Params()

    def create_infer_model(self, path: str) -> InferModel:
        """An infer model for the HEF at ``path``."""
        return InferModel(self, path)

    def release(self) -> None:
        """Give the device back."""
        if not self.released:
            self.released = True
            with system().lock:
                system().held = False

    def __enter__(self) -> VDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


__all__ = [
    "HEF",
    "ConfiguredInferModel",
    "FormatType",
    "HailoRTException",
    "HailoSchedulingAlgorithm",
    "InferModel",
    "VDevice",
    "__version__",
]
