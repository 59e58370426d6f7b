"""The service under a real systemd: PID 1 in a ``systemd-nspawn`` container of this machine.

The container boots this machine's own ``/usr`` (read-only) with an empty ``/etc`` and ``/var``
(``--volatile=yes``), a copy of this checkout as a clone in ``/home/pi/edgecam``, and a oneshot
unit that runs ``nspawn_steps.py``: the README's install, then reloads, restarts, a broker that
wants a password, a frozen process and a stop, each checked from outside the service. The
host's pip configuration, wheels and cache are bound in, so the install inside takes what
``pip install`` takes here. Needs root (CI runs as root) and ``systemd-container``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
STEPS = Path(__file__).with_name("nspawn_steps.py")
TIMEOUT = 900

# /etc is empty in the container: what the install and the steps need from the host's.
HOST_ETC = ("/etc/ssl", "/etc/ca-certificates", "/etc/alternatives", "/etc/pip.conf",
            "/etc/xdg/pip")  # fmt: skip

UNIT = """\
[Unit]
Description=edgecam nspawn test steps
After=basic.target
[Service]
Type=oneshot
{environment}
ExecStart=/usr/bin/python3 /mnt/out/nspawn_steps.py
ExecStopPost=/bin/systemctl poweroff --no-block
TimeoutStartSec={timeout}
"""


def _nspawn() -> str:
    if os.geteuid() != 0:
        pytest.fail("the real-systemd test boots a container and needs root: run the suite as root")
    tool = shutil.which("systemd-nspawn")
    if tool is None:
        pytest.fail("systemd-nspawn is missing: apt-get install systemd-container")
    return tool


def _clone(home: Path) -> Path:
    """The checkout's files (tracked and new, not ignored), as a clone has them."""
    clone = home / "pi" / "edgecam"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            target = clone / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return clone


def _pip_paths() -> tuple[dict[str, str], set[str]]:
    """The host's pip settings (PIP_* variables) and the local paths they and pip's config name."""
    env = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    config = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    cache = subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True, check=False
    ).stdout.strip()
    text = " ".join([*env.values(), config, cache])
    paths = {m.rstrip("/'\"") for m in re.findall(r"(?:file://)?(/[^\s'\"]+)", text)}
    return env, {p for p in paths if Path(p).exists() and not p.startswith(("/usr", "/etc"))}


@pytest.mark.slow
@pytest.mark.nspawn
def test_the_readme_install_under_a_real_systemd(tmp_path: Path) -> None:
    nspawn = _nspawn()
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(STEPS, out / "nspawn_steps.py")
    _clone(tmp_path / "home")
    env, pip_paths = _pip_paths()
    environment = "\n".join(f'Environment="{k}={v}"' for k, v in env.items())
    (tmp_path / "steps.service").write_text(UNIT.format(environment=environment, timeout=TIMEOUT))
    binds = [f"--bind-ro={p}" for p in HOST_ETC if Path(p).exists()]
    binds += [f"--bind={p}" for p in sorted(pip_paths)]  # the cache is written to
    command = [
        nspawn, "--quiet", "--volatile=yes", "-D", "/", "--register=no", "--keep-unit",
        f"--bind={out}:/mnt/out", f"--bind={tmp_path / 'home'}:/home",
        f"--bind-ro={tmp_path / 'steps.service'}:/etc/systemd/system/edgecam-steps.service",
        *binds, "--boot", "systemd.firstboot=off", "systemd.unit=edgecam-steps.service",
    ]  # fmt: skip
    console = tmp_path / "console.log"
    with console.open("wb") as log:
        subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, timeout=TIMEOUT + 60, check=False
        )
    result = (out / "result").read_text() if (out / "result").exists() else "no result"
    steps = (out / "steps.log").read_text() if (out / "steps.log").exists() else ""
    journal = (out / "journal.txt").read_text() if (out / "journal.txt").exists() else ""
    assert result == "ok\n", (
        f"{result}\n--- steps\n{steps}\n--- edgecam journal (end)\n{journal[-6000:]}\n"
        f"--- console (end)\n{console.read_text(errors='replace')[-3000:]}"
    )
