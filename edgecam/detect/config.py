"""The ``model`` config section: a built-in model by name or any model file by path."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from edgecam import bundled
from edgecam.errors import ConfigError
from edgecam.schema import ConfigPath, StrictModel

_DEVICE = re.compile(r"^(auto|cpu|hailo|usb|pci)(:\d+)?$")
HEF_SUFFIX = ".hef"


def unknown_builtin_message(name: str) -> str:
    """One line naming the built-ins (and the closest one) for a name that is none of them."""
    names = list(bundled.BUILTINS)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"unknown built-in model {name!r}{hint}; built-ins: {', '.join(names)} "
        "(`edgecam models` lists them), or give model.path"
    )


class ModelConfig(StrictModel):
    """The detection model and where it runs."""

    name: str | None = None
    """Built-in (``edgecam models``): ``coco`` (default), ``coco-uint8``, ``ssdlite-person``."""
    path: ConfigPath | None = None
    """Your own TFLite SSD model (uint8/int8, TFLite_Detection_PostProcess), used as given."""
    labels: ConfigPath | None = None
    """Label file: ``id  label`` per line (Coral) or one label per line; default: the model's."""
    hef: ConfigPath | None = None
    """The model compiled for a Hailo-8/8L (``.hef``), run when one is in use."""
    hef_labels: ConfigPath | None = None
    """Label file of the HEF; default: COCO's 80 names for an 80-class HEF, else ``labels``."""
    device: str = "auto"
    """``auto`` (Hailo, else Edge TPU, else CPU), ``cpu``, ``hailo``, ``usb[:N]``, ``pci[:N]``."""
    threads: int = Field(default=2, ge=1, le=64)
    """CPU threads for inference (XNNPACK)."""
    threshold: float = Field(default=0.5, gt=0.0, le=1.0)
    """Global minimum score for a detection to be reported."""
    min_scores: dict[str, Annotated[float, Field(gt=0.0, le=1.0)]] = Field(default_factory=dict)
    """Per-label minimum score overriding ``threshold``, e.g. ``{person: 0.6}``."""
    resize: Literal["stretch", "letterbox"] = "stretch"
    """How frames are fitted to the model input; boxes are mapped back either way."""

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        if not _DEVICE.match(value) or value.startswith(("auto:", "cpu:", "hailo:")):
            raise ValueError("expected auto, cpu, hailo, usb, usb:N, pci or pci:N")
        return value

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and value not in bundled.BUILTINS:
            # A custom error type: its message reaches the user without "Value error, ".
            raise PydanticCustomError("unknown_model", unknown_builtin_message(value))
        return value

    @model_validator(mode="after")
    def _name_or_path(self) -> ModelConfig:
        if self.name is not None and self.path is not None:
            raise PydanticCustomError(
                "name_and_path",
                "give model.name (a built-in) or model.path (your own file), not both",
            )
        _check_hailo_files(self)
        return self

    @property
    def builtin(self) -> bundled.BuiltinModel | None:
        """The built-in model in use, or ``None`` when ``path`` names the user's own file."""
        if self.path is not None:
            return None
        return bundled.BUILTINS[self.name or bundled.DEFAULT_MODEL]

    @property
    def labels_path(self) -> Path:
        """The label file in use: ``labels``, else the built-in's (COCO's for a bare ``path``)."""
        if self.labels is not None:
            return self.labels
        builtin = self.builtin
        return bundled.model_file(builtin.labels_file if builtin else bundled.LABELS)

    def hef_file(self) -> Path | None:
        """The HEF for a Hailo: ``hef``, else an installed one of the built-in's, else None."""
        if self.hef is not None:
            return self.hef
        builtin = self.builtin
        found = [path for path in (builtin.hailo_files if builtin else ()) if path.is_file()]
        return found[0] if found else None

    def model_file(self, edgetpu: bool = False) -> Path:
        """The model file to load: ``path`` as given, or the built-in's build for the device."""
        if self.path is not None:
            return self.path
        builtin = self.builtin
        assert builtin is not None
        if edgetpu and builtin.edgetpu_file is not None:
            return bundled.model_file(builtin.edgetpu_file)
        return bundled.model_file(builtin.cpu_file)


def _check_hailo_files(config: ModelConfig) -> None:
    """A .hef runs only on a Hailo, a .tflite never does: say which key takes which."""
    if config.path is not None and config.path.suffix.lower() == HEF_SUFFIX:
        raise PydanticCustomError(
            "hef_on_cpu",
            f"model.path {config.path} is a Hailo HEF, which runs only on a Hailo-8/8L: give it "
            "as model.hef (with model.device: hailo or auto) and keep a .tflite in model.path "
            "or model.name for the CPU",
        )
    if config.hef is not None and config.hef.suffix.lower() != HEF_SUFFIX:
        raise PydanticCustomError(
            "tflite_on_hailo",
            f"model.hef {config.hef} is not a .hef file: a Hailo runs only models compiled "
            "for it (Hailo's model zoo, or the Dataflow Compiler); .tflite models go in "
            "model.path",
        )
    if config.device == "hailo" and config.hef is None and config.path is not None:
        raise PydanticCustomError(
            "hailo_without_hef",
            "model.device: hailo needs model.hef, your model compiled for the Hailo (a .tflite "
            "does not run there); see docs/accelerators.md",
        )


def model_from_args(
    model: str | None, labels: Path | None, fields: dict[str, object]
) -> ModelConfig:
    """The model section for a command's ``--model NAME_OR_PATH``: a built-in, else a file."""
    fields = dict(fields)
    if model is not None:
        if model in bundled.BUILTINS:
            fields["name"] = model
        elif model.endswith(".tflite") or "/" in model or Path(model).exists():
            fields["path"] = Path(model).resolve()
        else:
            raise ConfigError(f"--model: {unknown_builtin_message(model)}")
    if labels is not None:
        fields["labels"] = labels.resolve()
    try:
        return ModelConfig.model_validate(fields)
    except ValidationError as err:
        raise ConfigError(
            [f"--{'.'.join(map(str, e['loc'])) or 'model'}: {e['msg']}" for e in err.errors()]
        ) from err
