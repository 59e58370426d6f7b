"""Checks of the files a config names, shared by ``check-config``, ``run`` and the stages."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from edgecam.errors import ConfigError


def unreadable(path: Path, what: str) -> str | None:
    """Why ``path`` cannot be read as a file (None if it can)."""
    try:
        with path.open("rb") as file:
            file.read(1)
    except FileNotFoundError:
        return f"{what} {path} not found; check the path"
    except IsADirectoryError:
        return f"{what} {path} is a directory; give a file"
    except PermissionError:
        return f"{what} {path} is not readable by this user; fix its owner or mode"
    except OSError as err:
        return f"{what} {path}: cannot read it ({err.strerror})"
    return None


def read_secret(path: Path, what: str) -> str:
    """The secret in ``path`` (first line, stripped); ConfigError naming the file if unusable."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"http.{what} {path}: cannot read it ({err}); fix the path") from err
    if not text:
        raise ConfigError(f"http.{what} {path}: the file is empty; put the secret in it")
    return text.splitlines()[0].strip()


def read_small_file(path: Path, limit: int) -> bytes:
    """Up to ``limit`` + 1 bytes of the regular file ``path`` (a secret or a URL file).

    O_NONBLOCK and a regular file only: a FIFO or a device named by mistake must not hang the
    start. OSError ("not a regular file", or the system's reason) when it cannot be read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file")
        return os.read(fd, limit + 1)
    finally:
        os.close(fd)
