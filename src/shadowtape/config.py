"""Configuration files: ``shadowtape.toml`` or ``[tool.shadowtape]`` in pyproject.toml.

One table per command, keys named like its long flags (``--fail-on`` is ``fail-on``)::

    [replay]
    candidate = "http://127.0.0.1:8081"
    concurrency = 16
    header = ["Authorization: Bearer $STAGING_TOKEN"]

Precedence: flags, then the file, then built-in defaults. The file is found from the
working folder upward (the first shadowtape.toml, or pyproject.toml with a
[tool.shadowtape] table), or named with ``--config``. Values go through the same parsing as
flags, so a config error names the file, the key and what is valid.
"""

from __future__ import annotations

import argparse
import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shadowtape.errors import ConfigError

CONFIG_NAME = "shadowtape.toml"


@dataclass(frozen=True, slots=True)
class Config:
    """The tables of one configuration file, by command name."""

    path: Path | None = None
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)


def find_config(start: Path | None = None) -> Path | None:
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        own = candidate / CONFIG_NAME
        if own.is_file():
            return own
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and "shadowtape" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """The configuration at `path`, or the one found upward from here, or an empty one."""
    found = Path(path) if path is not None else find_config()
    if found is None:
        return Config()
    if found.is_dir():
        raise ConfigError(f"{found}: a folder, not a configuration file (name the .toml file)")
    if not found.is_file():
        raise ConfigError(f"{found}: no such configuration file")
    data = _read(found)
    if found.name == "pyproject.toml":
        data = data.get("tool", {}).get("shadowtape", {})
    tables: dict[str, dict[str, Any]] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(
                f"{found}: '{name} = ...' is outside any table: put options under their "
                "command's table, such as [replay]"
            )
        tables[name] = table
    return Config(found, tables)


def _actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Long option name without dashes -> action, for every optional flag."""
    found = {}
    for action in parser._actions:
        for option in action.option_strings:
            if option.startswith("--") and option not in ("--help", "--debug", "--config"):
                found[option[2:]] = action
    return found


def apply_config(config: Config, subparsers: dict[str, argparse.ArgumentParser]) -> None:
    """Set each command's flag defaults from its table, checking every key and value."""
    where = str(config.path)
    for command, table in config.commands.items():
        if command not in subparsers:
            hint = _hint(command, list(subparsers))
            raise ConfigError(f"{where}: [{command}] is not a shadowtape command{hint}")
        parser = subparsers[command]
        actions = _actions(parser)
        defaults = {}
        for key, value in table.items():
            action = actions.get(key) or actions.get(key.replace("_", "-"))
            if action is None:
                hint = _hint(key, list(actions))
                raise ConfigError(f"{where}: [{command}] has no option '{key}'{hint}")
            defaults[action.dest] = _convert(where, command, key, action, value)
            action.required = False  # the file supplies it; a flag still overrides
        parser.set_defaults(**defaults)


def _hint(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _convert(where: str, command: str, key: str, action: argparse.Action, value: Any) -> Any:
    label = f"{where}: [{command}] {key}"
    if isinstance(action, argparse.BooleanOptionalAction):  # --x / --no-x: x = true|false
        if not isinstance(value, bool):
            raise ConfigError(f"{label} must be true or false, not {value!r}")
        return value if key.replace("_", "-") == action.dest.replace("_", "-") else not value
    if action.nargs == 0 and isinstance(action.const, bool):  # a flag (store_true, ...)
        if not isinstance(value, bool):
            raise ConfigError(f"{label} must be true or false, not {value!r}")
        return action.const if value else action.default
    if isinstance(action, argparse._AppendAction):
        items = value if isinstance(value, list) else [value]
        return [_one(label, action, item) for item in items]
    if action.nargs in ("+", "*") and isinstance(value, list):
        return [_one(label, action, item) for item in value]
    if isinstance(value, list | dict):
        raise ConfigError(f"{label} takes one value, not {type(value).__name__}")
    return _one(label, action, value)


def _one(label: str, action: argparse.Action, value: Any) -> Any:
    if isinstance(value, dict | list):
        raise ConfigError(f"{label}: {value!r} is not a single value")
    converter = action.type
    try:
        result = converter(str(value)) if callable(converter) else value
    except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
        raise ConfigError(f"{label}: {value!r} is not valid ({exc})") from None
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    if action.choices is not None and result not in action.choices:
        valid = ", ".join(str(c) for c in action.choices)
        raise ConfigError(f"{label}: {value!r} is not one of {valid}")
    return result
