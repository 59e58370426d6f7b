"""Configuration: pydantic models, YAML loading and error reporting."""

from edgecam.config.loader import load_config, parse_config
from edgecam.config.models import Config

__all__ = ["Config", "load_config", "parse_config"]
