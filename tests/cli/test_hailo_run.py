"""``edgecam run`` on a Hailo: the shipped fake ``hailo_platform`` running the bundled model.

The fake HEF runs Coral's uint8 COCO model (the kind of build a Hailo runs: uint8 in, on-chip NMS
out), so its per-class NMS rows go through the real Hailo decode path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from edgecam import bundled
from edgecam.detect import fake_hailo
from tests.detect.zeroed import zeroed_model

SHIM = Path(__file__).resolve().parent.parent / "detect" / "hailo_shim"
CAMERA = """\
  {name}:
    source: {{type: file, path: {clip}, pace: every}}
    lines: {{crossing: {{points: [[0.45, 0.25], [0.45, 0.65]]}}}}
"""


def _config(tmp_path: Path, model: str, cameras: tuple[str, ...] = ("demo",)) -> Path:
    clip = bundled.demo_clip()
    path = tmp_path / "edgecam.yaml"
    path.write_text(
        "device: {name: t}\n"
        f"model: {model}\n"
        "cameras:\n" + "".join(CAMERA.format(name=name, clip=clip) for name in cameras) + "rules:\n"
        "  - {name: person, kind: presence, labels: [person], min_score: 0.5}\n"
        "  - {name: crossing, kind: line, line: crossing, labels: [person]}\n"
        "http: {enabled: false}\n"
    )
    return path


def _run(
    tmp_path: Path, config: Path, *args: str, **env: str
) -> tuple[int, list[dict[str, object]], str]:
    events = tmp_path / "events.jsonl"
    environ = {**os.environ, "PYTHONPATH": str(SHIM), "PYTHONUNBUFFERED": "1", **env}
    command = ["run", "--config", str(config), "--events", str(events), *args]
    proc = subprocess.run(
        [sys.executable, "-m", "edgecam", *command],
        capture_output=True, text=True, timeout=120, env=environ, check=False,
    )  # fmt: skip
    lines = events.read_text().splitlines() if events.exists() else []
    return proc.returncode, [json.loads(line) for line in lines], proc.stderr


def _tally(events: list[dict[str, object]]) -> Counter[tuple[object, ...]]:
    return Counter((e["camera"], e["rule"], e["type"], e.get("direction")) for e in events)


def _within_one(a: Counter[tuple[object, ...]], b: Counter[tuple[object, ...]]) -> bool:
    return all(abs(a[key] - b[key]) <= 1 for key in a.keys() | b.keys())


@pytest.fixture(scope="module")
def hef(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fake HEF running the bundled uint8 COCO model."""
    folder = tmp_path_factory.mktemp("hef")
    return fake_hailo.write_fake_hef(
        folder / "ssd_mobilenet_v2.hef", bundled.model_file(bundled.MODEL)
    )


@pytest.fixture(scope="module")
def cpu_events(tmp_path_factory: pytest.TempPathFactory) -> Counter[tuple[object, ...]]:
    """The person events of the demo clip on the CPU (the reference)."""
    folder = tmp_path_factory.mktemp("cpu")
    code, events, err = _run(folder, _config(folder, "{name: coco, device: cpu}"))
    assert code == 0, err
    tally = _tally(events)
    assert tally[("demo", "crossing", "count", "in")] >= 3, tally
    return tally


def test_fake_hailo_gives_the_cpus_person_events(
    tmp_path: Path, hef: Path, cpu_events: Counter[tuple[object, ...]]
) -> None:
    code, events, err = _run(tmp_path, _config(tmp_path, f"{{name: coco, hef: {hef}}}"))
    assert code == 0, err
    assert "known-answer check on hailo passed" in err and "ERROR" not in err, err
    assert "stopped: 240 frames analysed" in err, err
    tally = _tally(events)
    assert _within_one(tally, cpu_events), (tally, cpu_events)


def test_a_hailo_lost_mid_run_falls_back_to_the_cpu_without_a_restart(
    tmp_path: Path, hef: Path, cpu_events: Counter[tuple[object, ...]]
) -> None:
    config = _config(tmp_path, f"{{name: coco, hef: {hef}, device: auto}}")
    # The check's inference is the first; the device is lost at frame 80 of the clip.
    code, events, err = _run(tmp_path, config, EDGECAM_FAKE_HAILO_LOSE_AFTER="80")
    assert code == 0, err
    assert "lost the device mid-inference on hailo: rebuilding the detector" in err, err
    assert (
        "no hailo available, trying Edge TPU (cannot open a Hailo" in err
        and "known-answer check on cpu passed" in err
    ), err
    assert "detector fell back from hailo to cpu" in err, err
    assert err.count("detector: HailoRT") == 1  # one process, one start: no restart
    # The frame whose inference failed is analysed with no detections; the rest go on.
    assert "stopped: 240 frames analysed" in err, err
    tally = _tally(events)
    assert _within_one(tally, cpu_events), (tally, cpu_events)


def test_auto_runs_on_the_cpu_when_the_hailo_build_outputs_zeros(tmp_path: Path) -> None:
    broken = fake_hailo.write_fake_hef(tmp_path / "broken.hef", zeroed_model(tmp_path / "z.tflite"))
    code, events, err = _run(
        tmp_path, _config(tmp_path, f"{{name: coco, hef: {broken}}}"), "--max-frames", "40"
    )
    assert code == 0, err
    errors = [line for line in err.splitlines() if " ERROR " in line]
    assert len(errors) == 1, err
    assert "known-answer check failed on hailo: all" in errors[0], errors
    assert "scores are 0.50 (all-zero network outputs?); falling back to Edge TPU" in errors[0]
    assert "known-answer check on cpu passed" in err, err
    assert any(e["rule"] == "crossing" for e in events), events


def test_cameras_share_one_hailo(tmp_path: Path, hef: Path) -> None:
    config = _config(tmp_path, f"{{name: coco, hef: {hef}, device: hailo}}", ("left", "right"))
    code, events, err = _run(tmp_path, config, "--max-frames", "40")
    assert code == 0, err
    assert err.count("detector: HailoRT") == 1 and "ERROR" not in err, err
    assert {e["camera"] for e in events} == {"left", "right"}, events


def test_an_explicit_hailo_that_is_absent_refuses_in_one_line(tmp_path: Path, hef: Path) -> None:
    config = _config(tmp_path, f"{{name: coco, hef: {hef}, device: hailo}}")
    code, _events, err = _run(tmp_path, config, EDGECAM_FAKE_HAILO_ABSENT="1")
    assert code == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("edgecam: error: cannot open a Hailo device: HAILO_OUT_OF_PHYSICAL"), err
    assert last.endswith("or set model.device: cpu") and "Traceback" not in err, err
