"""The config file as the editor changes it: round-trip YAML, validation, atomic writes, secrets.

ruamel.yaml keeps the user's comments, key order and flow style; the edited text is validated
by the same loader ``edgecam run`` uses before anything is written; the previous file stays as
``<name>.bak``; the running service reloads only a file that passed.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from edgecam.config.loader import parse_config
from edgecam.config.yamlfile import nesting_problem
from edgecam.errors import ConfigError

log = logging.getLogger(__name__)

REDACTED = "<redacted>"
_SECRET_KEY = re.compile(r"password|token|secret|keyfile|passphrase", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
DIGITS = 4
"""Decimals kept in coordinates: 1/10,000 of the frame, under a pixel up to 10,000 px."""


class EditRefused(ConfigError):  # noqa: N818 (a ConfigError, named for what the user sees)
    """The edit was not applied; ``problems`` lists why."""


class TooDeepError(ValueError):
    """A document nested too deep to parse (a 400: the request, not the config, is wrong)."""


def redact_value(key: str, value: object) -> object:
    """``value`` as shown to a browser: secrets and passwords in URLs replaced."""
    if _SECRET_KEY.search(key) and value is not None and not isinstance(value, bool | Mapping):
        return REDACTED
    if isinstance(value, str) and _URL_USERINFO.search(value):
        return _URL_USERINFO.sub(rf"\g<scheme>{REDACTED}@", value)
    return value


def _redact(node: object) -> None:
    if isinstance(node, Mapping):
        for key in list(node):
            value = node[key]
            if isinstance(value, Mapping | list):
                _redact(value)
            else:
                node[key] = redact_value(str(key), value)  # type: ignore[index]
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, Mapping | list):
                _redact(item)
            else:
                node[index] = redact_value("", item)


def _restore(new: object, old: object) -> None:
    """Put back secrets the browser only saw redacted (a value left as shown means unchanged)."""
    if isinstance(new, Mapping) and isinstance(old, Mapping):
        for key in list(new):
            if key not in old:
                continue
            if isinstance(new[key], Mapping | list):
                _restore(new[key], old[key])
            elif new[key] != old[key] and new[key] == redact_value(str(key), old[key]):
                new[key] = old[key]  # type: ignore[index]
    elif isinstance(new, list) and isinstance(old, list):
        for index, item in enumerate(new[: len(old)]):
            if isinstance(item, Mapping | list):
                _restore(item, old[index])
            elif item != old[index] and item == redact_value("", old[index]):
                new[index] = old[index]


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, order and styles survive
    yaml.preserve_quotes = True
    yaml.width = 4096  # a polygon stays on one line
    yaml.indent(mapping=2, sequence=4, offset=2)  # "  - item", as in the docs' examples
    return yaml


def _flow(items: Sequence[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _points(points: Sequence[Sequence[float]]) -> CommentedSeq:
    return _flow([_flow([round(float(x), DIGITS), round(float(y), DIGITS)]) for x, y in points])


class ConfigEditor:
    """Reads, validates and writes the config file; ``reload()`` makes the service apply it."""

    def __init__(self, path: Path | None, writable: bool, reload: Callable[[], bool]) -> None:
        self.path = path
        self.writable = writable and path is not None
        self._reload = reload
        self._lock = threading.Lock()
        if self.writable and path is not None:
            remove_orphans(path)

    def _text(self) -> str:
        if self.path is None:
            raise EditRefused("running the built-in demo without a config file: nothing to edit")
        try:
            return self.path.read_text(encoding="utf-8")
        except OSError as err:
            raise EditRefused(f"{self.path}: cannot read the config file: {err}") from err

    def _load(self, text: str, source: str) -> Any:
        if (why := nesting_problem(text, source)) is not None:
            raise TooDeepError(why)  # before the parser, which recurses per level
        try:
            return _yaml().load(text)
        except YAMLError as err:
            raise EditRefused(f"{source}: YAML syntax error: {err}".replace("\n", " ")) from err

    def shown(self) -> str:
        """The config file's text with every secret redacted (comments kept)."""
        doc = self._load(self._text(), str(self.path))
        _redact(doc)
        return _dump(doc)

    def with_areas(self, camera: str, areas: Mapping[str, Any]) -> str:
        """The file's text with ``camera``'s zones, lines and masks replaced by ``areas``.

        ``areas``: ``zones: {name: [[x, y], ...]}``, ``lines: {name: [[x, y], [x, y]]}``,
        ``masks: [[[x, y], ...], ...]``. Other keys of an existing zone, line or mask stay.
        """
        doc = self._load(self._text(), str(self.path))
        cameras = doc.get("cameras") if isinstance(doc, Mapping) else None
        if not isinstance(cameras, Mapping) or not isinstance(cameras.get(camera), Mapping):
            raise EditRefused(f"{self.path}: no camera {camera!r} under cameras:")
        cam = cameras[camera]
        for key, field in (("zones", "polygon"), ("lines", "points")):
            if key in areas:
                cam[key] = _merge_named(cam.get(key), areas[key], field)
                if not cam[key]:
                    del cam[key]
        if "masks" in areas:
            old = cam.get("masks") or []
            masks = CommentedSeq()
            for index, polygon in enumerate(areas["masks"]):
                entry = (
                    old[index]
                    if index < len(old) and isinstance(old[index], Mapping)
                    else CommentedMap()
                )
                entry["polygon"] = _points(polygon)
                masks.append(entry)
            if masks:
                cam["masks"] = masks
            else:
                cam.pop("masks", None)
        return _dump(doc)

    def with_text(self, text: str) -> str:
        """A whole edited file as the browser sent it, with its redacted secrets put back."""
        doc = self._load(text, "edited config")
        _restore(doc, self._load(self._text(), str(self.path)))
        return _dump(doc)

    def validate(self, text: str) -> None:
        """Raise :class:`EditRefused` with every problem the loader finds in ``text``."""
        assert self.path is not None
        try:
            # As check-config and a reload do: the files it names, the model and the labels too.
            parse_config(text, str(self.path), base_dir=self.path.parent, check_machine=True)
        except ConfigError as err:
            raise EditRefused(err.problems) from err

    def apply(self, text: str) -> dict[str, object]:
        """Validate, back up, write atomically, then reload; the file is untouched if refused."""
        if not self.writable:
            raise PermissionError("writing the config is off; set http.allow_config_write: true")
        assert self.path is not None
        with self._lock:
            self.validate(text)
            if text == self._text():
                # The same bytes: writing would only overwrite the backup with them (and lose
                # the previous file), and a reload would apply nothing.
                log.info("config apply from the web editor: nothing changed, nothing written")
                return {"ok": True, "written": None, "backup": None, "applied": False}
            backup = self.path.with_name(self.path.name + ".bak")
            _write_atomically(self.path, text, backup)
            backup = self.path.resolve().with_name(self.path.resolve().name + ".bak")
            log.info("config written by the web editor (previous file kept as %s)", backup)
            applied = self._reload()
        return {"ok": True, "written": str(self.path), "backup": str(backup), "applied": applied}


