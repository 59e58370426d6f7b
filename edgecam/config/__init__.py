"""Configuration: pydantic models, YAML loading and error reporting.

``load_config``, ``parse_config`` and ``Config`` are re-exported lazily: backend modules import
``edgecam.schema`` while the root model imports them, so this package imports nothing eagerly.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Config", "load_config", "parse_config"]


def __getattr__(name: str) -> Any:
    if name == "Config":
        from edgecam.config.models import Config

        return Config
    if name in ("load_config", "parse_config"):
        from edgecam.config import loader

        return getattr(loader, name)
    raise AttributeError(name)
