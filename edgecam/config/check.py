"""What a valid config needs from the machine: the files it names, the model and its labels.

Run by ``check-config``, by ``run`` before anything starts and by a reload, so all three give the
same verdict, and a config that passes ``check-config`` (``ExecStartPre=``) does start. Nothing
here opens a camera, connects to a broker or touches an accelerator.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgecam.camera.probe import undecodable
from edgecam.detect.runtime import plain_interpreter
from edgecam.errors import EdgecamError, ModelError
from edgecam.events.storefile import not_an_events_store
from edgecam.files import read_secret, unreadable
from edgecam.publish.credentials import TlsFileError, read_password, tls_context
from edgecam.publish.outbox_db import not_an_outbox

if TYPE_CHECKING:
    from edgecam.config.http import HttpConfig
    from edgecam.config.models import CameraConfig, Config
    from edgecam.detect.config import ModelConfig
    from edgecam.events.config import EventsConfig
    from edgecam.publish.config import MqttConfig
    from edgecam.rules.config import RuleConfig

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def machine_problems(config: Config) -> list[Problem]:
    """Every problem of ``config`` on this machine, each with the key path it comes from."""
    return section_problems({name: getattr(config, name) for name in type(config).model_fields})


def section_problems(sections: Mapping[str, Any]) -> list[Problem]:
    """The machine problems of the sections given (those that validated, when others did not).

    A config with schema errors still has its files, model and labels checked, so one run of
    ``check-config`` reports every problem it can find.
    """
    problems: list[Problem] = []
    if (cameras := sections.get("cameras")) is not None:
        problems += _source_problems(cameras)
    mqtt = sections.get("mqtt")
    if mqtt is not None:
        problems += _mqtt_problems(mqtt)
    if (http := sections.get("http")) is not None:
        problems += _http_problems(http)
    problems += _state_problems(mqtt, sections.get("events"))
    notify = sections.get("notify")
    if notify is not None and notify.targets:  # every target's URL file read and parsed
        from edgecam.notify.targets import target_problems

        problems += target_problems(notify.targets)
    rules = sections.get("rules") or []
    labels = None
    if (model := sections.get("model")) is not None:
        labels, model_problems = model_labels(model)
        problems += model_problems
        if labels is not None:
            problems += label_problems(rules, model, labels)
    classify = sections.get("classify")
    if classify is not None and (classify or any(_by_sub_label(r) for r in rules)):
        problems += _classify_problems(classify, rules, labels)
    return problems


def _classify_problems(
    classify: Any, rules: Sequence[RuleConfig], labels: dict[int, str] | None
) -> list[Problem]:
    """Classifiers that are not classifiers or do not fit, and sub labels none can name."""
    from edgecam.classify.check import classifier_problems, sub_label_problems

    known = set(labels.values()) if labels is not None else None
    problems, classes = classifier_problems(classify, known)
    return problems + sub_label_problems(rules, classify, classes)


def _source_problems(cameras: Mapping[str, CameraConfig]) -> list[Problem]:
    problems: list[Problem] = []
    for name, camera in cameras.items():
        source = camera.source
        loc: Loc = ("cameras", name, "source")
        if source.type == "file" or (source.type == "av" and source.path is not None):
            assert source.path is not None
            why = unreadable(source.path, "video file") or undecodable(
                source.path, "opencv" if source.type == "file" else "av"
            )
            if why is not None:
                problems.append(((*loc, "path"), why))
        elif source.type == "image":
            for index, path in enumerate(source.paths):
                if (why := unreadable(path, "image")) is not None:
                    problems.append(((*loc, "paths", index), why))
        elif source.type == "picamera2" and source.ai_camera is not None:
            problems += _ai_camera_problems(source.ai_camera, (*loc, "ai_camera"))
    return problems


def _ai_camera_problems(ai_camera: Any, loc: Loc) -> list[Problem]:
    """The AI Camera's network file (unless the fake camera stands in) and its labels file."""
    import os

    from edgecam.camera.imx500 import network_path
    from edgecam.camera.picamera2 import FAKE_ENV

    problems: list[Problem] = []
    network = network_path(ai_camera.network)
    if not os.environ.get(FAKE_ENV) and not network.is_file():
        missing = f"{network} not found; install the networks (sudo apt install imx500-all)"
        problems.append(((*loc, "network"), f"{missing} or fix the name"))
    if ai_camera.labels is not None and (why := unreadable(ai_camera.labels, "label file")):
        problems.append(((*loc, "labels"), why))
    return problems


def _mqtt_problems(mqtt: MqttConfig) -> list[Problem]:
    problems: list[Problem] = []
    if mqtt.password_file is not None:
        try:
            read_password(mqtt.password_file)
        except EdgecamError as err:
            problems.append(
                (("mqtt", "password_file"), str(err).removeprefix("mqtt.password_file "))
            )
    if mqtt.tls is not None:
        try:
            tls_context(mqtt.tls)
        except TlsFileError as err:
            problems.append((("mqtt", "tls", err.key), err.message))
    return problems