def _merge_named(old: Any, new: Mapping[str, Any], field: str) -> CommentedMap:
    """Named areas as sent, keeping the other keys (and comments) of those that already exist."""
    out = CommentedMap()
    for name, points in new.items():
        entry = (
            old[name] if isinstance(old, Mapping) and isinstance(old.get(name), Mapping) else None
        )
        if entry is None:
            entry = CommentedMap()
            entry.fa.set_flow_style()
        entry[field] = _points(points)
        out[str(name)] = entry
    if isinstance(old, CommentedMap):
        out.fa.set_flow_style() if old.fa.flow_style() else out.fa.set_block_style()
    return out


def _dump(doc: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(doc, buffer)
    return buffer.getvalue()


def remove_orphans(path: Path) -> None:
    """Delete temporary files an interrupted write (``kill -9``) left beside the config."""
    target = path.resolve()
    for orphan in target.parent.glob(f".{target.name}.*.tmp"):
        try:
            orphan.unlink()
        except OSError as err:
            log.warning("cannot remove %s, left by an interrupted edit: %s", orphan, err)
        else:
            log.warning("removed %s, left by an interrupted edit", orphan)


def _write_atomically(link: Path, text: str, backup: Path) -> None:
    """Write a temporary file beside ``path``, flush it to disk, keep the old one, rename.

    A config reached through a symlink is written to the link's target (the link stays a link).
    """
    path = link.resolve()
    backup = path.with_name(path.name + ".bak") if path != link else backup
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).chmod(mode)
        if path.exists():
            shutil.copy2(path, backup)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
