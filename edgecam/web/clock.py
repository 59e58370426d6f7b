"""The device's time zone, as the pages show times in it (``device.timezone`` or the system's)."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, tzinfo
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edgecam.config.models import Config


def system_zone_name(env: dict[str, str] | None = None, root: Path = Path("/")) -> str:
    """The IANA name of the system's zone: ``$TZ``, /etc/timezone, /etc/localtime's link, UTC."""
    env = dict(os.environ) if env is None else env
    candidates = [env.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append((root / "etc/timezone").read_text(encoding="utf-8").strip())
    link = root / "etc/localtime"
    if link.is_symlink():
        target = str(link.readlink())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    for name in candidates:
        if name and _known(name):
            return name
    return "UTC"


def _known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def device_zone(config: Config) -> tuple[str, tzinfo]:
    """The zone's IANA name (for the browser) and the zone itself (for day boundaries)."""
    name = config.device.timezone or _system_zone()
    return name, (UTC if name == "UTC" else ZoneInfo(name))


@cache
def _system_zone() -> str:
    return system_zone_name()
