"""Clip settings in the config: bad ones are clear errors, as check-config reports them."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import DATA, run_edgecam


def _check(tmp_path: Path, body: str) -> tuple[int, str]:
    path = tmp_path / "edgecam.yaml"
    path.write_text(body)
    result = run_edgecam(["check-config", str(path)])
    return result.code, result.err


def test_clip_settings_are_checked(tmp_path: Path) -> None:
    camera = f"cameras:\n  c: {{source: {{type: file, path: {DATA / 'vtest.avi'}}}}}\n"
    code, err = _check(
        tmp_path, camera + "rules:\n  - {name: r, kind: presence, clip: {pre: 30s, max: 20s}}\n"
    )
    assert code == 2 and "rules.0.clip" in err and "max must be longer than pre" in err
    code, err = _check(
        tmp_path,
        camera + "events: {enabled: false}\nrules:\n  - {name: r, kind: presence, clip: {}}\n",
    )
    assert code == 2 and "clips need events.enabled: true" in err
    code, err = _check(tmp_path, camera + "clips: {buffer_bytes: 10}\n")
    assert code == 2 and "clips.buffer_bytes" in err
    assert _check(tmp_path, camera + "rules:\n  - {name: r, kind: presence, clip: {}}\n")[0] == 0


def test_an_av_source_needs_its_file_or_one_url(tmp_path: Path) -> None:
    code, err = _check(tmp_path, "cameras:\n  c: {source: {type: av, path: nope.mp4}}\n")
    assert code == 2 and "video file" in err and "nope.mp4 not found" in err
    code, err = _check(tmp_path, "cameras:\n  c: {source: {type: av}}\n")
    assert code == 2 and "exactly one of url" in err


TWO_STREAMS = "cameras:\n  c: {source: {type: av, url: 'rtsp://127.0.0.1:9/sub', %s}}\n"


def test_record_and_decode_keys_are_checked_alike_by_check_config_and_run(
    tmp_path: Path,
) -> None:
    good = TWO_STREAMS % "record: {url: 'rtsp://127.0.0.1:9/main'}, decode: {threads: 2}"
    assert _check(tmp_path, good)[0] == 0
    bad = (
        "cameras:\n"
        "  a: {source: {type: av, path: x.mp4, record: {url: 'rtsp://127.0.0.1:9/main'}}}\n"
        "  b: {source: {type: av, url: 'rtsp://127.0.0.1:9/sub', record: {}}}\n"
        "  c: {source: {type: av, url: 'rtsp://127.0.0.1:9/sub',\n"
        "               record: {url: 'rtsp://127.0.0.1:9/main', codec: h265},\n"
        "               decode: {skip_frame: sometimes, hardware: cuda}}}\n"
    )
    code, err = _check(tmp_path, bad)
    assert code == 2, err
    for needle in ("record needs url", "cameras.b.source.record.url",
                   "cameras.c.source.record.codec", "cameras.c.source.decode.skip_frame",
                   "cameras.c.source.decode.hardware"):  # fmt: skip
        assert needle in err, (needle, err)
    ran = run_edgecam(["run", "--config", str(tmp_path / "edgecam.yaml")])
    assert ran.code == 2 and "Traceback" not in ran.err
    problems = [line for line in err.splitlines() if "cameras." in line]
    assert problems and all(line in ran.err for line in problems), (err, ran.err)
