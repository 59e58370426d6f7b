"""The known-answer check: real models on the bundled image, broken ones caught."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgecam import bundled
from edgecam.detect import fake_hailo
from edgecam.detect.choose import open_detector
from edgecam.detect.config import ModelConfig
from edgecam.detect.runtime import Runtime, find_runtime
from edgecam.detect.selfcheck import KNOWN_IMAGE, Probe, degenerate, judge
from edgecam.errors import ModelError
from edgecam.types import Detection
from tests.detect.zeroed import zeroed_model
from tests.helpers import DATA, run_edgecam

_COCO = [
    line.split(None, 1) for line in bundled.model_file(bundled.LABELS).read_text().splitlines()
]
SORTED = "\n".join(
    f"{class_id}  {name}"
    for (class_id, _), name in zip(_COCO, sorted(n for _, n in _COCO), strict=True)
)
"""Coral's ids with COCO's names sorted (a file regenerated the wrong way): its ids fit the
model's classes, so only the known answer can tell."""


@pytest.fixture(scope="module")
def zeroed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The int8 COCO model with its box and class heads zeroed: all-zero network outputs."""
    return zeroed_model(tmp_path_factory.mktemp("zeroed") / "zeroed.tflite")


@pytest.fixture
def hailo() -> Iterator[fake_hailo.FakeHailoSystem]:
    """A fresh fake Hailo device for the test."""
    yield fake_hailo.reset()
    fake_hailo.reset()


def test_the_bundled_image_and_its_provenance_ship_with_the_package() -> None:
    source = (KNOWN_IMAGE.parent / "SOURCE.md").read_text()
    assert KNOWN_IMAGE.is_file() and "known_answer.jpg" in source and "sha256" in source


@pytest.mark.parametrize("name", list(bundled.BUILTINS))
def test_every_builtin_passes_on_the_cpu(name: str) -> None:
    detector = open_detector(ModelConfig(name=name, device="cpu"))
    check = detector.info.check
    assert check.startswith("passed in ") and "person" in check, check
    assert ("horse" in check) == (name != "ssdlite-person"), check


def test_all_zero_outputs_of_the_users_model_are_refused_in_one_line(zeroed: Path) -> None:
    with pytest.raises(ModelError) as caught:
        open_detector(ModelConfig(path=zeroed, device="cpu"))
    message = str(caught.value)
    assert "\n" not in message and str(zeroed) in message, message
    assert "all 20 scores are 0.50 (all-zero network outputs?)" in message, message


def test_auto_skips_an_accelerator_whose_outputs_are_all_zero(
    zeroed: Path, tmp_path: Path, hailo: fake_hailo.FakeHailoSystem, caplog: Any
) -> None:
    """A Hailo build that outputs zeros: auto runs on the CPU instead, with one ERROR line."""
    hef = fake_hailo.write_fake_hef(tmp_path / "broken.hef", zeroed)
    caplog.set_level(logging.INFO)
    detector = open_detector(ModelConfig(name="coco", hef=hef), hailo=fake_hailo)
    assert detector.info.device == "cpu" and detector.info.check.startswith("passed"), detector
    # /healthz and the stats show the detector's check line, the failure before it included.
    assert "; before: hailo: all 20 scores are 0.50 (all-zero network outputs?) (FAILED)" in (
        detector.info.check
    ), detector.info.check
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert errors[0].startswith("known-answer check failed on hailo: all "), errors
    assert "scores are 0.50" in errors[0] and errors[0].endswith("falling back to Edge TPU")
    assert not hailo.held  # the failed detector gave the device back
    detector.close()


class _BrokenXnnpack:
    """A TFLite runtime whose XNNPACK kernels return all-zero outputs (as under qemu with SVE)."""

    def __init__(self, real: Runtime, zeroed: Path) -> None:
        self.real, self.zeroed = real, zeroed

    def __call__(self, **kwargs: Any) -> Any:
        if "experimental_op_resolver_type" not in kwargs:  # the default: XNNPACK on
            kwargs["model_path"] = str(self.zeroed)
        return self.real.interpreter_class(**kwargs)


def test_auto_falls_back_to_the_cpu_without_xnnpack(zeroed: Path, caplog: Any) -> None:
    real = find_runtime()
    broken = Runtime(
        real.name, real.version, _BrokenXnnpack(real, zeroed), real.load_delegate,
        real.without_xnnpack,
    )  # fmt: skip
    caplog.set_level(logging.INFO)
    detector = open_detector(ModelConfig(name="coco"), runtime=broken)
    assert detector.info.where == "cpu without XNNPACK", detector.info
    assert detector.info.check.startswith("passed"), detector.info
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "falling back to cpu without XNNPACK" in errors[0], errors
    # An explicit device does not fall back: one line with the problem and the fix.
    with pytest.raises(ModelError, match=r"on cpu: all 20 scores .* set model.device: auto"):
        open_detector(ModelConfig(name="coco", device="cpu"), runtime=broken)


def test_labels_that_do_not_fit_the_model_are_caught(tmp_path: Path) -> None:
    labels = tmp_path / "sorted.txt"
    labels.write_text(SORTED)
    with pytest.raises(ModelError) as caught:
        open_detector(ModelConfig(name="coco", labels=labels))
    message = str(caught.value)
    assert "\n" not in message, message
    assert "the person was labelled 'airplane' (1.00)" in message, message
    assert "the horse was labelled 'cake' (0.96)" in message, message
    assert message.endswith(
        "the label file does not fit this model: remove model.labels or give its own"
    )


def _probe(scores: list[float], boxes: list[list[float]], anchors: Any = None) -> Probe:
    return Probe([], np.asarray(scores, np.float32), np.asarray(boxes, np.float32), anchors)


def test_degenerate_outputs() -> None:
    box = [[0.1, 0.1, 0.5, 0.5], [0.2, 0.2, 0.6, 0.6], [0.3, 0.3, 0.9, 0.9]]
    assert degenerate(_probe([0.9, 0.6, 0.4], box)) is None
    assert degenerate(_probe([0.9, float("nan"), 0.4], box)) == "the model returned NaN"
    assert "all 3 scores are 0.50" in str(degenerate(_probe([0.5, 0.5, 0.5], box)))
    anchors = np.asarray([*box, [0.0, 0.0, 1.0, 1.0]], np.float32)
    assert "all 3 boxes are anchors" in str(degenerate(_probe([0.9, 0.6, 0.4], box, anchors)))
    # A user's model that finds nothing on the image is not broken for that.
    assert judge(_probe([0.1, 0.05, 0.01], box), []).passed


def test_a_builtin_must_find_the_known_objects_where_they_are() -> None:
    person = Detection("person", 0, 0.9, (0.28, 0.25, 0.42, 0.89))
    elsewhere = Detection("horse", 18, 0.9, (0.0, 0.0, 0.2, 0.2))
    probe = Probe(
        [person, elsewhere], np.asarray([0.9, 0.9, 0.1], np.float32), np.zeros((3, 4), np.float32)
    )
    verdict = judge(probe, ["person", "horse"])
    assert not verdict.passed and not verdict.wrong_labels
    assert verdict.detail.startswith("no horse found (best: person 0.90, horse 0.90)"), verdict
    assert judge(probe, ["person"]).passed


def test_check_config_and_run_refuse_labels_that_do_not_fit_alike(tmp_path: Path) -> None:
    labels = tmp_path / "sorted.txt"
    labels.write_text(SORTED)
    config = tmp_path / "edgecam.yaml"
    config.write_text(
        f"model: {{name: coco, labels: {labels}}}\n"
        f"cameras: {{a: {{source: {{type: file, path: {DATA / 'vtest.avi'}}}}}}}\n"
    )
    expected = (
        f"{config}:1: model.labels: label file {labels} does not fit this model: on the "
        "known-answer image the person was labelled 'airplane' (1.00); the horse was labelled "
        "'cake' (0.96); remove model.labels or give the model's own"
    )
    for command in (["check-config", str(config)], ["run", "--config", str(config)]):
        result = run_edgecam(command)
        assert result.code == 2, result.err
        assert result.err.strip().splitlines()[-1] == f"edgecam: error: {expected}", result.err
