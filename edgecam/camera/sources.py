"""The registry of frame-source backends, imported on first use.

Each backend module owns its config model (picked by ``type``) and its source class; the registry
names them as ``"module:Class"`` so that importing edgecam never imports OpenCV or picamera2.
"""

from __future__ import annotations

import importlib
from typing import Annotated

from pydantic import Field

from edgecam.camera.av import AvSourceConfig
from edgecam.camera.base import FrameSource
from edgecam.camera.file import FileSourceConfig
from edgecam.camera.image import ImageSourceConfig
from edgecam.camera.opencv import OpenCVSourceConfig
from edgecam.camera.picamera2 import Picamera2SourceConfig

AnySourceConfig = (
    FileSourceConfig
    | ImageSourceConfig
    | OpenCVSourceConfig
    | Picamera2SourceConfig
    | AvSourceConfig
)
"""The config of any backend."""

SourceConfig = Annotated[AnySourceConfig, Field(discriminator="type")]
"""Any frame-source config; ``type`` selects the backend."""

BACKENDS: dict[str, str] = {
    "file": "edgecam.camera.file:FileSource",
    "image": "edgecam.camera.image:ImageSource",
    "opencv": "edgecam.camera.opencv:OpenCVSource",
    "picamera2": "edgecam.camera.picamera2:Picamera2Source",
    "av": "edgecam.camera.av:AvSource",
}


def create_source(name: str, config: AnySourceConfig) -> FrameSource:
    """Build the source backend for ``config``, importing its module on first use."""
    module_name, class_name = BACKENDS[config.type].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    source: FrameSource = cls(name, config)
    return source
