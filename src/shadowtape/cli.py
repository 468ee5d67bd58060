"""The `shadowtape` command: parses arguments, dispatches, and turns errors into one line.

Each subcommand lives in its own module under ``shadowtape.commands`` and exposes
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; this module finds
them, so adding a command touches nothing here. Exit codes: 0 all is well, 1 the gate
found regressions, 2 usage or input errors, 3 an internal error (a bug: please report).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from shadowtape import __version__, commands
from shadowtape.config import Config, apply_config, load_config
from shadowtape.errors import ShadowtapeError, os_error_line

ORDER = ("record", "replay", "report", "inspect", "import", "export")
EXIT_OK, EXIT_GATE, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
#: 128 + SIGPIPE, as a shell reports a command whose reader closed the pipe.
EXIT_BROKEN_PIPE = 141


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line plus a pointer to --help, exit 2."""

    #: The subcommands' parsers, by name (on the top-level parser).
    commands: dict[str, argparse.ArgumentParser]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No abbreviations: `replay --allow` would quietly mean --allow-mutating.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        """Unknown flags are the subcommand's error, with the flag it probably meant."""
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            command = getattr(self, "commands", {}).get(getattr(parsed, "command", None), self)
            flags = [flag for action in command._actions for flag in action.option_strings]
            word = extra[0].split("=", 1)[0]
            starts = [flag for flag in flags if word.startswith("--") and flag.startswith(word)]
            close = starts[:1] or difflib.get_close_matches(word, flags, n=1, cutoff=0.8)
            hint = f"; did you mean {close[0]}?" if close else ""
            command.error(f"unrecognized arguments: {' '.join(extra)}{hint}")
        return parsed


def _modules() -> list[ModuleType]:
    found = [
        importlib.import_module(f"shadowtape.commands.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(found, key=lambda m: (rank.get(m.NAME, len(ORDER)), m.NAME))


def build_parser(config: Config | None = None) -> argparse.ArgumentParser:
    """The full parser; a config file's tables become its commands' flag defaults."""
    parser = _Parser(
        prog="shadowtape",
        description="Record production HTTP traffic, sanitized, and replay it against a "
        "candidate build in shadow mode.",
    )
    parser.add_argument("--version", action="version", version=f"shadowtape {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and debug logs on errors"
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: shadowtape.toml, or [tool.shadowtape] in "
        "pyproject.toml, found from here upward); flags override it",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    commands: dict[str, argparse.ArgumentParser] = {}
    for module in _modules():
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
        command.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
        commands[module.NAME] = command
    if config is not None:
        apply_config(config, commands)
    parser.commands = commands
    return parser


def _config_flag(argv: Sequence[str]) -> str | None:
    """--config is needed before parsing, since the file sets the parser's defaults."""
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return None


def _pipe_errors_reach_main() -> None:
    """rich exits with 1 on a closed pipe (its ``on_broken_pipe``), which reads as "the
    gate found regressions"; let the error reach main's handler instead."""
    from rich.console import Console

    def broken(self: Console) -> None:
        raise BrokenPipeError

    Console.on_broken_pipe = broken  # type: ignore[method-assign]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(load_config(_config_flag(argv)))
    except ShadowtapeError as exc:
        if "--debug" in argv:
            raise
        print(f"shadowtape: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    _pipe_errors_reach_main()
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="shadowtape: %(levelname)s: %(message)s",
    )
    try:
        return int(args._run(args))
    except ShadowtapeError as exc:
        if debug:
            raise
        print(f"shadowtape {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"shadowtape {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (| head): the rest of the output is nobody's; say so with
        # the shell's own code for it, not 0 (all is well) nor 1 (regressions).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        # A path that is a file, a folder that cannot be made, a full disk: the machine's
        # answer, not a bug.
        if debug:
            raise
        print(
            f"shadowtape {args.command}: error: {os_error_line(exc)}; check the path, "
            "its permissions and the free space",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except Exception as exc:
        if debug:
            raise
        print(
            f"shadowtape {args.command}: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
