"""Config validation: every problem named with key path and YAML line; exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgecam.config import parse_config
from edgecam.errors import ConfigError
from edgecam.schema import parse_duration
from tests.helpers import DATA, run_edgecam

GOOD = """\
device: {name: porch-pi}
model:
  threshold: 0.6
  min_scores: {person: 0.7}
cameras:
  porch:
    source: {type: file, path: clip.avi, loop: true, pace: realtime}
    fps: 5
rules:
  - {name: person_seen, kind: presence, camera: porch, labels: [person], cooldown: 30s}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "cfg.yaml", base_dir=Path("/etc/edgecam"))
    return info.value.problems


def test_good_config_and_relative_paths() -> None:
    config = parse_config(GOOD, "cfg.yaml", base_dir=Path("/etc/edgecam"))
    source = config.cameras["porch"].source
    assert source.type == "file"
    assert str(source.path) == "/etc/edgecam/clip.avi"
    assert config.rules[0].cooldown == 30.0
    assert config.model.min_scores == {"person": 0.7}


def test_unknown_key_names_path_and_line() -> None:
    text = GOOD.replace("  threshold: 0.6", "  threshold: 0.6\n  treshold: 0.6")
    assert problems(text) == [
        "cfg.yaml:4: model.treshold: unknown key; check its spelling against `edgecam schema`"
    ]


def test_wrong_type_and_out_of_range_reported_together() -> None:
    text = GOOD.replace("threshold: 0.6", "threshold: 1.5").replace("fps: 5", "fps: fast")
    found = problems(text)
    assert len(found) == 2
    assert found[0].startswith(
        "cfg.yaml:3: model.threshold: Input should be less than or equal to 1"
    )
    assert found[1].startswith("cfg.yaml:8: cameras.porch.fps: Input should be a valid number")


def test_missing_key_and_bad_source_type() -> None:
    assert problems(GOOD.replace("path: clip.avi, ", "")) == [
        "cfg.yaml:7: cameras.porch.source.path: required key is missing"
    ]
    bad = problems(GOOD.replace("type: file", "type: webcam"))
    assert len(bad) == 1 and "cameras.porch.source" in bad[0] and "'file'" in bad[0]


def test_rule_naming_unknown_camera() -> None:
    assert problems(GOOD.replace("camera: porch", "camera: garage")) == [
        "cfg.yaml:10: rules.0.camera: unknown camera 'garage'; known: porch"
    ]


def test_yaml_syntax_error_has_its_line() -> None:
    found = problems(GOOD.replace("  porch:\n", "  porch:\n   - [\n"))
    assert len(found) == 1
    assert found[0].startswith("cfg.yaml:") and "YAML syntax error" in found[0]


def test_durations() -> None:
    assert parse_duration("30s") == 30.0
    assert parse_duration("2m") == 120.0
    assert parse_duration("1h") == 3600.0
    assert parse_duration("500ms") == 0.5
    assert parse_duration(7) == 7.0
    for bad in ("soon", "-3s", True, "5 weeks"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_check_config_cli(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    (tmp_path / "clip.avi").symlink_to(DATA / "vtest.avi")  # check-config decodes a frame
    result = run_edgecam(["check-config", str(good)])
    assert result.code == 0, result.err
    assert "OK" in result.out

    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("threshold: 0.6", "threshold: 2").replace("fps: 5", "fpz: 5"))
    result = run_edgecam(["check-config", str(bad)])
    assert result.code == 2
    assert "Traceback" not in result.err
    assert f"{bad}:3: model.threshold" in result.err
    assert f"{bad}:8: cameras.porch.fpz: unknown key" in result.err


def test_check_config_missing_file(tmp_path: Path) -> None:
    result = run_edgecam(["check-config", str(tmp_path / "none.yaml")])
    assert result.code == 2
    assert "not found" in result.err and "Traceback" not in result.err


def test_schema_is_json_schema() -> None:
    result = run_edgecam(["schema"])
    assert result.code == 0
    schema = json.loads(result.out)
    assert schema["type"] == "object"
    assert {"device", "model", "cameras", "rules"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
