"""The classifier, crops and votes on real images; the CLI; bad classifier configs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgecam.classify.config import ClassifierConfig
from edgecam.classify.crop import crop_rgb, square_region
from edgecam.classify.model import (
    Classifier,
    ClassName,
    parse_class_name,
    read_contract,
    to_probabilities,
)
from edgecam.classify.oneshot import OneShot
from edgecam.classify.vote import FIRST_RUNS, MIN_GAP, TrackVotes, note_run, should_run, tally
from edgecam.imaging import read_image
from edgecam.types import Detection
from tests.helpers import DATA, run_edgecam

MODELS = Path(__file__).resolve().parents[2] / "models"
BIRD_BOX = (0.0697, 0.2402, 0.9373, 0.912)
"""The COCO detector's bird in bird.bmp."""
PARROT_BOX = (0.1551, 0.1183, 0.9047, 0.9547)


@pytest.fixture(scope="module")
def birds() -> OneShot:
    return OneShot(ClassifierConfig(name="birds"))


def test_detect_names_the_chickadee_and_the_macaw() -> None:
    result = run_edgecam(
        ["detect", str(DATA / "bird.bmp"), str(DATA / "parrot.jpg"), "--classify", "birds"]
    )
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    found = [(d["label"], d["sub_label"], d["scientific_name"]) for d in
             (line["detections"][0] for line in lines)]  # fmt: skip
    assert found == [
        ("bird", "Black-capped Chickadee", "Poecile atricapillus"),
        ("bird", "Scarlet Macaw", "Ara macao"),
    ]
    assert all(line["detections"][0]["sub_score"] >= 0.6 for line in lines)  # 0.79, 0.66


def test_crops_of_the_bird_boxes_name_the_species(birds: OneShot) -> None:
    for name, box, species in (
        ("bird.bmp", BIRD_BOX, "Black-capped Chickadee"),
        ("parrot.jpg", PARROT_BOX, "Scarlet Macaw"),
    ):
        described = birds.describe(read_image(DATA / name), Detection("bird", 15, 0.98, box))
        assert described["sub_label"] == species
        top = described["sub_top"]
        assert isinstance(top, list) and len(top) == 3 and top[0][0] == species


def test_other_labels_and_small_boxes_are_left_alone(birds: OneShot) -> None:
    image = read_image(DATA / "bird.bmp")
    assert birds.describe(image, Detection("dog", 17, 0.9, BIRD_BOX)) == {}
    tiny = birds.describe(image, Detection("bird", 15, 0.9, (0.5, 0.5, 0.52, 0.53)))
    assert tiny["sub_label"] is None


def test_imagenet_knows_a_chickadee_and_a_cat() -> None:
    model = Classifier(MODELS / "mobilenet_v2_1.0_224_quant.tflite", MODELS / "imagenet_labels.txt")
    for name, box, expected in (
        ("bird.bmp", BIRD_BOX, "chickadee"),
        ("chelsea.png", (0.017, 0.005, 0.916, 0.989), "Egyptian cat"),
    ):
        crop = crop_rgb(read_image(DATA / name), box, model.size, 0.1)
        probabilities = model.classify(crop)
        assert model.classes[int(np.argmax(probabilities))].name == expected


def test_square_crop_moves_inside_the_frame_and_pads_only_when_larger() -> None:
    assert square_region((0.0, 0.0, 0.1, 0.2), 1000, 500, 0.0) == (0, 0, 100)
    x0, y0, side = square_region((0.9, 0.4, 1.0, 0.6), 1000, 500, 0.5)
    assert (x0 + side, side) == (1000, 200) and y0 == 150
    x0, y0, side = square_region(PARROT_BOX, 512, 929, 0.1)
    assert side > 512 and x0 < 0  # taller than the frame is wide: padded, never cut
    crop = crop_rgb(np.zeros((929, 512, 3), np.uint8), PARROT_BOX, (224, 224), 0.1)
    assert crop.shape == (224, 224, 3)


def test_vote_averages_and_needs_the_threshold() -> None:
    classes = [ClassName("background"), ClassName("Blue Jay", "Cyanocitta cristata"),
               ClassName("Northern Cardinal"), ClassName("House Sparrow")]  # fmt: skip
    sums = np.array([1.2, 0.9, 0.6, 0.3], np.float32)  # three crops
    vote = tally(sums, 3, classes, threshold=0.25)
    assert vote.label == "Blue Jay" and vote.scientific == "Cyanocitta cristata"
    assert vote.score == pytest.approx(0.3)
    assert [n for n, _ in vote.top] == ["Blue Jay", "Northern Cardinal", "House Sparrow"]
    assert tally(sums, 3, classes, threshold=0.5).label is None  # background never wins


def test_a_track_is_classified_on_first_sightings_then_on_better_views() -> None:
    votes = TrackVotes()
    now = 0.0
    for _ in range(FIRST_RUNS):
        assert should_run(votes, 0.1, 0.8, now, max_runs=4)
        note_run(votes, 0.1, 0.8, now)
        assert not should_run(votes, 0.1, 0.8, now + MIN_GAP, 4)  # one crop in flight
        votes.pending = False
        now += MIN_GAP
    assert not should_run(votes, 0.1, 0.8, now, 4)  # the same view again
    assert should_run(votes, 0.13, 0.8, now, 4)  # a bigger box
    assert should_run(votes, 0.1, 0.86, now, 4)  # a higher score
    for _ in range(2):
        note_run(votes, 0.2, 0.9, now)
        votes.pending = False
        now += MIN_GAP
    assert not should_run(votes, 0.5, 0.99, now, 4)  # max_runs reached


