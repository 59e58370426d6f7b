"""Reading a config file and its YAML within fixed bounds, whatever the file holds.

A config is a few kilobytes written by hand, so anything far larger is a mistake or an attack:
a FIFO or a device would hang or fill memory, a billion-laughs alias bomb expands a few hundred
bytes into billions of values. Each is one :class:`ConfigError` naming the file (and the line),
found before any of it is expanded, so ``check-config``, ``run`` and a reload stay small and fast.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from edgecam.errors import ConfigError

Loc = tuple[str | int, ...]

MAX_BYTES = 1024 * 1024
"""Largest config file read (1 MiB; a real one is a few KB)."""
MAX_VALUES = 20_000
"""Most YAML values a config may hold, counting every use of an alias in full (a real config
holds a few hundred; a zone of 1,000 points about 3,000)."""
MAX_DEPTH = 100
"""Deepest nesting of YAML collections."""


_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|[\[\]{}\n]')
_DASHES = re.compile(r"(?:-[ \t]+)+")


def nesting_problem(text: str, source: str) -> str | None:
    """Why ``text`` (YAML or JSON) nests too deep to be parsed safely, found by a linear scan.

    Parsers recurse per level: a 100,000-deep document costs seconds and then a RecursionError.
    Flow brackets outside quotes are counted, and for block YAML the indentation and the
    ``- - -`` runs of each line; nothing is parsed.
    """
    depth, line = 0, 1
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return _too_deep(source, line)
        elif token in "]}":
            depth = max(0, depth - 1)
        elif token == "\n":
            line += 1
    for number, row in enumerate(text.split("\n"), 1):
        body = row.lstrip(" ")
        dashes = _DASHES.match(body)
        block = (len(row) - len(body)) // 2 + (dashes.group().count("-") if dashes else 0)
        if block > MAX_DEPTH:
            return _too_deep(source, number)
    return None


def _too_deep(source: str, line: int) -> str:
    return (
        f"{source}:{line}: nested more than {MAX_DEPTH} levels deep; a config needs about 8 "
        "(check the brackets and the indentation)"
    )


def read_config_text(path: Path) -> str:
    """The text of a regular file of at most :data:`MAX_BYTES`; :class:`ConfigError` otherwise."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer that never comes.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: config file not found; check the path") from err
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config file: {err.strerror}") from err
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise ConfigError(f"{path}: {kind}; give the path of a YAML config file")
        data = _read_at_most(fd, MAX_BYTES + 1)
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config file: {err.strerror}") from err
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise ConfigError(
            f"{path}: larger than {MAX_BYTES // 1024} KiB, too large for a config; "
            "is it the right file?"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {err.start}); save the config as UTF-8"
        ) from err


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit and (chunk := os.read(fd, min(65536, limit - size))):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class _Loader(yaml.SafeLoader):
    """A SafeLoader that records where each alias is used (the composer forgets it)."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.source = source
        self.alias_uses: list[tuple[int, str, yaml.Node]] = []
        self.depth = 0
        self.values = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose as usual, noting alias uses and bounding the nesting and the values."""
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            assert node is not None
            line = event.start_mark.line + 1 if event.start_mark is not None else 1
            self.alias_uses.append((line, str(event.anchor), node))
            return node
        self.depth += 1
        self.values += 1
        try:
            if self.depth > MAX_DEPTH or self.values > MAX_VALUES:
                what = (
                    f"nested more than {MAX_DEPTH} levels deep"
                    if self.depth > MAX_DEPTH
                    else f"more than {MAX_VALUES} values"
                )
                line = event.start_mark.line + 1 if event.start_mark is not None else 1
                raise ConfigError(
                    f"{self.source}:{line}: the YAML is {what}, "
                    "far beyond any config; is it the right file?"
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def parse_yaml(text: str, source: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML ``text`` within the bounds; the data and each key path's 1-based line."""
    loader = _Loader(text, source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_expansion(node, loader.alias_uses, source)
        lines: dict[Loc, int] = {}
        _walk(node, (), lines, set(), source)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        raise ConfigError(_syntax_error(err, source)) from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: YAML error: {err}") from err
    finally:
        loader.dispose()
    return data, lines


def _syntax_error(err: yaml.MarkedYAMLError, source: str) -> str:
    problem = err.problem or "invalid YAML"
    context = err.context or ""
    opened = err.context_mark
    if opened is not None and context.startswith("while parsing a flow"):
        # An unclosed [ or { is found only where the file ends: point at where it opened.
        bracket = "[" if "sequence" in context else "{"
        end = err.problem_mark
        found = f", found at line {end.line + 1}" if end is not None else ""
        return (
            f"{source}:{opened.line + 1}: YAML syntax error: the '{bracket}' opened here is not "
            f"closed ({problem}{found}); close it or fix the line"
        )
    mark = err.problem_mark
    where = f"{source}:{mark.line + 1}" if mark is not None else source
    return f"{where}: YAML syntax error: {problem}; fix the YAML"


def _check_expansion(
    root: yaml.Node, alias_uses: list[tuple[int, str, yaml.Node]], source: str
) -> None:
    """Refuse a document whose aliases expand to more than :data:`MAX_VALUES` values."""
    if not alias_uses:
        return
    size = _expanded_sizes()
    if size(root) <= MAX_VALUES:
        return
    line, anchor, _node = max(alias_uses, key=lambda use: size(use[2]))
    raise ConfigError(
        f"{source}:{line}: YAML alias *{anchor} makes the config expand to more than "
        f"{MAX_VALUES} values (an alias bomb?); write the values out or use fewer aliases"
    )


def _expanded_sizes() -> Callable[[yaml.Node], int]:
    """Count values as if every alias were copied out, memoised per node (never expanded)."""
    memo: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        memo[key] = MAX_VALUES + 1  # a recursive alias counts as unbounded
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                total += size(key_node) + size(value_node)
                if total > MAX_VALUES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
                if total > MAX_VALUES:
                    break
        memo[key] = min(total, MAX_VALUES + 1)
        return memo[key]

    return size


def _walk(node: yaml.Node, path: Loc, lines: dict[Loc, int], seen: set[int], source: str) -> None:
    """Map key paths to lines; an aliased node is walked once only, never expanded."""
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[object, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key is not None and key != "<<":
                if (key_node.tag, key) in first:
                    raise ConfigError(
                        f"{source}:{line}: {_dotted((*path, key))}: given twice (first at line "
                        f"{first[key_node.tag, key]}); keep one (YAML would silently use the last)"
                    )
                first[key_node.tag, key] = line
                lines[(*path, key)] = line
            _walk(value_node, (*path, key) if key is not None else path, lines, seen, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, seen, source)


def _dotted(loc: Loc) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"
