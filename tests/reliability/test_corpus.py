"""A corpus of bad configs, broken model and label files and bad files a config names.

Each gets one clean error naming the line and the fix, and ``check-config`` and ``run`` give the
same verdict (exit 2, the same lines): what passes ``ExecStartPre=edgecam check-config`` starts.
Both commands run in-process through ``main``; a few run as subprocesses too, as systemd would.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from edgecam import bundled
from edgecam.cli import main
from edgecam.web.editor import ConfigEditor, EditRefused
from tests.helpers import DATA, run_edgecam
from tests.publish.broker import Certs, make_certs

MODEL = bundled.model_file(bundled.MODEL)
CAMERA = "cameras:\n  porch: {source: {type: file, path: clip.avi}}\n"
RULE = "rules:\n  - {name: people, kind: presence, labels: [person]}\n"

# name: (config text, a part of the expected error)
CONFIGS: dict[str, tuple[str, str]] = {
    "unknown section": (CAMERA + "modle: {}\n", "3: modle: unknown key"),
    "wrong type": (CAMERA + "model: {threads: many}\n", "3: model.threads: Input should be"),
    "out of range": (CAMERA + "model: {threshold: 2}\n", "3: model.threshold: Input should be"),
    "no cameras": ("model: {}\n", "cameras: required key is missing"),
    "too many cameras": (
        "cameras:\n"
        + "".join(f"  c{i}: {{source: {{type: file, path: clip.avi}}}}\n" for i in range(9)),
        "1: cameras: at most 8 cameras in one config",
    ),
    "empty cameras": ("cameras: {}\n", "1: cameras: Dictionary should have at least 1 item"),
    "bad duration": (
        CAMERA + "health: {stale_after: 5 parsecs}\n",
        "3: health.stale_after: Value error, expected a duration such as 30s, 2m or 1h "
        "(got '5 parsecs')",
    ),
    "negative duration": (
        CAMERA + "health: {stale_after: -5s}\n",
        "a duration cannot be negative (got '-5s')",
    ),
    "rule camera": (
        CAMERA + "rules:\n  - {name: r, kind: presence, camera: garage}\n",
        "4: rules.0.camera: unknown camera 'garage'; known: porch",
    ),
    "rule zone": (
        CAMERA + "rules:\n  - {name: r, kind: presence, zone: lawn}\n",
        "4: rules.0.zone: camera 'porch' has no zone 'lawn'",
    ),
    "duplicate rule": (
        CAMERA + RULE + "  - {name: people, kind: presence}\n",
        "5: rules.1.name: duplicate rule name 'people'",
    ),
    "duplicate key": (
        "model: {}\n" + CAMERA + "model: {threads: 2}\n",
        "4: model: given twice (first at line 1)",
    ),
    "unclosed bracket": (
        CAMERA + "rules: [\n  {name: r, kind: presence}\nhttp: {}\n",
        "3: YAML syntax error: the '[' opened here is not closed",
    ),
    "tab indent": (CAMERA + "model:\n\tthreads: 2\n", "YAML syntax error"),
    "not a mapping": ("- cameras\n", "1: the config must be a mapping of sections"),
    "alias bomb": (
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(
            f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]\n"
            for p, n in zip("abcdefg", "bcdefgh", strict=True)
        ),
        "YAML alias *e makes the config expand to more than 20000 values",
    ),
    "device name": (CAMERA + "device: {name: porch pi}\n", "3: device.name: String should match"),
    "password without user": (
        CAMERA + "mqtt: {password_file: pw}\n",
        "3: mqtt: Value error, password_file needs username",
    ),
    "port": (CAMERA + "mqtt: {port: 70000}\n", "3: mqtt.port: Input should be less than"),
    "cert without key": (
        CAMERA + "mqtt: {tls: {certfile: client.pem}}\n",
        "certfile and keyfile go together",
    ),
    "http listen": (CAMERA + "http: {listen: everywhere}\n", "3: http.listen:"),
    "unknown model": (CAMERA + "model: {name: yolo}\n", "3: model.name: unknown built-in model"),
    "name and path": (
        CAMERA + f"model: {{name: coco, path: {MODEL}}}\n",
        "give model.name (a built-in) or",
    ),
    "rule label": (
        CAMERA + "rules:\n  - {name: r, kind: presence, labels: [persn]}\n",
        "4: rules.0.labels.0: 'persn' is not a label of the model (did you mean 'person'?); "
        "its 80 labels (coco_labels.txt): airplane, apple,",
    ),
    "min_scores label": (
        CAMERA + "model: {min_scores: {cars: 0.6}}\n",
        "3: model.min_scores.cars: 'cars' is not a label of the model (did you mean 'car'?)",
    ),
    "label of the person model": (
        CAMERA + "model: {name: ssdlite-person}\n" + RULE.replace("person", "car"),
        "rules.0.labels.0: 'car' is not a label of the model; its 1 labels",
    ),
    # The files a config names.
    "video missing": (
        CAMERA.replace("clip.avi", "gone.avi"),
        "2: cameras.porch.source.path: video file",
    ),
    "video is a directory": (CAMERA.replace("clip.avi", "subdir"), "is a directory; give a file"),
    "video is not a video": (
        CAMERA.replace("clip.avi", "text.avi"),
        "2: cameras.porch.source.path: cannot decode video file",
    ),
    "http password file missing off loopback": (
        CAMERA + 'http: {listen: "0.0.0.0:18081", password_file: gone}\n',
        "3: http.password_file: ",
    ),
    "http password file empty off loopback": (
        CAMERA + 'http: {listen: "0.0.0.0:18081", password_file: empty}\n',
        "the file is empty; put the secret in it",
    ),
    "outbox path is the user's directory": (
        CAMERA + "mqtt: {outbox: {path: userdir}}\n",
        "3: mqtt.outbox.path: ",
    ),
    "outbox path is another program's database": (
        CAMERA + "mqtt: {outbox: {path: userdir/recipes.sqlite}}\n",
        "is another program's SQLite database (tables recipes), not an outbox",
    ),
    "outbox path is a text file": (
        CAMERA + "mqtt: {outbox: {path: userdir/notes.txt}}\n",
        "is not an outbox (not an edgecam database); move it away or give another path",
    ),
    "events path is a file": (
        CAMERA + "events: {path: userdir/notes.txt}\n",
        "3: events.path: ",
    ),
    "events store of another program": (
        CAMERA + "events: {path: userdir}\n",
        "userdir/events.sqlite is another program's SQLite database",
    ),
    "image missing": (
        "cameras:\n  a: {source: {type: image, paths: [dog.jpg, gone.jpg]}}\n",
        "2: cameras.a.source.paths.1: image",
    ),
    "password file missing": (
        CAMERA + "mqtt: {username: u, password_file: gone}\n",
        "3: mqtt.password_file: ",
    ),
    "password file is a FIFO": (
        CAMERA + "mqtt: {username: u, password_file: fifo}\n",
        "(not a regular file); put the broker password in it",
    ),
    "password file empty": (
        CAMERA + "mqtt: {username: u, password_file: empty}\n",
        "(it is empty)",
    ),
    "CA missing": (CAMERA + "mqtt: {tls: {ca_file: gone.pem}}\n", "3: mqtt.tls.ca_file: ca_file"),
    "CA not a certificate": (
        CAMERA + "mqtt: {tls: {ca_file: clip.avi}}\n",
        "clip.avi is not a PEM CA certificate",
    ),
    "cert not a certificate": (
        CAMERA + "mqtt: {tls: {certfile: clip.avi, keyfile: client.key}}\n",
        "mqtt.tls.certfile: ",
    ),
    "encrypted key": (
        CAMERA + "mqtt: {tls: {certfile: client.pem, keyfile: encrypted.key}}\n",
        "encrypted.key is encrypted (it wants a pass phrase, and a service cannot type one)",
    ),
    "key missing": (
        CAMERA + "mqtt: {tls: {certfile: client.pem, keyfile: gone.key}}\n",
        "mqtt.tls.keyfile: keyfile",
    ),
}


def _model(tmp: Path, name: str, make: Callable[[bytes], bytes]) -> str:
    (tmp / name).write_bytes(make(MODEL.read_bytes()))
    return name


def _flip(data: bytes) -> bytes:
    out = bytearray(data)
    for i in range(0, len(out), 997):
        out[i] ^= 0xFF
    return bytes(out)


# name: (model section, expected error part); files are made by _broken_files.
MODELS: dict[str, tuple[str, str]] = {
    "model missing": ("{path: gone.tflite}", "gone.tflite not found; check model.path"),
    "model empty": ("{path: empty.tflite}", "is not a TFLite model (no TFL3 identifier)"),
    "model random": ("{path: random.tflite}", "is not a TFLite model"),
    "model text": ("{path: text.tflite}", "is not a TFLite model"),
    "model truncated": ("{path: half.tflite}", "cannot be loaded"),
    "model head only": ("{path: head.tflite}", "cannot be loaded"),
    "model bits flipped": ("{path: flipped.tflite}", "cannot be loaded"),
    "model directory": ("{path: subdir}", "cannot read model file"),
    "edgetpu model on cpu": (
        f"{{path: {bundled.model_file(bundled.EDGETPU_MODEL)}, device: cpu}}",
        "is compiled for the Edge TPU and cannot run on the CPU",
    ),
    "labels missing": ("{labels: gone.txt}", "gone.txt not found; check model.labels"),
    "labels empty": ("{labels: empty}", "is empty"),
    "labels directory": ("{labels: subdir}", "cannot read label file"),
    "labels not UTF-8": ("{labels: latin1.txt}", "cannot read label file"),
    "labels duplicate id": ("{labels: twice.txt}", "class id 1 appears twice"),
    "labels beyond the model": ("{labels: far.txt}", "has class ids up to 500"),
    "labels shifted": ("{labels: short.txt}", "names would be shifted"),
    "labels mixed": ("{labels: mixed.txt}", "lacks the class id the others have"),
}


def _broken_files(tmp: Path, certs: Certs) -> None:
    rng = random.Random(16)
    (tmp / "clip.avi").symlink_to(DATA / "vtest.avi")
    shutil.copy(DATA / "dog.jpg", tmp / "dog.jpg")
    (tmp / "subdir").mkdir()
    (tmp / "text.avi").write_text("not a video\n")
    user = tmp / "userdir"  # the user's own files, never to be taken over
    user.mkdir()
    (user / "notes.txt").write_text("the user's notes\n" * 100)
    for name, table in (("recipes.sqlite", "recipes"), ("events.sqlite", "calendar")):
        db = sqlite3.connect(user / name)
        db.execute(f"CREATE TABLE {table} (x TEXT)")
        db.close()
    os.mkfifo(tmp / "fifo")
    (tmp / "empty").write_text("")
    shutil.copy(certs.server_cert, tmp / "client.pem")
    shutil.copy(certs.server_key, tmp / "client.key")
    subprocess.run(
        ["openssl", "pkey", "-in", str(certs.server_key), "-aes256", "-passout", "pass:secret",
         "-out", str(tmp / "encrypted.key")],
        check=True, capture_output=True,
    )  # fmt: skip
    _model(tmp, "empty.tflite", lambda _: b"")
    _model(tmp, "random.tflite", lambda _: rng.randbytes(100_000))
    _model(tmp, "text.tflite", lambda _: b"not a model\n")
    _model(tmp, "half.tflite", lambda d: d[: len(d) // 2])
    _model(tmp, "head.tflite", lambda d: d[:1000])
    _model(tmp, "flipped.tflite", _flip)
    (tmp / "latin1.txt").write_bytes("0 personne\n1 vélo\n".encode("latin-1"))
    (tmp / "twice.txt").write_text("0 person\n1 bicycle\n1 car\n")
    (tmp / "far.txt").write_text("0 person\n500 dragon\n")
    (tmp / "short.txt").write_text("person\nbicycle\ncar\n")
    (tmp / "mixed.txt").write_text("0 person\n1 bicycle\n2 car\nmotorcycle\n3 airplane\n")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with every bad config, and the files they name."""
    tmp = tmp_path_factory.mktemp("corpus")
    _broken_files(tmp, make_certs(tmp / "certs"))
    for name, (text, _) in CONFIGS.items():
        (tmp / f"{name.replace(' ', '_')}.yaml").write_text(text)
    for name, (model, _) in MODELS.items():
        (tmp / f"{name.replace(' ', '_')}.yaml").write_text(CAMERA + RULE + f"model: {model}\n")
    return tmp


