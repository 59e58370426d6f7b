"""Find a TFLite runtime and load the Edge TPU delegate (docs/architecture.md, Stages)."""

from __future__ import annotations

import ctypes
import importlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgecam.errors import DetectorError, DeviceNotFoundError, ModelError

log = logging.getLogger(__name__)

EDGETPU_LIBRARY = "libedgetpu.so.1"

# First found wins: ai_edge_litert has XNNPACK kernels for quantized models; tflite_runtime 2.14
# (older Pi OS images) runs them about 10x slower; full TensorFlow is the last resort.
RUNTIMES = (
    ("ai_edge_litert", "ai_edge_litert.interpreter"),
    ("tflite_runtime", "tflite_runtime.interpreter"),
    ("tensorflow", "tensorflow.lite"),
)

_INSTALL_HINT = "install one: pip install ai-edge-litert (32-bit Pi OS: edgecam[tflite-runtime])"


@dataclass(frozen=True, slots=True)
class Runtime:
    """An importable TFLite runtime: its name, version and the two entry points edgecam uses."""

    name: str
    version: str
    interpreter_class: Any
    load_delegate: Any
    without_xnnpack: Any = None
    """The ``experimental_op_resolver_type`` that leaves XNNPACK out, if the runtime has one."""


def find_runtime(preferred: tuple[tuple[str, str], ...] = RUNTIMES) -> Runtime:
    """The first importable runtime of ``preferred``; :class:`DetectorError` if there is none."""
    for package, module_name in preferred:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        top = importlib.import_module(package)
        version = str(getattr(top, "__version__", "unknown"))
        resolver = getattr(module, "OpResolverType", None)
        plain = getattr(resolver, "BUILTIN_WITHOUT_DEFAULT_DELEGATES", None)
        if package == "tensorflow":
            load = module.experimental.load_delegate
            return Runtime(package, version, module.Interpreter, load, plain)
        return Runtime(package, version, module.Interpreter, module.load_delegate, plain)
    raise DetectorError(f"no TFLite runtime found; {_INSTALL_HINT}")


_DEVICE = re.compile(r"^(usb|pci)(?::(\d+))?$")


def delegate_options(device: str) -> dict[str, str]:
    """libedgetpu options for ``usb``, ``usb:N``, ``pci``, ``pci:N``; ``auto`` means any device."""
    if device == "auto":
        return {}
    if not _DEVICE.match(device):
        raise DetectorError(f"{device!r} is not an Edge TPU device; use usb, usb:N, pci or pci:N")
    return {"device": device}


def load_edgetpu(runtime: Runtime, device: str) -> Any:
    """Load the Edge TPU delegate for ``device``; :class:`DeviceNotFoundError` if unavailable."""
    options = delegate_options(device)
    try:
        # Probe the library first: a failed load_delegate leaves a half-built object whose
        # destructor raises, and its message does not say what to install.
        ctypes.CDLL(EDGETPU_LIBRARY)
    except OSError as err:
        raise DeviceNotFoundError(
            f"Edge TPU library {EDGETPU_LIBRARY} not found; install libedgetpu1-std from "
            "Coral's apt repository (see README, 'Using a Coral'), or set model.device: cpu"
        ) from err
    try:
        return runtime.load_delegate(EDGETPU_LIBRARY, options)
    except (ValueError, RuntimeError, OSError) as err:
        where = "any Edge TPU" if device == "auto" else f"Edge TPU {device!r}"
        raise DeviceNotFoundError(
            f"cannot open {where}: {err}; check that it is plugged in, that the udev rules are "
            "installed and that the user is in the plugdev group, or set model.device: cpu"
        ) from err


def plain_interpreter(path: Path, data: bytes | None = None, hint: str = "") -> Any:
    """``path`` (or its bytes ``data``) on the plain CPU kernels, one thread, tensors allocated.

    No XNNPACK weight packing: it loads fast and its operators keep their names, for checks and
    inspection rather than speed. A model that cannot be loaded is a ModelError (``hint`` is
    added to its reason).
    """
    runtime = find_runtime()
    options: dict[str, Any] = {"num_threads": 1}
    if runtime.without_xnnpack is not None:
        options["experimental_op_resolver_type"] = runtime.without_xnnpack
    if data is not None:
        options["model_content"] = data
    else:
        options["model_path"] = str(path)
    try:
        interpreter = runtime.interpreter_class(**options)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelError(f"model file {path} cannot be loaded: {reason}{hint}") from err
    return interpreter