def test_class_names_split_common_and_scientific() -> None:
    assert parse_class_name("Poecile atricapillus (Black-capped Chickadee)") == ClassName(
        "Black-capped Chickadee", "Poecile atricapillus"
    )
    assert parse_class_name("tench, Tinca tinca") == ClassName("tench, Tinca tinca")


class _FakeInterpreter:
    """Only the tensor details read_contract looks at."""

    def __init__(self, dtype: Any, quantization: tuple[float, int], outputs: int = 1) -> None:
        self.inputs = [{"index": 0, "shape": [1, 4, 4, 3], "dtype": dtype,
                        "quantization": quantization}]  # fmt: skip
        self.outputs = [{"index": 1 + i, "name": f"o{i}", "shape": [1, 10]}
                        for i in range(outputs)]  # fmt: skip

    def get_input_details(self) -> list[dict[str, Any]]:
        return self.inputs

    def get_output_details(self) -> list[dict[str, Any]]:
        return self.outputs


def test_inputs_of_every_type_map_pixels_to_minus_one_one() -> None:
    pixels = np.array([0, 128, 255])
    uint8, _, n = read_contract(_FakeInterpreter(np.uint8, (1 / 128, 128)), Path("m"))
    assert n == 10 and uint8.table[pixels].tolist() == [0, 128, 255]
    int8, _, _ = read_contract(_FakeInterpreter(np.int8, (1 / 128, 0)), Path("m"))
    assert int8.table[pixels].tolist() == [-128, 0, 127]
    floats, _, _ = read_contract(_FakeInterpreter(np.float32, (0.0, 0)), Path("m"))
    assert floats.table[pixels].tolist() == pytest.approx([-1.0, 0.0, 127 / 128])


def test_logits_go_through_a_softmax_probabilities_do_not() -> None:
    logits = to_probabilities(np.array([[2.0, 0.0, -1.0]], np.float32), 0.0, 0, False)
    assert logits.sum() == pytest.approx(1.0) and int(np.argmax(logits)) == 0
    probs = to_probabilities(np.array([[128, 64, 0]], np.uint8), 1 / 256, 0, True)
    assert probs.tolist() == [0.5, 0.25, 0.0]


def _write(tmp_path: Path, classify: str, rules: str = "") -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "cameras:\n"
        f"  feeder: {{source: {{type: file, path: {DATA / 'vtest.avi'}}}}}\n"
        f"classify:\n{classify}" + (f"rules:\n{rules}" if rules else "")
    )
    return path


@pytest.mark.parametrize(
    ("classify", "rules", "expected"),
    [
        (  # a class file that does not fit the output
            f"  - path: {MODELS / 'mobilenet_v2_1.0_224_quant.tflite'}\n"
            f"    classes: {MODELS / 'inat_bird_labels.txt'}\n    labels: [dog]\n",
            "",
            "5: classify.0.classes: class file",
        ),
        (  # an SSD detector is not a classifier
            f"  - path: {MODELS / 'mobilenet_ssd_v2_coco_int8_postprocess.tflite'}\n"
            f"    classes: {MODELS / 'coco_labels.txt'}\n    labels: [cat]\n",
            "",
            "4: classify.0.path: model",
        ),
        (  # a label the detector cannot produce
            "  - {name: birds, labels: [birb]}\n",
            "",
            "4: classify.0.labels.0: 'birb' is not a label the detector can produce "
            "(did you mean 'bird'?)",
        ),
        (  # a species the classifier does not know
            "  - {name: birds}\n",
            "  - {name: r, kind: presence, labels: [bird], sub_labels: [Blue Jayy]}\n",
            "6: rules.0.sub_labels.0: 'Blue Jayy' is not a class of the classifier for "
            "bird (did you mean 'Blue Jay'?)",
        ),
        (
            "  - {name: bird}\n",
            "",
            "4: classify.0.name: unknown built-in classifier 'bird' (did you mean 'birds'?)",
        ),
    ],
    ids=["classes-do-not-fit", "an-ssd", "unknown-label", "unknown-species", "unknown-builtin"],
)
def test_bad_classifiers_fail_the_same_in_check_config_and_run(
    tmp_path: Path, classify: str, rules: str, expected: str
) -> None:
    path = _write(tmp_path, classify, rules)
    check = run_edgecam(["check-config", str(path)])
    run = run_edgecam(["run", "--config", str(path), "--max-frames", "1"])
    assert check.code == run.code == 2
    lines = check.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].split("bad.yaml:", 1)[1].startswith(expected), check.err
    assert "Traceback" not in check.err + run.err
    assert run.err.strip().splitlines()[-1] == check.err.strip().splitlines()[-1]


def test_the_int8_birds_agree_with_coral_uint8_model() -> None:
    labels = MODELS / "inat_bird_labels.txt"
    int8 = Classifier(MODELS / "mobilenet_v2_1.0_224_inat_bird_int8.tflite", labels)
    uint8 = Classifier(MODELS / "mobilenet_v2_1.0_224_inat_bird_quant.tflite", labels)
    assert int8.input.table.dtype == np.int8 and int8.probabilities
    for name, box in (("bird.bmp", BIRD_BOX), ("parrot.jpg", PARROT_BOX)):
        crop = crop_rgb(read_image(DATA / name), box, int8.size, 0.1)
        a, b = uint8.classify(crop), int8.classify(crop)
        assert int(np.argmax(a)) == int(np.argmax(b))
        assert abs(float(a.max()) - float(b.max())) < 0.1


def test_detect_asks_for_the_labels_of_a_classifier_without_defaults() -> None:
    result = run_edgecam(["detect", str(DATA / "chelsea.png"), "--classify", "imagenet"])
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "edgecam: error: --classify: say which detector labels it applies to: "
        "--classify-labels person (or dog,cat)"
    ]
