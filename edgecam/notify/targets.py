"""The one way out: Apprise. A target's URL is read from its file, parsed and sent to here.

The URL carries the service's token, so nothing here logs it: Apprise's own logger is kept out of
the service's log (:func:`quiet_apprise`), its messages are captured per send, and every piece of
the URL that could be a secret is blanked out of them (:func:`redact`) before they are shown.
Apprise is imported on first use, so importing edgecam does not load a hundred plugins.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from edgecam.errors import ConfigError
from edgecam.files import read_small_file
from edgecam.notify.config import TargetConfig

if TYPE_CHECKING:
    import apprise

_PIECES = re.compile(r"[^/:@?&=#,;+\s]{3,}")
MAX_URL = 8192


def read_url(path: Path, key: str) -> str:
    """The Apprise URL in ``path`` (one line); ConfigError naming ``key`` and the file if not."""
    try:
        data = read_small_file(path, MAX_URL)
        text = data.decode("utf-8").strip()
        if len(data) > MAX_URL or not text or "\n" in text:
            raise OSError(0, "it is empty" if not text else "not one URL on one line")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise ConfigError(
            f"{key}{path}: cannot read it ({reason}); put the target's Apprise URL in it "
            "(e.g. ntfy://ntfy.sh/my-topic), readable by edgecam only"
        ) from err
    return text


def secrets_of(url: str) -> list[str]:
    """Every piece of ``url`` that could be a secret, longest first: all but its scheme and a
    host name with a dot in it (Telegram's bot token sits where a host would be)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    safe = {
        url.partition("://")[0].lower(),
        *(k.lower() for k in re.findall(r"[?&]([^=&]+)=", url)),
    }
    if "." in host or host == "localhost":
        safe.add(host)
    pieces = {p for p in _PIECES.findall(url.partition("://")[2] or url) if p.lower() not in safe}
    return sorted({url, *pieces}, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***`` (in any letter case)."""
    for secret in secrets:
        text = re.sub(re.escape(secret), "***", text, flags=re.IGNORECASE)
    return text


def quiet_apprise() -> None:
    """Keep Apprise's and urllib3's loggers out of the service's log: their lines can hold URLs
    (urllib3 logs each request's path, where Telegram and ntfy keep the token)."""
    for name in ("apprise", "urllib3"):
        logger = logging.getLogger(name)
        logger.propagate = False
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())


def _capture() -> Any:
    """Apprise's warnings and errors of one call, as text (``.getvalue()``)."""
    import apprise

    return apprise.LogCapture(level=logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]


def url_problem(url: str) -> str | None:
    """Why Apprise cannot use ``url`` (secrets blanked out), or None; nothing is sent."""
    import apprise

    quiet_apprise()
    secrets = secrets_of(url)
    if "://" not in url:
        return "not an Apprise URL (SERVICE://...); see https://appriseit.com/services/"
    with _capture() as captured:
        try:
            plugin = apprise.Apprise.instantiate(url, suppress_exceptions=False)
        except Exception as err:  # a plugin's constructor says what is wrong with the URL
            return redact(f"Apprise cannot use the URL: {err}", secrets)
    if plugin is None:
        said = " ".join(captured.getvalue().split()) or "the URL is not one it knows"
        return redact(f"Apprise cannot use the URL: {said}", secrets)
    return None


class Sender:
    """Sends to one target through Apprise; blocking (Apprise's per-request timeouts apply)."""

    def __init__(self, name: str, url: str) -> None:
        import apprise

        quiet_apprise()
        self.name = name
        self._secrets = secrets_of(url)
        self._apprise: apprise.Apprise = apprise.Apprise()
        if not self._apprise.add(url):
            raise ConfigError(
                f"notify.targets.{name}: Apprise cannot use its URL; run edgecam check-config"
            )

    @property
    def takes_attachments(self) -> bool:
        """True if the service takes attachments (ntfy, e-mail, Telegram, webhooks, ...)."""
        return all(bool(getattr(p, "attachment_support", False)) for p in self._apprise)

    def send(self, title: str, body: str, attachment: Path | None = None) -> str | None:
        """Send one message; None on success, else why not (secrets blanked out)."""

        attach: Any = str(attachment) if attachment is not None else None
        with _capture() as captured:
            try:
                ok = bool(self._apprise.notify(body=body or title, title=title, attach=attach))
            except Exception as err:  # a plugin bug must not end the worker
                return redact(f"{type(err).__name__}: {err}", self._secrets)
        if ok:
            return None
        said = "; ".join(line for line in captured.getvalue().splitlines() if line)
        return redact(said[:500] or "the service refused it", self._secrets)


def target_problems(targets: Mapping[str, TargetConfig]) -> list[tuple[tuple[str | int, ...], str]]:
    """Each target whose URL file cannot be read or whose URL Apprise cannot use (none sent)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for name, target in targets.items():
        loc: tuple[str | int, ...] = ("notify", "targets", name, "url_file")
        try:
            url = read_url(target.url_file, "")
        except ConfigError as err:
            problems.append((loc, str(err).strip()))
            continue
        if (why := url_problem(url)) is not None:
            problems.append((loc, f"{target.url_file}: {why}"))
    return problems
