"""The ``classify`` config section: classifiers that name what a tracked object is."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from edgecam import bundled
from edgecam.schema import ConfigPath, StrictModel


@dataclass(frozen=True, slots=True)
class BuiltinClassifier:
    """A classifier that ships with edgecam, chosen by ``classify[].name``."""

    name: str
    file: str
    """Run on the CPU."""
    classes_file: str
    labels: tuple[str, ...]
    """Detector labels it applies to unless the config says otherwise (empty: must be given)."""
    summary: str
    source_file: str | None = None
    """Coral's uint8 model the CPU file was rebuilt from (what ``edgecam quantize`` reads, and
    what an Edge TPU user compiles); None: ``file`` is Coral's own."""


CLASSIFIERS: dict[str, BuiltinClassifier] = {
    c.name: c
    for c in (
        BuiltinClassifier(
            "birds", "mobilenet_v2_1.0_224_inat_bird_int8.tflite", "inat_bird_labels.txt",
            ("bird",), "MobileNetV2 1.0 224, 964 iNaturalist bird species, int8 from Coral's uint8",
            "mobilenet_v2_1.0_224_inat_bird_quant.tflite",
        ),
        BuiltinClassifier(
            "imagenet", "mobilenet_v2_1.0_224_quant.tflite", "imagenet_labels.txt",
            (), "MobileNetV2 1.0 224, 1000 ImageNet classes (Coral's uint8)",
        ),
    )
}  # fmt: skip
"""The built-in classifiers by name."""


def unknown_classifier_message(name: str) -> str:
    """One line naming the built-in classifiers (and the closest one)."""
    close = difflib.get_close_matches(name, list(CLASSIFIERS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"unknown built-in classifier {name!r}{hint}; built-ins: {', '.join(CLASSIFIERS)} "
        "(`edgecam models` lists them), or give path: and classes:"
    )


class ClassifierConfig(StrictModel):
    """One classifier: which model, which tracks it looks at, and how sure it must be."""

    name: str | None = None
    """Built-in: ``birds`` (species, applies to ``bird``) or ``imagenet``."""
    path: ConfigPath | None = None
    """Your own TFLite image classifier: one [1,H,W,3] input (uint8, int8 or float), one [1,N]
    output (probabilities or logits)."""
    classes: ConfigPath | None = None
    """Its class names: one a line (line N = class N) or ``id  name`` lines; needed with path."""
    labels: list[str] = Field(default_factory=list)
    """Detector labels whose tracks it classifies, e.g. ``[dog]``; default for ``birds``: bird."""
    threshold: float = Field(default=0.5, gt=0.0, le=1.0)
    """The averaged probability a class needs to become the track's sub label."""
    max_runs: int = Field(default=5, ge=1, le=100)
    """Most crops classified per track (first sightings, then a bigger box or a higher score)."""
    min_box: int = Field(default=32, ge=1)
    """Pixels: crops whose box is smaller on its longer side say too little and are skipped."""
    margin: float = Field(default=0.1, ge=0.0, le=1.0)
    """Context added around the box on each side, as a fraction of its longer side."""
    threads: int = Field(default=1, ge=1, le=16)
    """CPU threads of this classifier's interpreter (off the detector's thread, on its own)."""
    budget: float | None = Field(default=None, gt=0.0, le=1.0)
    """The share of one CPU core this classifier may keep busy on a live camera: after a crop
    that took t seconds it waits t * (1 / budget - 1) before the next. Default: 1 (a whole core)
    when the machine has a core to spare beyond the detector's threads and capture (a Pi 4 or 5
    with the default 2 threads), else 0.03, so detection slows by a few per cent at most.
    Recordings analysed frame by frame (``pace: every``) are not limited."""

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and value not in CLASSIFIERS:
            raise PydanticCustomError("unknown_classifier", unknown_classifier_message(value))
        return value

    @model_validator(mode="after")
    def _one_model(self) -> ClassifierConfig:
        if (self.name is None) == (self.path is None):
            raise PydanticCustomError(
                "classifier_model",
                "give name (a built-in: birds, imagenet) or path (your own .tflite), not both",
            )
        if self.path is not None and self.classes is None:
            raise PydanticCustomError(
                "classifier_classes", "a classifier given by path needs classes: (its label file)"
            )
        if not self.labels and not (self.builtin and self.builtin.labels):
            raise PydanticCustomError(
                "classifier_labels",
                "say which detector labels this classifier applies to, e.g. labels: [person]",
            )
        return self

    @property
    def builtin(self) -> BuiltinClassifier | None:
        """The built-in in use, or None for a file of the user's."""
        return CLASSIFIERS[self.name] if self.name is not None else None

    @property
    def title(self) -> str:
        """A short name for logs, stats and events: the built-in's name or the file's stem."""
        return self.name if self.name is not None else Path(str(self.path)).stem

    @property
    def applies_to(self) -> tuple[str, ...]:
        """The detector labels it classifies."""
        builtin = self.builtin
        return tuple(self.labels) or (builtin.labels if builtin else ())

    def model_file(self) -> Path:
        """The .tflite file."""
        builtin = self.builtin
        if builtin is not None:
            return bundled.model_file(builtin.file)
        assert self.path is not None
        return self.path

    def classes_file(self) -> Path:
        """The class-name file: ``classes`` if given, else the built-in's."""
        if self.classes is not None:
            return self.classes
        builtin = self.builtin
        assert builtin is not None
        return bundled.model_file(builtin.classes_file)
