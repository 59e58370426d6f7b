"""Output into a pipe whose reader went away (``edgecam schema | head``) ends quietly."""

from __future__ import annotations

import subprocess
import sys


def test_a_closed_stdout_pipe_is_a_quiet_exit() -> None:
    # `head -c 10` reads ten bytes and exits; the schema is far longer than a pipe's buffer.
    shell = f"{sys.executable} -m edgecam schema | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}"
    done = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "0", done.stderr
    assert done.stderr == ""