CASES = {**CONFIGS, **MODELS}


def _verdict(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("name", list(CASES))
def test_check_config_and_run_give_the_same_clean_error(
    corpus: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = corpus / f"{name.replace(' ', '_')}.yaml"
    checked = _verdict(["check-config", str(path)], capsys)
    ran = _verdict(["run", "--config", str(path)], capsys)
    assert checked == ran, f"check-config: {checked}\nrun: {ran}"
    code, err = checked
    assert code == 2, err
    assert err.startswith(f"edgecam: error: {path}:"), err
    assert CASES[name][1] in err, err
    assert "Traceback" not in err and "internal error" not in err
    assert len(err.strip().splitlines()) == 1, err  # one clear line


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_the_users_directory_as_outbox_is_refused_and_nothing_renamed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "events").mkdir(parents=True)
    (state / "events" / "keep.jpg").write_bytes(b"\xff\xd8 a snapshot")
    (state / "photo.txt").write_text("the user's")
    (tmp_path / "clip.avi").symlink_to(DATA / "vtest.avi")
    config = tmp_path / "c.yaml"
    config.write_text(CAMERA + "mqtt: {outbox: {path: state}}\n")
    before = _tree(tmp_path)
    checked = run_edgecam(["check-config", str(config)], timeout=60)
    ran = run_edgecam(["run", "--config", str(config)], timeout=60)
    assert (checked.code, ran.code) == (2, 2), (checked.err, ran.err)
    assert checked.err == ran.err and "3: mqtt.outbox.path: " in ran.err, ran.err
    assert "is a directory" in ran.err
    # The editor's Validate (and so its Apply, and a reload) give the same verdict.
    with pytest.raises(EditRefused) as refused:
        ConfigEditor(config, False, lambda: True).validate(config.read_text())
    assert refused.value.problems == ran.err.removeprefix("edgecam: error: ").strip().split("\n")
    assert _tree(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "c.yaml",
        "clip.avi",
        "state",
    ]


def test_every_problem_in_one_run(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = corpus / "many.yaml"
    path.write_text(
        CAMERA.replace("clip.avi", "text.avi")
        + "model: {threads: many}\n"
        + "mqtt: {port: 99999}\n"
        + "events: {path: userdir/notes.txt}\n"
        + 'http: {listen: "0.0.0.0:18081", password_file: gone}\n'
    )
    checked = _verdict(["check-config", str(path)], capsys)
    assert checked == _verdict(["run", "--config", str(path)], capsys)
    code, err = checked
    assert code == 2
    for part in (
        ":2: cameras.porch.source.path: cannot decode",
        ":3: model.threads:",
        ":4: mqtt.port:",
        ":5: events.path:",
        ":6: http.password_file:",
    ):
        assert part in err, err


def test_corpus_size() -> None:
    configs = [n for n in CONFIGS if not n.startswith(("video", "image", "password", "CA"))]
    assert len(configs) >= 25 and len(MODELS) >= 15 and len(CONFIGS) - len(configs) >= 5


@pytest.mark.parametrize("name", ["encrypted key", "rule label", "model truncated"])
def test_as_subprocesses_too(corpus: Path, name: str) -> None:
    path = corpus / f"{name.replace(' ', '_')}.yaml"
    checked = run_edgecam(["check-config", str(path)], timeout=60)
    ran = run_edgecam(["run", "--config", str(path)], timeout=60)  # never a pass phrase prompt
    assert (checked.code, checked.err) == (ran.code, ran.err) == (2, checked.err)
    assert CASES[name][1] in checked.err
