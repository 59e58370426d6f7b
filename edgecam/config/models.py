"""The root of the configuration: one model per section (docs/architecture.md, Configuration)."""

from __future__ import annotations

import re
import socket
from typing import Literal

from pydantic import Field

from edgecam.camera.motion import MotionConfig
from edgecam.camera.sources import SourceConfig
from edgecam.classify.config import ClassifierConfig
from edgecam.clips.config import ClipsConfig
from edgecam.config.http import HttpConfig
from edgecam.detect.config import ModelConfig
from edgecam.detect.regions import RegionConfig
from edgecam.events.config import EventsConfig
from edgecam.notify.config import NotifyConfig
from edgecam.publish.config import MqttConfig
from edgecam.publish.snapshots import SnapshotStoreConfig
from edgecam.rules.areas import LineConfig, MaskConfig, ZoneConfig
from edgecam.rules.config import RuleConfig
from edgecam.rules.schedule import TimeZoneName
from edgecam.schema import Duration, Name, StrictModel
from edgecam.track.config import TrackerConfig

Loc = tuple[str | int, ...]

MAX_CAMERAS = 8
"""Most cameras in one config: what one Pi's detector can share, and what the unit's
``TasksMax=`` was measured for (docs/service.md)."""


def _default_device_name() -> str:
    name = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:64]
    return name or "edgecam"


class DeviceConfig(StrictModel):
    """This edgecam instance."""

    name: Name = Field(default_factory=_default_device_name)
    """Names the MQTT topics (``edgecam/<name>/...``); default: the host name."""
    timezone: TimeZoneName | None = None
    """IANA zone the web page shows times in (and days of the events page begin in);
    default: the system's own zone."""


class CameraConfig(StrictModel):
    """One camera: where frames come from and how often they are analysed."""

    source: SourceConfig
    """The frame source; its ``type`` picks the backend."""
    fps: float | None = Field(default=None, gt=0.0, le=120.0)
    """Maximum frames per second sent to the detector; default: as fast as frames come."""
    zones: dict[Name, ZoneConfig] = Field(default_factory=dict)
    """Named polygons that rules refer to (``zone:``)."""
    lines: dict[Name, LineConfig] = Field(default_factory=dict)
    """Named directed lines that line and count rules refer to (``line:``)."""
    masks: list[MaskConfig] = Field(default_factory=list)
    """Areas whose detections are ignored."""
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    """How detections are tied into tracks across frames."""
    motion: MotionConfig = Field(default_factory=MotionConfig)
    """Motion gate: run the detector only when something moved (and every ``max_interval``)."""
    regions: RegionConfig = Field(default_factory=RegionConfig)
    """Detect on squares around motion and tracks, so small, distant objects are seen."""
    stall_timeout: Duration = Field(default=10.0, gt=0.0)
    """A live camera or stream that sends no frame for this long is reopened."""
    max_backoff: Duration = Field(default=30.0, gt=0.0)
    """Longest wait between reopen attempts of a failed camera (waits double up to this)."""


class LogConfig(StrictModel):
    """Logging."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    """Lowest level written to the log (``--debug`` overrides it)."""


class HealthConfig(StrictModel):
    """When the service counts as healthy; drives ``/healthz`` and the systemd watchdog."""

    stale_after: Duration = Field(default=10.0, gt=0.0)
    """No frame analysed for this long means the pipeline is stuck (503, no watchdog pings)."""
    invoke_timeout: Duration = Field(default=10.0, gt=0.0)
    """An Edge TPU inference taking longer than this rebuilds the detector (CPU ones run inline)."""
    stop_timeout: Duration = Field(default=10.0, gt=0.0)
    """On SIGTERM, how long sinks may take to flush (the MQTT outbox) before we exit."""


class Config(StrictModel):
    """The whole edgecam configuration."""

    device: DeviceConfig = Field(default_factory=DeviceConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    cameras: dict[Name, CameraConfig] = Field(min_length=1, max_length=MAX_CAMERAS)
    """Cameras by name; the name appears in MQTT topics and events."""
    rules: list[RuleConfig] = Field(default_factory=list)
    """Rules that turn detections into events."""
    classify: list[ClassifierConfig] = Field(default_factory=list)
    """Classifiers that say what tracked objects are (``[{name: birds}]``: a bird's species)."""
    snapshots: SnapshotStoreConfig | None = None
    """Keep event snapshots on disk too (``{path, max_files, max_bytes}``); default: not kept."""
    events: EventsConfig = Field(default_factory=EventsConfig)
    """The events store behind ``/api/events``: events, snapshots and clips, bounded."""
    clips: ClipsConfig = Field(default_factory=ClipsConfig)
    """Each camera's RAM ring for clip pre-roll, and the encoding of cameras without H.264."""
    mqtt: MqttConfig | None = None
    """The MQTT broker to publish to; absent: no MQTT (events only with ``--events``)."""
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    """Notifications to a phone (ntfy, Telegram, e-mail, webhooks... through Apprise)."""
    http: HttpConfig = Field(default_factory=HttpConfig)
    """The web server: health, metrics, live views, the JSON API and the editor."""
    log: LogConfig = Field(default_factory=LogConfig)
    """Logging."""
    health: HealthConfig = Field(default_factory=HealthConfig)
    """Health checks, detector time limit and the shutdown deadline."""

    def reference_problems(self) -> list[tuple[Loc, str]]:
        """Problems that need more than one section to see, e.g. a rule naming an unknown camera."""
        problems: list[tuple[Loc, str]] = []
        names = set()
        for index, rule in enumerate(self.rules):
            if rule.name in names:
                problems.append((("rules", index, "name"), f"duplicate rule name {rule.name!r}"))
            names.add(rule.name)
            for n, target in enumerate(rule.notify):  # notify: the targets must exist
                if target not in self.notify.targets:
                    known = ", ".join(sorted(self.notify.targets)) or "none"
                    problems.append(
                        (("rules", index, "notify", n), f"unknown notify target {target!r}; "
                         f"known: {known} (define it under notify.targets)")
                    )  # fmt: skip
            if rule.clip is not None and not self.events.enabled:
                problems.append((("rules", index, "clip"), "clips need events.enabled: true"))
            if rule.camera is not None and rule.camera not in self.cameras:
                known = ", ".join(sorted(self.cameras))
                problems.append(
                    (("rules", index, "camera"), f"unknown camera {rule.camera!r}; known: {known}")
                )
            else:
                problems += self._area_problems(index, rule)
        return problems

    def _area_problems(self, index: int, rule: RuleConfig) -> list[tuple[Loc, str]]:
        """A rule's ``zone``/``line`` must exist on its camera (on every camera without one)."""
        problems: list[tuple[Loc, str]] = []
        cameras = [rule.camera] if rule.camera else list(self.cameras)
        wanted: list[tuple[Loc, str, str]] = [
            (("rules", index, key), key, name)
            for key in ("zone", "line")
            if (name := getattr(rule, key, None)) is not None
        ]
        if rule.path is not None:  # path zones too
            wanted += [
                (("rules", index, "path", "zones", n), "zone", name)
                for n, name in enumerate(rule.path.zones)
            ]
        for loc, key, name in wanted:
            lacking = [c for c in cameras if name not in getattr(self.cameras[c], f"{key}s")]
            for camera in lacking:
                known = ", ".join(sorted(getattr(self.cameras[camera], f"{key}s"))) or "none"
                problems.append(
                    (
                        loc,
                        f"camera {camera!r} has no {key} {name!r} (its {key}s: {known});"
                        f" define it under cameras.{camera}.{key}s or fix the name",
                    )
                )
        return problems
