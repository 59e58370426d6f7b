"""``edgecam run``: the built-in demo, a config, and usage errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import DATA, run_edgecam

EVENT_KEYS = {"id", "type", "rule", "camera", "label", "score", "box", "ts", "frame_seq"}


def test_demo_prints_person_events() -> None:
    result = run_edgecam(["run", "--max-frames", "200", "--events", "-"])
    assert result.code == 0, result.err
    events = [json.loads(line) for line in result.out.splitlines()]
    assert [e["type"] for e in events][:1] == ["start"]
    assert {e["label"] for e in events} == {"person"}
    for event in events:
        assert set(event) >= EVENT_KEYS
        assert event["ts"].endswith("Z")
    assert len({e["id"] for e in events}) == len(events)


def test_run_with_config_writes_events_file(tmp_path: Path) -> None:
    config = tmp_path / "edgecam.yaml"
    config.write_text(
        "device: {name: test}\n"
        "cameras:\n"
        f"  plaza: {{source: {{type: file, path: {DATA / 'vtest.avi'}, pace: every}}}}\n"
        "rules:\n"
        "  - {name: people, kind: presence, labels: [person], min_score: 0.6}\n"
    )
    out = tmp_path / "events.jsonl"
    result = run_edgecam(
        ["run", "--config", str(config), "--events", str(out), "--max-frames", "30"]
    )
    assert result.code == 0, result.err
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e["type"], e["camera"], e["rule"]) for e in events] == [
        ("start", "plaza", "people"), ("end", "plaza", "people"),
    ]  # fmt: skip
    assert "30 frames analysed" in result.err


def test_usage_errors_exit_2() -> None:
    for args in (["run", "--max-frames", "0"], ["frobnicate"], ["detect"]):
        result = run_edgecam(args)
        assert result.code == 2, (args, result.err)
        assert "Traceback" not in result.err


def test_missing_video_is_a_config_error_as_in_check_config(tmp_path: Path) -> None:
    config = tmp_path / "edgecam.yaml"
    config.write_text("cameras:\n  cam: {source: {type: file, path: gone.avi}}\n")
    result = run_edgecam(["run", "--config", str(config)])
    assert result.code == 2  # the same verdict as check-config's, before anything starts
    assert "gone.avi not found" in result.err and "Traceback" not in result.err


def test_bench_json_has_the_figures() -> None:
    result = run_edgecam(["bench", "--json", "--iterations", "5", "--frames", "20"])
    assert result.code == 0, result.err
    figures = json.loads(result.out)
    for key in ("runtime", "runtime_version", "device", "threads", "invoke_ms", "bare_fps"):
        assert key in figures
    assert abs(figures["ratio"] - figures["pipeline_fps"] / figures["bare_fps"]) < 0.01
    assert figures["device"] == "cpu" and figures["threads"] == 2
