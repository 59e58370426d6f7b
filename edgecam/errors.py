"""The exception tree of edgecam.

Every error a user can cause or meet derives from :class:`EdgecamError` and carries the process exit
code the CLI uses for it (docs/architecture.md, CLI: 2 for bad config or usage, 1 for a runtime
failure). Messages name the problem and the fix in one line, so the CLI prints them without a
traceback.

    EdgecamError
    ├── ConfigError          bad config file or usage (exit 2)
    ├── ModelError           missing, corrupt or unsuitable model or label file (exit 1)
    ├── DetectorError        runtime or accelerator problems (exit 1)
    │   └── DeviceNotFoundError   an Edge TPU named in the config is absent
    ├── CameraError          a source that cannot be opened or read (exit 1)
    └── PublishError         the MQTT side or the outbox (exit 1)
"""

from __future__ import annotations


class EdgecamError(Exception):
    """Base of all edgecam errors; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(EdgecamError):
    """The configuration (or the command line) is invalid; holds every problem found."""

    exit_code = 2

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ModelError(EdgecamError):
    """A model or label file is missing, corrupt or does not fit the detector contract."""


class DetectorError(EdgecamError):
    """The inference runtime or accelerator failed."""


class DeviceNotFoundError(DetectorError):
    """An Edge TPU device named in the configuration is not present or not usable."""


class CameraError(EdgecamError):
    """A frame source could not be opened or read."""


class PublishError(EdgecamError):
    """Publishing (MQTT broker, outbox) failed."""
