"""Config files that would hang edgecam or fill its memory: each a clean error, fast and small.

Measured in a child process (``os.wait4`` in a small wrapper gives that child's own peak RSS),
for ``check-config`` and for ``run``, which reads the config the same way (as does a reload).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgecam.config import parse_config
from edgecam.errors import ConfigError

MEMORY_LIMIT_KB = 200 * 1024
CPU_LIMIT_S = 10.0  # a clean error within seconds of work (CPU time: CI machines are loaded)
WALL_LIMIT_S = 60.0

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)


# A fork keeps the forking process's peak RSS in the child's ``ru_maxrss`` (Linux carries it
# across exec), so a child of a large pytest process would report pytest's size. A small wrapper
# process forks edgecam instead and reports that child's own peak.
_WRAPPER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
"""


def _measure(args: list[str]) -> tuple[int, str, float, float, int]:
    """Run ``edgecam ARGS``: exit code, stderr, wall and CPU seconds, peak RSS in KiB."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "edgecam", *args],
        capture_output=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=True,
    )
    code, rss_kb, cpu = done.stdout.split()
    return int(code), done.stderr.decode(), time.monotonic() - start, float(cpu), int(rss_kb)


def _special(tmp_path: Path, kind: str) -> Path:
    if kind == "bomb":
        path = tmp_path / "bomb.yaml"
        path.write_text(BILLION_LAUGHS)
    elif kind == "50MB":
        path = tmp_path / "big.yaml"
        with path.open("w") as file:
            file.write("cameras: {a: {source: {type: image, paths: [x.jpg]}}}\n")
            for _ in range(50):
                file.write("# " + "x" * (1024 * 1024 - 3) + "\n")
    elif kind == "fifo":
        path = tmp_path / "fifo.yaml"
        os.mkfifo(path)
    elif kind == "flat":
        path = tmp_path / "flat.yaml"
        path.write_text("cameras: [" + "1," * 400_000 + "1]\n")
    elif kind == "deep":
        path = tmp_path / "deep.yaml"
        path.write_text("cameras: " + "[" * 400_000 + "\n")
    else:
        path = Path(kind)
    return path


EXPECTED = {
    "bomb": "bomb.yaml:6: YAML alias *e makes the config expand to more than 20000 values",
    "50MB": "big.yaml: larger than 1024 KiB, too large for a config",
    "fifo": "fifo.yaml: not a regular file; give the path of a YAML config file",
    "/dev/zero": "/dev/zero: not a regular file",
    "flat": "flat.yaml:1: the YAML is more than 20000 values, far beyond any config",
    "deep": "deep.yaml:1: the YAML is nested more than 100 levels deep",
}


@pytest.mark.parametrize("command", ["check-config", "run"])
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_hostile_config_is_a_clean_error_fast_and_small(
    tmp_path: Path, kind: str, command: str
) -> None:
    path = _special(tmp_path, kind)
    args = [command, str(path)] if command == "check-config" else ["run", "--config", str(path)]
    code, err, seconds, cpu, rss_kb = _measure(args)
    assert code == 2, err
    assert err.startswith(f"edgecam: error: {path.parent / EXPECTED[kind]}".replace("//", "/"))
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert cpu < CPU_LIMIT_S and seconds < WALL_LIMIT_S, f"{kind}: {cpu:.1f}s CPU, {seconds:.1f}s"
    assert rss_kb < MEMORY_LIMIT_KB, f"{kind}: {rss_kb // 1024} MB"


def test_a_few_aliases_are_fine() -> None:
    text = (
        "cameras:\n"
        "  a: &cam {fps: 5, source: {type: image, paths: [a.jpg]}}\n"
        "  b: {<<: *cam, fps: 2}\n"
        "  c: *cam\n"
    )
    config = parse_config(text, "cfg.yaml")
    assert [cam.fps for cam in config.cameras.values()] == [5, 2, 5]


def test_duplicate_key_names_both_lines() -> None:
    text = (
        "model:\n  threads: 2\ncameras: {a: {source: {type: image, paths: [a.jpg]}}}\nmodel: {}\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, "cfg.yaml")
    assert info.value.problems == [
        "cfg.yaml:4: model: given twice (first at line 1); keep one (YAML would silently use "
        "the last)"
    ]


def test_unclosed_bracket_points_at_its_line() -> None:
    text = "cameras: {a: {source: {type: image, paths: [a.jpg]}}}\nrules: [a,\n  b\nhttp: {}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "cfg.yaml")
    (problem,) = info.value.problems
    assert problem.startswith("cfg.yaml:2: YAML syntax error: the '[' opened here is not closed")


def test_duration_errors_say_what_is_wrong_once() -> None:
    text = "cameras: {a: {source: {type: image, paths: [a.jpg]}, stall_timeout: 5 parsecs}}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text + "health: {stale_after: -5s}\n", "cfg.yaml")
    first, second = info.value.problems
    assert first.endswith("expected a duration such as 30s, 2m or 1h (got '5 parsecs')")
    assert first.count("parsecs") == 1
    assert second.endswith("a duration cannot be negative (got '-5s')")
