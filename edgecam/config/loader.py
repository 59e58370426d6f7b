"""Read a YAML config and report every problem with its key path and YAML line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from edgecam.config.models import Config
from edgecam.errors import ConfigError

Loc = tuple[str | int, ...]


def load_config(path: str | Path) -> Config:
    """Load and validate the config file at ``path``; raise :class:`ConfigError` on any problem."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(f"{source}: config file not found; check the path") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{source}: cannot read config file: {err}") from err
    return parse_config(text, str(source), base_dir=source.parent)


def parse_config(text: str, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate YAML ``text``; relative paths in it are resolved against ``base_dir``."""
    data, lines = _compose(text, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}:1: the config must be a mapping of sections (device, model, ...)"
        )
    try:
        config = Config.model_validate(data, context={"base_dir": base_dir or Path.cwd()})
    except ValidationError as err:
        raise ConfigError(format_errors(err, source, lines)) from err
    if problems := config.reference_problems():
        raise ConfigError([_at(source, lines, loc, message) for loc, message in problems])
    return config


def _at(source: str, lines: dict[Loc, int], loc: Loc, message: str) -> str:
    known: Loc = ()
    for part in loc:
        if (*known, part) in lines:
            known = (*known, part)
    dotted = ".".join(str(p) for p in loc) or "(top level)"
    return f"{source}:{lines.get(known, 1)}: {dotted}: {message}"


def _compose(text: str, source: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML and map every key path to its 1-based line number."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(f"{where}: YAML syntax error: {err.problem}; fix the YAML") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: YAML error: {err}") from err
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def _walk(node: yaml.Node, path: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def format_errors(err: ValidationError, source: str, lines: dict[Loc, int]) -> list[str]:
    """One line per problem: ``file:line: key.path: what was expected``."""
    problems = []
    for item in err.errors(include_url=False):
        path: Loc = ()
        for part in item["loc"]:
            # Tagged-union and validator segments are not keys in the YAML; skip them.
            if (*path, part) in lines:
                path = (*path, part)
        line = lines.get(path, 1)
        dotted = ".".join(str(p) for p in path) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key; check its spelling against `edgecam schema`"
        elif item["type"] == "missing":
            missing = item["loc"][-1]
            dotted = ".".join(str(p) for p in (*path, missing))
            message = "required key is missing"
        elif "input" in item and not isinstance(item["input"], dict | list):
            message = f"{message} (got {item['input']!r})"
        problems.append(f"{source}:{line}: {dotted}: {message}")
    return problems
