"""Building blocks shared by every config section: the strict base model and value types."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

_DURATION = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def parse_duration(value: object) -> float:
    """Turn ``30s``, ``2m``, ``1h``, ``500ms`` or a bare number of seconds into seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 2m or 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        # The caller's error report shows the value given.
        raise ValueError("expected a duration such as 30s, 2m or 1h")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    Field(json_schema_extra={"examples": ["30s", "2m", "1h"]}),
]
"""Seconds, written in YAML as ``30s``, ``2m``, ``1h``, ``500ms`` or a plain number."""

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
"""A name that is safe inside an MQTT topic: letters, digits, ``_`` and ``-``."""

Point = tuple[
    Annotated[float, Field(ge=0.0, le=1.0)],
    Annotated[float, Field(ge=0.0, le=1.0)],
]
"""``[x, y]`` normalised to the frame."""


def resolve_path(value: Path, info: ValidationInfo) -> Path:
    """Resolve a relative path against the directory of the config file (validation context)."""
    value = value.expanduser()
    base = info.context.get("base_dir") if isinstance(info.context, dict) else None
    if base is not None and not value.is_absolute():
        return Path(base) / value
    return value


ConfigPath = Annotated[Path, AfterValidator(resolve_path)]
"""A file path; relative paths are taken from the config file's directory."""
