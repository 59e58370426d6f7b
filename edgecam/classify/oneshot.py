"""Classification of single images (``edgecam detect --classify``): one crop, one vote."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from edgecam.classify.check import classifier_problems
from edgecam.classify.config import CLASSIFIERS, ClassifierConfig, unknown_classifier_message
from edgecam.classify.crop import box_pixels, crop_rgb
from edgecam.classify.model import Classifier
from edgecam.classify.vote import tally
from edgecam.errors import ConfigError
from edgecam.types import Detection, Image


def classifier_from_args(model: str, classes: Path | None, labels: str | None) -> ClassifierConfig:
    """The classifier of ``--classify NAME_OR_PATH`` (``--classes``, ``--classify-labels``)."""
    fields: dict[str, object] = {}
    if model in CLASSIFIERS:
        fields["name"] = model
    elif model.endswith(".tflite") or "/" in model or Path(model).exists():
        fields["path"] = Path(model).resolve()
    else:
        raise ConfigError(f"--classify: {unknown_classifier_message(model)}")
    if classes is not None:
        fields["classes"] = classes.resolve()
    if labels:
        fields["labels"] = [part.strip() for part in labels.split(",") if part.strip()]
    try:
        config = ClassifierConfig.model_validate(fields)
    except ValidationError as err:
        raise ConfigError(
            [f"--classify: {_as_flags(e['type'], e['msg'])}" for e in err.errors()]
        ) from err
    problems, _ = classifier_problems([config], None)
    if problems:
        raise ConfigError([f"--classify: {message}" for _, message in problems])
    return config


def _as_flags(kind: str, message: str) -> str:
    """A config message in the command line's words."""
    if kind == "classifier_labels":
        return "say which detector labels it applies to: --classify-labels person (or dog,cat)"
    if kind == "classifier_classes":
        return "a classifier given by path needs --classes (its class file)"
    return message


class OneShot:
    """A classifier for detections on still images."""

    def __init__(self, config: ClassifierConfig) -> None:
        self.config = config
        self.model = Classifier(config.model_file(), config.classes_file(), config.threads)

    def describe(self, image: Image, detection: Detection) -> dict[str, object]:
        """``sub_label``, ``sub_score`` and the top 3 for a detection it applies to, else {}."""
        cfg = self.config
        if detection.label not in cfg.applies_to:
            return {}
        height, width = image.shape[:2]
        if box_pixels(detection.box, width, height) < cfg.min_box:
            return {"sub_label": None, "sub_skipped": f"box under min_box ({cfg.min_box} px)"}
        probabilities = self.model.classify(
            crop_rgb(image, detection.box, self.model.size, cfg.margin)
        )
        vote = tally(probabilities, 1, self.model.classes, cfg.threshold)
        out: dict[str, object] = {"sub_label": vote.label}
        if vote.label is not None:
            out["sub_score"] = vote.score
        if vote.scientific is not None:
            out["scientific_name"] = vote.scientific
        out["sub_top"] = [list(pair) for pair in vote.top]
        return out
