"""The detector on a Hailo-8 or Hailo-8L, through HailoRT's Python API (``hailo_platform``).

``hailo_platform`` comes from Hailo's packages on Raspberry Pi OS (``sudo apt install hailo-all``),
never from PyPI; it is imported only when a Hailo is asked for. The model is a ``.hef`` whose
on-chip NMS gives per-class boxes (the SSD MobileNetV2 and YOLO builds of Hailo's model zoo, and
the HEFs of Raspberry Pi OS's ``hailo-models`` package): with FLOAT32 outputs, HailoRT returns, per
class, the rows ``[ymin, xmin, ymax, xmax, score]`` normalised to the input (HAILO_NMS_BY_CLASS).

The API used (HailoRT 4.18 and later, as ``picamera2.devices.Hailo`` uses it): ``VDevice`` with
the round-robin scheduler (so other models, in this process or another, can share the device),
``create_infer_model``, ``configure``, ``create_bindings`` and a synchronous ``run``.
:mod:`edgecam.detect.fake_hailo` is a stand-in honouring the same subset.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgecam import bundled
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import DetectorInfo
from edgecam.detect.labels import check_labels_fit, read_labels
from edgecam.detect.preprocess import InputFitter, fill_input, make_scratch, place
from edgecam.detect.selfcheck import PROBE_FLOOR, Probe
from edgecam.errors import DetectorError, DeviceNotFoundError, ModelError
from edgecam.types import Detection, Image

log = logging.getLogger(__name__)

RUN_TIMEOUT_MS = 10_000
"""HailoRT's own limit on one inference (the guard's ``invoke_timeout`` is usually shorter)."""
_INSTALL = (
    "install HailoRT on Raspberry Pi OS with `sudo apt install hailo-all` (then reboot), "
    "and create edgecam's venv with --system-site-packages (systemd/install.sh does)"
)

Rows = NDArray[np.float32]
COCO80_CLASSES = 80


def load_platform() -> ModuleType:
    """Import ``hailo_platform``; :class:`DeviceNotFoundError` naming the package if absent."""
    try:
        return importlib.import_module("hailo_platform")
    except ImportError as err:
        raise DeviceNotFoundError(
            f"HailoRT's Python API (hailo_platform) is missing: {_INSTALL}"
        ) from err


def per_class_rows(output: Any, classes: int) -> list[Rows]:
    """The NMS output as one ``[n, 5]`` array per class, from either form HailoRT hands out.

    pyhailort returns a list (per class) of ``[n, 5]`` arrays; the raw HAILO_NMS_BY_CLASS
    buffer is, per class, a float count followed by that many 5-float rows.
    """
    if isinstance(output, Sequence) and not isinstance(output, np.ndarray):
        if len(output) == 1 and classes != 1:  # a batch of one
            output = output[0]
        return [np.asarray(rows, np.float32).reshape(-1, 5) for rows in output]
    flat = np.asarray(output, np.float32).reshape(-1)
    out: list[Rows] = []
    pos = 0
    for _ in range(classes):
        count = int(flat[pos]) if pos < flat.size else 0
        out.append(flat[pos + 1 : pos + 1 + 5 * count].reshape(count, 5))
        pos += 1 + 5 * count
    return out


def hef_labels_path(config: ModelConfig, classes: int) -> Path:
    """``model.hef_labels``; else COCO's 80 names for an 80-class HEF (the YOLO builds)."""
    if config.hef_labels is not None:
        return config.hef_labels
    if classes == COCO80_CLASSES and config.labels is None:
        return bundled.model_file(bundled.COCO80_LABELS)
    return config.labels_path


def decode_nms(
    rows: Sequence[Rows],
    *,
    labels: Mapping[int, str],
    threshold: float,
    min_scores: Mapping[str, float],
    placement: Any,
) -> list[Detection]:
    """Detections from per-class NMS rows; class ids are the list positions (pure)."""
    floor = min([threshold, *min_scores.values()])
    out: list[Detection] = []
    for class_id, boxes in enumerate(rows):
        if not len(boxes):
            continue
        for ymin, xmin, ymax, xmax, score in boxes[boxes[:, 4] >= floor].tolist():
            label = labels.get(class_id, f"class{class_id}")
            if score < min_scores.get(label, threshold):
                continue
            out.append(
                Detection(label, class_id, score, placement.to_frame((xmin, ymin, xmax, ymax)))
            )
    return out


