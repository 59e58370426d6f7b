"""The built-in demo: the bundled pedestrian clip, the bundled model, a person rule and a line."""

from __future__ import annotations

from edgecam import bundled
from edgecam.config.models import Config


def demo_config() -> Config:
    """The config ``edgecam run`` uses when it is given none."""
    return Config.model_validate(
        {
            "device": {"name": "demo"},
            "cameras": {
                "demo": {
                    # Looped, so the page (its URL is printed) has something to show.
                    "source": {"type": "file", "path": str(bundled.demo_clip()), "loop": True},
                    # A line across the plaza where people walk left and right.
                    "lines": {"crossing": {"points": [[0.45, 0.25], [0.45, 0.65]]}},
                },
            },
            "rules": [
                {"name": "person", "kind": "presence", "labels": ["person"], "min_score": 0.5},
                {"name": "crossing", "kind": "line", "line": "crossing", "labels": ["person"]},
            ],
        }
    )
