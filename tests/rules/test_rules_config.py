"""Validation of zones, lines, masks and rules: clear errors with the YAML line."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgecam.config import load_config, parse_config
from edgecam.errors import ConfigError
from tests.helpers import run_edgecam

EXAMPLE = Path(__file__).parents[2] / "examples" / "every-rule.yaml"

DESIGN = """\
cameras:
  porch:
    source: {type: file, path: clip.avi, loop: false, pace: realtime}
    fps: 10
    zones:
      walkway: {polygon: [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]}
    lines:
      gate: {points: [[0.5, 0.0], [0.5, 1.0]]}
rules:
  - {name: person_on_walkway, kind: presence, camera: porch, labels: [person], zone: walkway, min_score: 0.6, cooldown: 30s}
  - {name: loiterer, kind: dwell, camera: porch, labels: [person], zone: walkway, min_dwell: 2m}
  - {name: gate_count, kind: line, camera: porch, line: gate, labels: [person], direction: both}
  - {name: no_car, kind: absence, camera: porch, labels: [car], for: 10m, schedule: {days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00", timezone: Europe/Berlin}}
"""  # noqa: E501


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "cfg.yaml")
    return info.value.problems


def test_design_example_validates() -> None:
    config = parse_config(DESIGN, "cfg.yaml")
    kinds = [r.kind for r in config.rules]
    assert kinds == ["presence", "dwell", "line", "absence"]
    absence = config.rules[3]
    assert absence.kind == "absence" and absence.absent_for == 600.0
    assert absence.schedules[0].start == "08:00" and absence.schedules[0].end == "18:00"
    assert config.rules[1].kind == "dwell" and config.rules[1].min_dwell == 120.0


def test_every_rule_example_loads_and_passes_check_config() -> None:
    config = load_config(EXAMPLE)
    assert {r.kind for r in config.rules} == {"presence", "dwell", "line", "count", "absence"}
    result = run_edgecam(["check-config", str(EXAMPLE)])
    assert result.code == 0, result.err


def test_unknown_zone_and_line_named_with_their_line() -> None:
    text = DESIGN.replace("zone: walkway, min_dwell", "zone: walkwya, min_dwell")
    text = text.replace("line: gate,", "line: gat,")
    assert problems(text) == [
        "cfg.yaml:11: rules.1.zone: camera 'porch' has no zone 'walkwya' (its zones: walkway);"
        " define it under cameras.porch.zones or fix the name",
        "cfg.yaml:12: rules.2.line: camera 'porch' has no line 'gat' (its lines: gate);"
        " define it under cameras.porch.lines or fix the name",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("[[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]", "[[0.1, 0.5], [0.9, 1.0], "
         "[0.9, 0.5], [0.1, 1.0]]", "cfg.yaml:6: cameras.porch.zones.walkway.polygon: "
         "Value error, the polygon crosses itself"),
        ("[[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]", "[[0.1, 0.5], [0.9, 0.5], "
         "[0.1, 0.5]]", "cfg.yaml:6: cameras.porch.zones.walkway.polygon: Value error, a "
         "polygon needs at least 3 distinct points"),
        ("[[0.5, 0.0], [0.5, 1.0]]", "[[0.5, 0.0], [0.5, 0.0]]",
         "cfg.yaml:8: cameras.porch.lines.gate: Value error, a line needs two distinct points"),
        ("[[0.5, 0.0], [0.5, 1.0]]", "[[0.5, 0.0], [1.5, 1.0]]",
         "cfg.yaml:8: cameras.porch.lines.gate.points.1.0: Input should be less than or equal"),
        ('to: "18:00"', 'to: "18:75"', "cfg.yaml:13: rules.3.schedule.to: Value error, "
         'expected a time of day such as "08:00"'),
        ("Europe/Berlin", "Europe/Bonn", "cfg.yaml:13: rules.3.schedule.timezone: Value error, "
         "unknown time zone 'Europe/Bonn'"),
        ("min_dwell: 2m", "min_dwell: 2 weeks", "cfg.yaml:11: rules.1.min_dwell: Value error, "
         "expected a duration such as 30s, 2m or 1h"),
        ("days: [mon,", "days: [mo,", "cfg.yaml:13: rules.3.schedule.days.0: Input should be"),
        ("direction: both", "direction: sideways", "cfg.yaml:12: rules.2.direction: Input should"),
    ],
)  # fmt: skip
def test_bad_areas_and_rules(old: str, new: str, expected: str) -> None:
    assert old in DESIGN
    found = problems(DESIGN.replace(old, new))
    assert len(found) == 1 and found[0].startswith(expected), found


def test_count_rule_needs_exactly_one_target() -> None:
    text = DESIGN + "  - {name: c, kind: count, camera: porch, zone: walkway, line: gate}\n"
    assert problems(text)[0].startswith(
        "cfg.yaml:14: rules.4: Value error, a count rule needs exactly one of line or zone"
    )


def test_rule_for_every_camera_needs_the_zone_on_every_camera() -> None:
    text = (
        DESIGN.replace("rules:\n", "  garage: {source: {type: file, path: b.avi}}\nrules:\n")
        + "  - {name: anywhere, kind: presence, zone: walkway}\n"
    )
    assert problems(text) == [
        "cfg.yaml:15: rules.4.zone: camera 'garage' has no zone 'walkway' (its zones: none);"
        " define it under cameras.garage.zones or fix the name"
    ]


def test_missing_or_unknown_kind() -> None:
    text = DESIGN + "  - {name: x}\n  - {name: y, kind: lineup}\n"
    assert problems(text) == [
        "cfg.yaml:14: rules.4: kind must be one of presence, dwell, line, count, absence",
        "cfg.yaml:15: rules.5: kind must be one of presence, dwell, line, count, absence",
    ]