class HailoDetector:
    """One HEF on one Hailo device; all cameras share it (one caller thread, as Detector)."""

    def __init__(self, config: ModelConfig, platform: ModuleType | None = None) -> None:
        hef_path = config.hef_file()
        if hef_path is None:
            raise ModelError("no HEF for the Hailo: set model.hef (see docs/accelerators.md)")
        self._config = config
        self._platform = platform or load_platform()
        self._device, self._model, self._configured = _open(self._platform, hef_path)
        self._closed = False
        try:
            self._setup(hef_path)
        except BaseException:
            self.close()
            raise
        version = str(getattr(self._platform, "__version__", "unknown"))
        self.info = DetectorInfo(
            runtime="hailort", runtime_version=version, device="hailo", threads=0,
            model=str(hef_path), input_size=(self.width, self.height),
        )  # fmt: skip
        self.last_invoke_ms = 0.0
        log.info(
            "detector: HailoRT %s on hailo, model %s (%dx%d, %d classes)",
            version, hef_path.name, self.width, self.height, self.classes,
        )  # fmt: skip

    def _setup(self, hef_path: Path) -> None:
        model = self._model
        shape = tuple(int(v) for v in model.input().shape)
        if len(shape) != 3 or shape[2] != 3:
            raise ModelError(f"HEF {hef_path} input shape {list(shape)} is not [height, width, 3]")
        self.height, self.width = shape[0], shape[1]
        self.classes = _nms_classes(self._platform, hef_path, model)
        labels_path = hef_labels_path(self._config, self.classes)
        self.labels = read_labels(labels_path)
        check_labels_fit(self.labels, self.classes, str(labels_path))
        self._input = np.zeros((self.height, self.width, 3), np.uint8)
        self._outputs = {
            name: np.empty(model.output(name).shape, np.float32) for name in model.output_names
        }
        self._bindings = self._configured.create_bindings(output_buffers=self._outputs)
        self._placement_key = (0, 0)
        self._placement = place(1, 1, self.width, self.height, "stretch")
        self._scratch = make_scratch(self._placement)

    def fitter(self) -> InputFitter:
        """A new fitter that prepares frames for the HEF's input on another thread."""
        return InputFitter(self.width, self.height, self._config.resize)

    def detect(self, image: Image, fitted: Image | None = None) -> list[Detection]:
        """Detections in a BGR frame, boxes normalised to it (``fitted``: see Detector.detect)."""
        rows = self._run(image, fitted)
        return decode_nms(
            rows, labels=self.labels, threshold=self._config.threshold,
            min_scores=self._config.min_scores, placement=self._placement,
        )  # fmt: skip

    def probe(self, image: Image) -> Probe:
        """Every NMS row for ``image``, for the known-answer check."""
        rows = self._run(image, None)
        found = decode_nms(
            rows, labels=self.labels, threshold=PROBE_FLOOR, min_scores={},
            placement=self._placement,
        )  # fmt: skip
        every = np.concatenate([*rows, np.zeros((0, 5), np.float32)])
        return Probe(found, every[:, 4].copy(), every[:, :4].copy())

    def _run(self, image: Image, fitted: Image | None) -> list[Rows]:
        h, w = image.shape[:2]
        if (w, h) != self._placement_key:
            self._placement = place(w, h, self.width, self.height, self._config.resize)
            self._scratch = make_scratch(self._placement)
            self._placement_key = (w, h)
        if fitted is not None and fitted.shape == self._input.shape:
            np.copyto(self._input, fitted)
        else:
            fill_input(image, self._input, self._placement, self._scratch)
        self._bindings.input().set_buffer(self._input)
        start = time.perf_counter()
        try:
            self._configured.run([self._bindings], RUN_TIMEOUT_MS)
        except Exception as err:
            raise DetectorError(f"Hailo inference failed: {type(err).__name__}: {err}") from err
        self.last_invoke_ms = (time.perf_counter() - start) * 1000.0
        return per_class_rows(self._bindings.output().get_buffer(), self.classes)

    def close(self) -> None:
        """Release the configured model and the device."""
        if self._closed:
            return
        self._closed = True
        try:
            shutdown = getattr(self._configured, "shutdown", None)
            if shutdown is not None:
                shutdown()
        finally:
            self._device.release()


def _open(platform: ModuleType, hef_path: Path) -> tuple[Any, Any, Any]:
    """The VDevice, the infer model and its configured form for ``hef_path``."""
    if not hef_path.is_file():
        raise ModelError(f"HEF file {hef_path} not found; check model.hef")
    params = platform.VDevice.create_params()
    # The scheduler lets other models (this process or others) take turns on the device.
    params.scheduling_algorithm = platform.HailoSchedulingAlgorithm.ROUND_ROBIN
    try:
        device = platform.VDevice(params)
    except Exception as err:
        raise DeviceNotFoundError(
            f"cannot open a Hailo device: {err}; check that /dev/hailo0 exists (`hailortcli "
            "scan`), that the user is in the hailo group, or set model.device: cpu"
        ) from err
    try:
        model = device.create_infer_model(str(hef_path))
        model.set_batch_size(1)
        model.input().set_format_type(platform.FormatType.UINT8)
        for output in model.outputs:
            output.set_format_type(platform.FormatType.FLOAT32)
        configured = model.configure()
    except Exception as err:
        device.release()
        raise ModelError(
            f"HEF {hef_path} cannot be loaded on this Hailo: {err}; use a HEF compiled for "
            "this chip (Hailo-8L HEFs run on a Hailo-8, not the other way round)"
        ) from err
    return device, model, configured


def _nms_classes(platform: ModuleType, hef_path: Path, model: Any) -> int:
    """Classes of the HEF's single NMS output; ModelError if it has no on-chip NMS."""
    infos = platform.HEF(str(hef_path)).get_output_vstream_infos()
    nms = [shape for info in infos if (shape := _nms_shape(info)) is not None]
    if len(model.output_names) != 1 or len(nms) != 1:
        names = ", ".join(info.name for info in infos)
        raise ModelError(
            f"HEF {hef_path} does not end in one on-chip NMS output (its outputs: {names}); "
            "edgecam runs detection HEFs with HailoRT postprocess, like the model zoo's "
            "SSD MobileNetV2 and YOLO builds"
        )
    return int(nms[0].number_of_classes)


def _nms_shape(info: Any) -> Any:
    # pyhailort raises, rather than returning None, for an output without NMS.
    try:
        return info.nms_shape
    except Exception:
        return None
