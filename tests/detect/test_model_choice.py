"""Choosing a model: a built-in by name (the default COCO) or the user's own file as given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgecam import bundled
from edgecam.config.loader import parse_config
from edgecam.detect.config import ModelConfig
from edgecam.errors import ConfigError
from tests.helpers import DATA, run_edgecam

CONFIG = """\
model: {MODEL}
cameras:
  porch: {{source: {{type: file, path: clip.avi}}}}
rules:
  - {{name: seen, kind: presence, camera: porch, labels: [person]}}
"""


def model_section(text: str) -> ModelConfig:
    return parse_config(CONFIG.format(MODEL=text), "cfg.yaml", base_dir=Path("/etc/e")).model


def test_default_is_the_coco_builtin() -> None:
    model = ModelConfig()
    assert model.builtin is not None and model.builtin.name == "coco"
    assert model.labels_path == bundled.model_file(bundled.LABELS)
    assert model.model_file(edgetpu=True) == bundled.model_file(bundled.EDGETPU_MODEL)


def test_builtin_by_name_brings_its_labels() -> None:
    model = model_section("{name: ssdlite-person}")
    assert model.labels_path == bundled.model_file(bundled.PERSON_LABELS)
    assert model.model_file() == bundled.model_file(bundled.SSDLITE_MODEL)
    # No Edge TPU build: the CPU file is what an Edge TPU gets too.
    assert model.model_file(edgetpu=True) == model.model_file()


def test_own_path_is_used_as_given() -> None:
    model = model_section("{path: my.tflite, labels: my.txt}")
    assert model.builtin is None
    assert model.model_file() == model.model_file(edgetpu=True) == Path("/etc/e/my.tflite")
    assert model.labels_path == Path("/etc/e/my.txt")
    # A bare path keeps the COCO labels, as before built-in names existed.
    assert model_section("{path: my.tflite}").labels_path == bundled.model_file(bundled.LABELS)


def test_unknown_builtin_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        model_section("{name: ssdlite}")
    (problem,) = info.value.problems
    assert problem.startswith("cfg.yaml:1: model.name: unknown built-in model 'ssdlite'")
    assert "did you mean 'ssdlite-person'" in problem and "coco" in problem


def test_name_and_path_together_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not both"):
        model_section("{name: coco, path: my.tflite}")


def test_unknown_builtin_on_the_command_line_exits_2() -> None:
    result = run_edgecam(["detect", str(DATA / "dog.jpg"), "--model", "cocoa"])
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    (line,) = result.err.strip().splitlines()
    assert line.startswith("edgecam: error: --model: unknown built-in model 'cocoa'")
    assert "did you mean 'coco'" in line


def test_models_command_lists_the_builtins() -> None:
    result = run_edgecam(["models", "--json", "--no-time"])
    assert result.code == 0, result.err
    rows = {row["name"]: row for row in map(json.loads, result.out.splitlines())}
    assert list(rows) == ["coco", "coco-uint8", "ssdlite-person", "birds", "imagenet"]
    assert rows["birds"]["kind"] == "classifier" and rows["birds"]["applies_to"] == ["bird"]
    assert rows["birds"]["classes"] == 964 and rows["imagenet"]["classes"] == 1000
    rows = {name: row for name, row in rows.items() if row.get("kind") != "classifier"}
    assert rows["coco"]["default"] is True and rows["coco"]["labels"] == 80
    assert rows["coco"]["input"] == "int8 300x300x3"
    assert rows["coco"]["quantization"] == ("int8 weights symmetric per-channel, int8 activations")
    assert rows["coco-uint8"]["quantization"] == (
        "uint8 weights asymmetric per-tensor, uint8 activations"
    )
    assert rows["ssdlite-person"]["label_names"] == ["person"]
    assert all(float(row["size_mb"]) > 1 for row in rows.values())
    # The known-answer check of each on this CPU (edgecam/detect/selfcheck.py).
    assert rows["coco"]["check"].startswith("passed in ") and "horse 0.96" in rows["coco"]["check"]
    assert rows["ssdlite-person"]["check"].endswith(": person 0.99"), rows["ssdlite-person"]


def test_models_command_times_each_model() -> None:
    result = run_edgecam(["models"])
    assert result.code == 0, result.err
    assert result.out.count("ms on this CPU (2 threads)") == 3
    assert result.out.count("ms on this CPU (1 thread)") == 2  # the classifiers
    assert "coco (default):" in result.out