def _http_problems(http: HttpConfig) -> list[Problem]:
    """The secret files, read as the web server will (an unusable one would stop it)."""
    problems: list[Problem] = []
    if not http.enabled:
        return problems
    for key in ("password_file", "token_file"):
        path = getattr(http, key)
        if path is not None:
            try:
                read_secret(path, key)
            except EdgecamError as err:
                problems.append((("http", key), str(err).removeprefix(f"http.{key} ")))
    return problems


def _state_problems(mqtt: MqttConfig | None, events: EventsConfig | None) -> list[Problem]:
    """Paths edgecam writes to that hold something else: never taken over, so an error here."""
    problems: list[Problem] = []
    outbox = mqtt.outbox.path if mqtt is not None else None
    if outbox is not None and (why := not_an_outbox(outbox)) is not None:
        problems.append((("mqtt", "outbox", "path"), why))
    store = events.path if events is not None and events.enabled else None
    if store is not None and (why := not_an_events_store(store)) is not None:
        problems.append((("events", "path"), why))
    return problems


def model_labels(model: ModelConfig) -> tuple[dict[int, str] | None, list[Problem]]:
    """The model's labels, and the problems of its model and label files."""
    from edgecam.detect.labels import read_labels

    problems: list[Problem] = []
    labels: dict[int, str] | None = None
    try:
        labels = read_labels(model.labels_path)
    except EdgecamError as err:
        problems.append((("model", "labels"), str(err)))
    if model.hef is not None and not model.hef.is_file():
        problems.append((("model", "hef"), f"HEF file {model.hef} not found; check model.hef"))
    try:
        _inspect_model(model, labels)
    except EdgecamError as err:
        key = "labels" if str(err).startswith("label file") else "path" if model.path else "name"
        problems.append((("model", key), str(err)))
        if key == "labels":
            labels = None
    return labels, problems


def _inspect_model(model: ModelConfig, labels: dict[int, str] | None) -> None:
    """Load the model on the CPU as the detector would (no accelerator); ModelError if unfit."""
    from edgecam.detect import model as tflite
    from edgecam.detect.labels import check_labels_fit

    path = model.model_file()
    data = tflite.check_model_file(path)
    if model.device not in ("auto", "cpu"):
        tflite.check_model_file(model.model_file(edgetpu=True))
    if tflite.is_edgetpu_model(data):
        if model.device == "cpu":
            raise EdgecamError(
                f"model {path} is compiled for the Edge TPU and cannot run on the CPU; use the "
                "CPU build (the same name without _edgetpu) or set model.device: auto"
            )
        return  # only an Edge TPU can load it; its delegate is not touched here
    interpreter = plain_interpreter(
        path, hint="; check that it is a complete TFLite SSD model (download it again if truncated)"
    )
    tflite.read_input(interpreter, path)
    tflite.read_outputs(interpreter, path)
    if labels is not None:
        check_labels_fit(labels, tflite.count_classes(interpreter), str(model.labels_path))
        if model.builtin is not None and model.labels is not None:
            _check_labels_name_the_known_objects(model, labels, interpreter, path)


def _check_labels_name_the_known_objects(
    model: ModelConfig, labels: dict[int, str], interpreter: Any, path: Path
) -> None:
    """A built-in with the user's labels: the known-answer check, as ``run`` does it at start."""
    from edgecam.detect.choose import expected_for
    from edgecam.detect.detector import Detector, DetectorInfo
    from edgecam.detect.selfcheck import run_check

    info = DetectorInfo("check", "", "cpu", 1, str(path), (0, 0), xnnpack=False)
    result = run_check(Detector(interpreter, model, labels, info, path), expected_for(model))
    if result.wrong_labels:
        raise ModelError(
            f"label file {model.labels_path} does not fit this model: on the known-answer "
            f"image {result.detail}; remove model.labels or give the model's own"
        )


def label_problems(
    rules: Sequence[RuleConfig], model: ModelConfig, labels: dict[int, str]
) -> list[Problem]:
    """Rule labels and ``model.min_scores`` keys the model cannot produce."""
    known = sorted(set(labels.values()))
    wrong: list[tuple[Loc, str]] = []
    for index, rule in enumerate(rules):
        for position, label in enumerate(getattr(rule, "labels", ())):
            if label not in known:
                wrong.append((("rules", index, "labels", position), label))
    wrong += [(("model", "min_scores", label), label) for label in model.min_scores]
    wrong = [(loc, label) for loc, label in wrong if label not in known]
    source = model.labels_path.name
    listed = ", ".join(known[:100]) + (", ..." if len(known) > 100 else "")
    problems: list[Problem] = []
    for number, (loc, label) in enumerate(wrong):
        close = difflib.get_close_matches(label, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        which = f"its {len(known)} labels ({source}): {listed}" if number == 0 else "see above"
        problems.append((loc, f"{label!r} is not a label of the model{hint}; {which}"))
    return problems


def _by_sub_label(rule: Any) -> bool:
    return bool(getattr(rule, "sub_labels", None)) or getattr(rule, "by", None) == "sub_label"
