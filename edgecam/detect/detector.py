"""The detector: a TFLite SSD model on the Edge TPU or the CPU, frame in, detections out."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecam.detect import model as tflite_model
from edgecam.detect.config import ModelConfig
from edgecam.detect.decode import decode
from edgecam.detect.labels import check_labels_fit, read_labels
from edgecam.detect.preprocess import InputFitter, fill_input, make_scratch, place
from edgecam.detect.runtime import Runtime, find_runtime, load_edgetpu
from edgecam.detect.selfcheck import PROBE_FLOOR, Probe
from edgecam.errors import DeviceNotFoundError, ModelError
from edgecam.types import Detection, Image

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DetectorInfo:
    """What runs the model: reported in stats, ``bench`` and logs."""

    runtime: str
    runtime_version: str
    device: str
    """``cpu`` or the Edge TPU device (``usb``, ``usb:0``, ``pci:0``, ``auto`` for the first)."""
    threads: int
    model: str
    input_size: tuple[int, int]
    xnnpack: bool = True
    """False when the CPU kernels run without XNNPACK (a fallback after a failed check)."""
    check: str = "not run"
    """The known-answer check's result (:mod:`edgecam.detect.selfcheck`), one line."""

    @property
    def where(self) -> str:
        """The device in words: ``cpu``, ``cpu without XNNPACK``, ``hailo``, ``usb:0``."""
        return "cpu without XNNPACK" if self.device == "cpu" and not self.xnnpack else self.device


class Detector:
    """Runs one model; ``detect`` is the per-frame call (not thread-safe: one caller thread)."""

    def __init__(
        self,
        interpreter: Any,
        config: ModelConfig,
        labels: dict[int, str],
        info: DetectorInfo,
        model_path: Path,
    ) -> None:
        self._interpreter = interpreter
        self._config = config
        self.labels = labels
        self.info = info
        self.input = tflite_model.read_input(interpreter, model_path)
        self._input_tensor = interpreter.tensor(self.input.index)
        self._signed = self.input.dtype == np.int8
        self._warm_up()
        self.outputs = tflite_model.read_outputs(interpreter, model_path)
        check_labels_fit(labels, tflite_model.count_classes(interpreter), str(config.labels_path))
        self._placement_key: tuple[int, int] = (0, 0)
        self._placement = place(1, 1, self.input.width, self.input.height, "stretch")
        self._scratch = make_scratch(self._placement)
        self.last_invoke_ms = 0.0

    @classmethod
    def from_config(
        cls,
        config: ModelConfig,
        runtime: Runtime | None = None,
        *,
        device: str | None = None,
        xnnpack: bool = True,
    ) -> Detector:
        """Build the detector the config asks for; raise ModelError or DetectorError if it can't.

        ``device`` (``cpu``, ``auto`` for any Edge TPU, ``usb:0``, ...) overrides
        ``config.device`` and never falls back: :func:`edgecam.detect.choose.open_detector`
        walks the devices. ``xnnpack=False`` runs the CPU kernels without XNNPACK.
        """
        data = tflite_model.check_model_file(config.model_file())
        labels = read_labels(config.labels_path)
        runtime = runtime or find_runtime()
        delegate, device, path = _choose_device(runtime, config, data, device)
        if not xnnpack and runtime.without_xnnpack is None:
            raise DeviceNotFoundError(f"{runtime.name} cannot run without XNNPACK")
        interpreter = _make_interpreter(runtime, path, config.threads, delegate, xnnpack)
        info = DetectorInfo(
            runtime=runtime.name,
            runtime_version=runtime.version,
            device=device,
            threads=config.threads,
            model=str(path),
            input_size=(0, 0),
            xnnpack=xnnpack,
        )
        detector = cls(interpreter, config, labels, info, path)
        detector.info = DetectorInfo(
            **{**_asdict(info), "input_size": (detector.input.width, detector.input.height)}
        )
        log.info(
            "detector: %s %s on %s, %d thread(s), model %s (%dx%d)",
            info.runtime, info.runtime_version, info.where, config.threads, path.name,
            detector.input.width, detector.input.height,
        )  # fmt: skip
        return detector

    def fitter(self) -> InputFitter:
        """A new fitter that prepares frames for this model's input on another thread."""
        return InputFitter(self.input.width, self.input.height, self._config.resize)

    def detect(self, image: Image, fitted: Image | None = None) -> list[Detection]:
        """Detections in a BGR frame of any size, boxes normalised to that frame.

        ``fitted`` is ``image`` already fitted to the input (see :meth:`fitter`); it is used
        when its shape is right, else the frame is resized here.
        """
        self.set_input(image, fitted)
        start = time.perf_counter()
        self._interpreter.invoke()
        self.last_invoke_ms = (time.perf_counter() - start) * 1000.0
        return self.read_detections()

    def set_input(self, image: Image, fitted: Image | None = None) -> None:
        """Resize the BGR ``image`` into the model's RGB input tensor, swapping channels."""
        h, w = image.shape[:2]
        if (w, h) != self._placement_key:
            self._prepare(w, h)
        target = self._input_tensor()[0]
        if self._signed:
            target = target.view(np.uint8)
        # int8 models take the uint8 pixel minus 128: flipping the top bit does that.
        if fitted is not None and fitted.shape == target.shape:
            if self._signed:
                np.bitwise_xor(fitted, 0x80, out=target)  # copy and flip in one pass
            else:
                np.copyto(target, fitted)
        else:
            fill_input(image, target, self._placement, self._scratch)
            if self._signed:
                np.bitwise_xor(target, 0x80, out=target)
        del target  # no reference to the tensor may outlive this call (invoke would refuse)

    def invoke(self) -> None:
        """Run the model on the current input (for benchmarks of the bare loop)."""
        self._interpreter.invoke()

    @property
    def interpreter(self) -> Any:
        """The TFLite interpreter itself, for the bare ``invoke()`` loop of ``edgecam bench``."""
        return self._interpreter

    def read_detections(self) -> list[Detection]:
        """Decode the outputs of the last invoke."""
        get = self._interpreter.get_tensor
        out = self.outputs
        return decode(
            get(out.boxes)[0],
            get(out.classes)[0],
            get(out.scores)[0],
            int(get(out.count).flat[0]),
            labels=self.labels,
            threshold=self._config.threshold,
            min_scores=self._config.min_scores,
            placement=self._placement,
        )

    def probe(self, image: Image) -> Probe:
        """Every output for ``image``, for the known-answer check (not the per-frame path)."""
        self.set_input(image)
        self._interpreter.invoke()
        get = self._interpreter.get_tensor
        out = self.outputs
        count = int(get(out.count).flat[0])
        boxes, scores = get(out.boxes)[0][:count].copy(), get(out.scores)[0][:count].copy()
        found = decode(
            boxes, get(out.classes)[0], scores, count, labels=self.labels,
            threshold=PROBE_FLOOR, min_scores={}, placement=self._placement,
        )  # fmt: skip
        return Probe(found, scores, boxes, tflite_model.read_anchors(self._interpreter))

    def close(self) -> None:
        """Release the interpreter (and with it the Edge TPU)."""
        self._interpreter = None

    def _prepare(self, w: int, h: int) -> None:
        mode = self._config.resize
        self._placement = place(w, h, self.input.width, self.input.height, mode)
        self._scratch = make_scratch(self._placement)
        self._placement_key = (w, h)

    def _warm_up(self) -> None:
        target = self._input_tensor()[0]
        target.fill(0)
        del target
        try:
            self._interpreter.invoke()
        except RuntimeError as err:
            raise ModelError(f"model cannot run: {err}") from err


