"""What a config's classifiers need from the machine: model files that are classifiers, class
files that fit them, and detector labels the detector can produce (run by check-config and run)."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from typing import Any

from edgecam.classify.config import ClassifierConfig
from edgecam.classify.model import ClassName, plain_interpreter, read_classes, read_contract
from edgecam.errors import EdgecamError

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def inspect_classifier(config: ClassifierConfig) -> list[ClassName]:
    """The classifier's classes; ModelError if the model or its class file is unfit."""
    path = config.model_file()
    interpreter = plain_interpreter(path)
    _, _, outputs = read_contract(interpreter, path)
    return read_classes(config.classes_file(), outputs)


def classifier_problems(
    configs: Sequence[ClassifierConfig], detector_labels: Collection[str] | None
) -> tuple[list[Problem], dict[int, list[ClassName]]]:
    """Problems of each classifier, and the classes of the ones that load (by index)."""
    problems: list[Problem] = []
    classes: dict[int, list[ClassName]] = {}
    claimed: dict[str, int] = {}
    for index, cfg in enumerate(configs):
        loc: Loc = ("classify", index)
        try:
            classes[index] = inspect_classifier(cfg)
        except EdgecamError as err:
            key = "classes" if str(err).startswith(("class file", "label file")) else None
            key = key or ("path" if cfg.path is not None else "name")
            problems.append(((*loc, key), str(err)))
        for position, label in enumerate(cfg.applies_to):
            where: Loc = (*loc, "labels", position) if cfg.labels else (*loc, "name")
            if label in claimed:
                problems.append(
                    (where, f"{label!r} already has a classifier (classify[{claimed[label]}])")
                )
            claimed[label] = index
            if detector_labels is not None and label not in detector_labels:
                close = difflib.get_close_matches(label, sorted(detector_labels), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(
                    (where, f"{label!r} is not a label the detector can produce{hint}; a "
                     "classifier applies to tracks of the detector's labels (`edgecam models`)")
                )  # fmt: skip
    return problems, classes


def sub_label_problems(
    rules: Sequence[Any],
    configs: Sequence[ClassifierConfig],
    classes: dict[int, list[ClassName]],
) -> list[Problem]:
    """Rules' ``sub_labels`` that no classifier of the rule's labels can name."""
    problems: list[Problem] = []
    for index, rule in enumerate(rules):
        wanted = list(getattr(rule, "sub_labels", ()))
        if not wanted and getattr(rule, "by", None) != "sub_label":
            continue
        usable = [i for i, cfg in enumerate(configs) if set(cfg.applies_to) & set(rule.labels)]
        if not usable:
            key = "sub_labels" if wanted else "by"
            problems.append(
                ((("rules", index, key)), "no classifier applies to this rule's labels "
                 f"({', '.join(rule.labels)}); add one under classify: with labels: for them")
            )  # fmt: skip
            continue
        if any(i not in classes for i in usable):
            continue  # that classifier's own problem is reported already
        names = {c.name for i in usable for c in classes[i]}
        for position, name in enumerate(wanted):
            if name not in names:
                close = difflib.get_close_matches(name, sorted(names), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(
                    (("rules", index, "sub_labels", position),
                     f"{name!r} is not a class of the classifier for {', '.join(rule.labels)}"
                     f"{hint}")
                )  # fmt: skip
    return problems
