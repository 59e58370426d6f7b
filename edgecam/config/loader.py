"""Read a YAML config and report every problem with its key path and YAML line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from edgecam.config.models import MAX_CAMERAS, Config
from edgecam.config.yamlfile import parse_yaml, read_config_text
from edgecam.errors import ConfigError

Loc = tuple[str | int, ...]


def load_config(path: str | Path, *, check_machine: bool = False) -> Config:
    """Load and validate the config file at ``path``; raise :class:`ConfigError` on any problem.

    The file must be a regular file of bounded size whose YAML stays bounded when its aliases
    are expanded (:mod:`edgecam.config.yamlfile`), so a bad file can never hang or fill memory.
    With ``check_machine`` the files it names, the model and the rules' labels are checked too
    (:mod:`edgecam.config.check`): ``check-config``, ``run`` and a reload all do.
    """
    source = Path(path)
    text = read_config_text(source)
    return parse_config(text, str(source), base_dir=source.parent, check_machine=check_machine)


def parse_config(
    text: str,
    source: str = "<config>",
    base_dir: Path | None = None,
    *,
    check_machine: bool = False,
) -> Config:
    """Validate YAML ``text``; relative paths in it are resolved against ``base_dir``."""
    data, lines = parse_yaml(text, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}:1: the config must be a mapping of sections (device, model, ...)"
        )
    context = {"base_dir": base_dir or Path.cwd()}
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as err:
        # Every problem in one run: the schema's, and the machine's for the sections that
        # validated on their own (their files, the model, the labels).
        problems = format_errors(err, source, lines)
        if check_machine:
            from edgecam.config.check import section_problems

            found = section_problems(_valid_sections(data, context))
            problems += [_at(source, lines, loc, message) for loc, message in found]
        raise ConfigError(problems) from err
    problems = [_at(source, lines, loc, message) for loc, message in config.reference_problems()]
    if check_machine:
        from edgecam.config.check import machine_problems

        problems += [_at(source, lines, loc, message) for loc, message in machine_problems(config)]
    if problems:
        raise ConfigError(problems)
    return config


def _valid_sections(data: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Each top-level section that validates on its own (defaults for those not given)."""
    sections: dict[str, Any] = {}
    for name, field in Config.model_fields.items():
        try:
            if name in data and field.annotation is not None:
                adapter: TypeAdapter[Any] = TypeAdapter(field.annotation)
                sections[name] = adapter.validate_python(data[name], context=context)
            elif not field.is_required():
                sections[name] = field.get_default(call_default_factory=True)
        except ValidationError:
            continue
    return sections


def _at(source: str, lines: dict[Loc, int], loc: Loc, message: str) -> str:
    known: Loc = ()
    for part in loc:
        if (*known, part) in lines:
            known = (*known, part)
    dotted = ".".join(str(p) for p in loc) or "(top level)"
    return f"{source}:{lines.get(known, 1)}: {dotted}: {message}"


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
        elif item["type"] == "too_long" and path == ("cameras",):
            message = (
                f"at most {MAX_CAMERAS} cameras in one config (they share one detector, and the "
                "service's thread limit is sized for them); run a second device for more"
            )
        elif item["type"] == "missing":
            missing = item["loc"][-1]
            dotted = ".".join(str(p) for p in (*path, missing))
            message = "required key is missing"
        elif "input" in item and not isinstance(item["input"], dict | list):
            message = f"{message} (got {item['input']!r})"
        problems.append(f"{source}:{line}: {dotted}: {message}")
    return problems
