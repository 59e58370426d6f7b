"""The broker's credentials: the password file and the TLS context, read the same way by
``check-config`` and by the MQTT client."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from edgecam.errors import ConfigError
from edgecam.files import read_small_file, unreadable

if TYPE_CHECKING:
    from edgecam.publish.config import TlsConfig


def read_password(path: Path) -> str:
    """The password in ``path`` (trailing newline removed); never logged."""
    try:
        data = read_small_file(path, 4096)
        text = data.decode("utf-8").rstrip("\r\n")
        if len(data) > 4096 or not text:
            raise OSError(0, "too large for a password" if text else "it is empty")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise ConfigError(
            f"mqtt.password_file {path}: cannot read it ({reason}); "
            "put the broker password in it, readable by edgecam only"
        ) from err
    return text


class TlsFileError(ConfigError):
    """A TLS file named by ``mqtt.tls.<key>`` cannot be used."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"mqtt.tls.{key}: {message}")


class _EncryptedKeyError(Exception):
    pass


def _no_passphrase() -> str:
    # OpenSSL would otherwise ask on the terminal ("Enter PEM pass phrase") and hang a service.
    raise _EncryptedKeyError


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """The TLS context for the broker; :class:`TlsFileError` naming the file that is wrong."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    # Python 3.13 verifies strictly by default; do the same on 3.11 and 3.12, so a CA that works
    # on Debian 12 keeps working after an upgrade to Debian 13 (Raspberry Pi OS trixie).
    if tls.strict:
        context.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
    else:
        context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    if tls.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.ca_file is not None:
        _load(tls.ca_file, "ca_file", "CA certificate", lambda: context.load_verify_locations(
            cafile=str(tls.ca_file)
        ))  # fmt: skip
    if tls.certfile is not None and tls.keyfile is not None:
        certfile, keyfile = tls.certfile, tls.keyfile
        for key, path in (("certfile", certfile), ("keyfile", keyfile)):
            if (why := unreadable(path, key)) is not None:
                raise TlsFileError(key, why)
        try:
            context.load_cert_chain(str(certfile), str(keyfile), password=_no_passphrase)
        except _EncryptedKeyError as err:
            raise TlsFileError(
                "keyfile",
                f"{keyfile} is encrypted (it wants a pass phrase, and a service cannot type "
                "one); decrypt it: openssl pkey -in KEY -out PLAIN_KEY, readable by edgecam only",
            ) from err
        except ssl.SSLError as err:
            raise TlsFileError(
                "certfile",
                f"{certfile} and {keyfile} are not a PEM certificate and its private key "
                f"({err.reason or err}); check both files",
            ) from err
    return context


def _load(path: Path, key: str, what: str, load: Callable[[], None]) -> None:
    if (why := unreadable(path, key)) is not None:
        raise TlsFileError(key, why)
    try:
        load()
    except (ssl.SSLError, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        raise TlsFileError(key, f"{path} is not a PEM {what} ({reason}); check the file") from err
