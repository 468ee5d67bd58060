"""The `shadowtape` command: parses arguments, dispatches, and turns errors into one line.

Each subcommand lives in its own module under ``shadowtape.commands`` and exposes
``NAME``, ``HELP``, ``EXAMPLES`` (shown under --help), ``add_arguments(parser)`` and
``run(args) -> int``; this module finds them, so adding a command touches nothing here.
Exit codes (docs/exit-codes.md): 0 all is well, 1 the gate found regressions, 2 the run
could not say (usage or input errors, a selection that matched nothing, a target that
answered nothing), 3 an internal error (a bug: please report).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import pkgutil
import re
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from shadowtape import __version__, commands
from shadowtape.config import Config, apply_config, load_config
from shadowtape.errors import ShadowtapeError, os_error_line

ORDER = ("record", "replay", "report", "show", "inspect", "import", "export")
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
        unknown = _UNKNOWN_COMMAND.match(message)
        if unknown:
            word, names = unknown.group(1), list(getattr(self, "commands", {}))
            close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else f"; commands: {', '.join(names)}"
            message = f"unknown command '{word}'{hint}"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        """A subcommand's unknown flag is its first error (before "--candidate is
        required", which a mistyped --candidat would otherwise get)."""
        if args is not None and not self._subparsers:
            flags = {flag for action in self._actions for flag in action.option_strings}
            for arg in args:
                if arg == "--":
                    break
                word = arg.split("=", 1)[0]
                if word.startswith("--") and len(word) > 2 and word not in flags:
                    self._unknown(word)
        return super().parse_known_args(args, namespace)

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        """Unknown arguments are the subcommand's error, with the flag it probably meant."""
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            command = getattr(self, "commands", {}).get(getattr(parsed, "command", None), self)
            if extra[0].startswith("--"):
                command._unknown(extra[0].split("=", 1)[0])
            command.error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed

    def _unknown(self, word: str) -> None:
        """One line for a flag this command does not have, with the one it probably meant."""
        flags = [flag for action in self._actions for flag in action.option_strings]
        starts = [flag for flag in flags if flag.startswith(word)]
        close = starts[:1] or difflib.get_close_matches(word, flags, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else ""
        self.error(f"unrecognized argument {word}{hint}")


#: argparse's words for a subcommand it does not know.
_UNKNOWN_COMMAND = re.compile(r"argument COMMAND: invalid choice: '([^']*)'")


class _Help(argparse.RawDescriptionHelpFormatter):
    """Examples kept as written; every flag's default said, unless its help says it or
    there is none to say (a flag that is off, a value that is not set)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if not action.option_strings or "default" in text or text == argparse.SUPPRESS:
            return text
        if f"({default})" in text:  # said already, as record's option table does: "(1m)"
            return text
        if default is None or default is False or default == [] or default is argparse.SUPPRESS:
            return text
        return f"{text} (default: %(default)s)"


_EXIT_CODES = """exit codes:
  0    all is well
  1    the gate found regressions (replay, report)
  2    the run could not say: a usage or input error, a selection that matched no
       exchanges, a target that answered none of its first requests
  3    an internal error (a bug: please report it)
  130  interrupted (a replay keeps the results so far)"""

_EPILOG = f"""examples:
  shadowtape record --upstream http://127.0.0.1:8080 --listen 8081 --tapes tapes/
  shadowtape inspect tapes/ --since 2026-11-21T09:58Z --status 5xx
  shadowtape replay tapes/ --candidate http://127.0.0.1:8081 --pace asap --limit 5000
  shadowtape show 01JD3Q5K7Y9W2X4V6T8R0P1M3N shadowtape-runs/<run>/

'shadowtape COMMAND --help' lists a command's flags with their defaults and examples.

{_EXIT_CODES}"""


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
        epilog=_EPILOG,
        formatter_class=_Help,
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
        command = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.HELP,
            usage=getattr(module, "USAGE", None),
            epilog=f"examples:\n{module.EXAMPLES.strip(chr(10))}\n\n{_EXIT_CODES}",
            formatter_class=_Help,
        )
        module.add_arguments(command)
        # After the command's own flags, so its usage line starts with what it needs.
        command.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show tracebacks and debug logs on errors",
        )
        command.add_argument(
            "--config",
            metavar="FILE",
            default=argparse.SUPPRESS,
            help=f"configuration file; its [{module.NAME}] table sets this command's flag defaults",
        )
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
