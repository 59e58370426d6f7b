"""A small real filesystem (tmpfs) for full-disk tests, and a file that fills it up."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _as_root(*command: str) -> list[str]:
    if os.geteuid() == 0:
        return list(command)
    if shutil.which("sudo") is None:
        raise RuntimeError(
            "full-disk tests mount a small tmpfs: run the tests as root or install sudo "
            "(apt-get install sudo) with password-less sudo for mount and umount"
        )
    return ["sudo", "-n", *command]


@contextmanager
def small_filesystem(mountpoint: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. ``64k``) mounted at ``mountpoint``, writable by us."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0777"
    done = subprocess.run(
        _as_root("mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mountpoint)),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"cannot mount a tmpfs at {mountpoint} (needs root): {done.stderr}")
    try:
        yield mountpoint
    finally:
        subprocess.run(_as_root("umount", "-l", str(mountpoint)), check=False)


def fill(directory: Path, name: str = "filler") -> Path:
    """Write zeros into ``directory/name`` until the filesystem is full, to the last byte."""
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (65536, 4096, 512, 64, 8, 1):
            block = b"\0" * size
            try:
                while os.write(fd, block):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    return path
