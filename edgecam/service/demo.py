"""The built-in demo: the bundled pedestrian clip, the bundled model and a person rule."""

from __future__ import annotations

from edgecam import bundled
from edgecam.config.models import Config


def demo_config() -> Config:
    """The config ``edgecam run`` uses when it is given none."""
    return Config.model_validate(
        {
            "device": {"name": "demo"},
            "cameras": {
                "demo": {"source": {"type": "file", "path": str(bundled.demo_clip())}},
            },
            "rules": [
                {"name": "person", "kind": "presence", "labels": ["person"], "min_score": 0.5},
            ],
        }
    )
