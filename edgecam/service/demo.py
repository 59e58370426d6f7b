"""The built-in demo: the bundled pedestrian clip, the bundled model, a person rule and a line."""

from __future__ import annotations

from edgecam import bundled
from edgecam.config.models import Config
from edgecam.service.recording import state_directory


def demo_config() -> Config:
    """The config ``edgecam run`` uses when it is given none."""
    return Config.model_validate(
        {
            "device": {"name": "demo"},
            # A store of the demo's own: its page never shows another run's events.
            "events": {"path": str(state_directory() / "demo" / "events")},
            "cameras": {
                "demo": {
                    # Looped, so the page (its URL is printed) has something to show.
                    # Event times follow the run ("opened"), not the bundled file's mtime.
                    "source": {
                        "type": "file",
                        "path": str(bundled.demo_clip()),
                        "loop": True,
                        "start": "opened",
                    },
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