def _asdict(info: DetectorInfo) -> dict[str, Any]:
    return {name: getattr(info, name) for name in DetectorInfo.__slots__}


def _choose_device(
    runtime: Runtime, config: ModelConfig, data: bytes, target: str | None
) -> tuple[Any, str, Path]:
    """The delegate (or None for the CPU), the device name and the model file to use."""
    delegate = None
    device = target or config.device
    if device != "cpu":
        try:
            delegate = load_edgetpu(runtime, device)
        except DeviceNotFoundError as err:
            if device != "auto" or target is not None:
                raise
            log.warning("no Edge TPU available, running on the CPU (%s)", err)
    path = config.model_file(edgetpu=delegate is not None)
    if path != config.model_file():  # a built-in's Edge TPU build
        data = tflite_model.check_model_file(path)
    compiled = tflite_model.is_edgetpu_model(data)
    if delegate is None:
        if compiled:
            raise ModelError(
                f"model {path} is compiled for the Edge TPU and cannot run on the CPU; "
                "use the CPU build (the same name without _edgetpu) or install libedgetpu "
                "and attach a Coral"
            )
        return None, "cpu", path
    if not compiled:
        sibling = path.with_name(f"{path.stem}_edgetpu{path.suffix}")
        if config.builtin is None and sibling.is_file():
            log.info("using the Edge TPU build of the model: %s", sibling.name)
            path = sibling
        else:
            log.warning(
                "model %s is not compiled for the Edge TPU; most of it runs on the CPU", path
            )
    return delegate, device, path


def _make_interpreter(
    runtime: Runtime, path: Path, threads: int, delegate: Any, xnnpack: bool = True
) -> Any:
    """Create and allocate the interpreter, turning runtime failures into clear ModelErrors."""
    delegates = [delegate] if delegate is not None else None
    plain = {} if xnnpack else {"experimental_op_resolver_type": runtime.without_xnnpack}
    try:
        interpreter = runtime.interpreter_class(
            model_path=str(path), num_threads=threads, experimental_delegates=delegates, **plain
        )
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if "edgetpu-custom-op" in str(err):
            reason = "it needs the Edge TPU (edgetpu-custom-op)"
        raise ModelError(
            f"model file {path} cannot be loaded: {reason}; check that it is a complete "
            "TFLite SSD model (download it again if truncated)"
        ) from err
    return interpreter
