"""The recorder's options: the one table of them, and what is derived from it.

``OPTIONS`` lists every ``shadowtape_*`` option once (name, type, default, help, and the
``shadowtape record`` flag when there is one); the addon declares them from it
(``declare``), knows from it what a change rebuilds (``WORKER_OPTIONS``,
``FILTER_OPTIONS``), and the command adds its flags (``add_flags``), names them in errors
(``FLAGS``) and turns them into mitmdump's settings (``settings``) from it. What the
values mean is ``values``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Optional

WORKERS = ("process", "thread")
COMPRESSIONS = ("zstd", "snappy", "gzip", "lz4", "brotli", "none")

#: What a change of the option rebuilds: the worker, the filter, or nothing (reporting).
Scope = Literal["worker", "filter", "report"]


@dataclass(frozen=True, slots=True)
class Flag:
    """How ``shadowtape record`` offers an option: its flag and one line of help."""

    name: str
    help: str
    metavar: str | None = None
    required: bool = False

    @property
    def dest(self) -> str:
        return self.name.removeprefix("--").replace("-", "_")


@dataclass(frozen=True, slots=True)
class Option:
    """One recorder option, as mitmproxy declares it and ``shadowtape record`` offers it."""

    name: str
    typespec: Any
    default: Any
    #: One paragraph, shown by ``mitmdump --options``.
    help: str
    scope: Scope
    choices: tuple[str, ...] | None = None
    #: The command's flag for it; None when only ``--set`` gives it.
    flag: Flag | None = None

    @property
    def repeated(self) -> bool:
        """A list option: each ``--set`` (or flag) adds a value."""
        return bool(self.typespec == Sequence[str])


def _filters() -> list[Option]:
    made = []
    for kind, what, example in (
        (
            "host",
            "host name globs (e.g. *.example.com), matched case-insensitively "
            "against the Host the client asked for",
            "*.example.com",
        ),
        ("path", "regular expressions searched in the request path (without the query)", "^/api/"),
        ("method", "HTTP methods (e.g. GET, POST)", "GET"),
    ):
        for verb, help in (
            (
                "include",
                f"Record only flows matching one of these {what}. Empty records all. "
                "Repeat --set to give several.",
            ),
            (
                "exclude",
                f"Never record flows matching one of these {what}; exclusion wins over "
                "inclusion. Repeat --set to give several.",
            ),
        ):
            made.append(
                Option(
                    f"shadowtape_{verb}_{kind}",
                    Sequence[str],
                    [],
                    help,
                    "filter",
                    flag=Flag(
                        f"--{verb}-{kind}",
                        f"{verb} flows by {kind} (e.g. {example}; repeatable)",
                        metavar=kind.upper(),
                    ),
                )
            )
    return made


# Optional[str], not str | None: mitmproxy 11 compares typespecs to Optional[str].
OPTIONS: tuple[Option, ...] = (
    Option(
        "shadowtape_tapes",
        Optional[str],  # noqa: UP045
        None,
        "Where shadowtape writes tapes: a folder (created when missing) or a pyarrow "
        "filesystem URI such as s3://bucket/tapes. Parts land under "
        "source=NAME/date=YYYY-MM-DD/hour=HH/. Recording is off while this is unset.",
        "worker",
        flag=Flag(
            "--tapes", "tape folder (created) or filesystem URI", metavar="DIR", required=True
        ),
    ),
    Option(
        "shadowtape_source",
        str,
        "",
        "The source name stored with every exchange and used as the tape partition "
        "(source=NAME); empty means this machine's host name (the pod name in Kubernetes).",
        "worker",
        flag=Flag("--source", "source name (default: this host's name)"),
    ),
    Option(
        "shadowtape_sample",
        str,
        "1",
        "Fraction of matching flows to record, in (0, 1], as a number or a percentage "
        "(0.1 or 10%). Sampling is random per flow and applied after the filters.",
        "filter",
        flag=Flag("--sample", "share of flows to record: 0.1 or 10%%"),
    ),
    *_filters(),
    Option(
        "shadowtape_max_body",
        str,
        "1m",
        "Bytes of each decoded body kept in the tape (k/m/g suffixes allowed). Longer "
        "bodies are cut to this size and flagged truncated with their full size kept. "
        "It is also where the proxy starts streaming: a body announced longer, or of "
        "unknown length and past this size, goes on to the other side as it arrives, "
        "and only a copy of its first bytes is recorded; server-sent events always "
        "stream.",
        "worker",
        flag=Flag("--max-body", "decoded bytes kept per body (1m)"),
    ),
    Option(
        "shadowtape_sanitize_budget",
        str,
        "250ms",
        "Time the worker may spend sanitizing one exchange, in milliseconds or with a "
        "unit (250, 250ms, 1.5s). A body not sanitized in time is dropped, and the "
        "exchange is written without it and with the redaction 'request.body: dropped "
        "(sanitize budget)' (or response.body), so a hostile body costs about this much "
        "and never delays the exchanges behind it by more.",
        "worker",
        flag=Flag("--sanitize-budget", "sanitizing time per exchange (250ms)", metavar="TIME"),
    ),
    Option(
        "shadowtape_rules",
        Optional[str],  # noqa: UP045
        None,
        "A TOML file of extra sanitizing rules (header names, JSON paths, key patterns, "
        "regexes) and allow-listed fields. The built-in rules always apply. The key for "
        "pseudonyms comes from the SHADOWTAPE_SANITIZE_KEY environment variable.",
        "worker",
        flag=Flag("--rules", "extra sanitizing rules (TOML)", metavar="FILE"),
    ),
    Option(
        "shadowtape_roll_rows",
        int,
        100_000,
        "Close the current tape part and start a new one after this many exchanges.",
        "worker",
        flag=Flag("--roll-rows", "exchanges per part"),
    ),
    Option(
        "shadowtape_roll_bytes",
        str,
        "128m",
        "Close the current tape part after it reaches this size on disk (k/m/g suffixes).",
        "worker",
        flag=Flag("--roll-bytes", "bytes per part (128m)"),
    ),
    Option(
        "shadowtape_roll_age",
        int,
        60,
        "Close the current tape part after this many seconds, so exchanges become "
        "readable at least this often; a crash loses at most this window.",
        "worker",
        flag=Flag("--roll-age", "seconds before a part is closed (60)"),
    ),
    Option(
        "shadowtape_compression",
        str,
        "zstd",
        "Parquet compression of tape parts. zstd is small and fast to read; 'none' "
        "leaves values readable in the raw file, which tests use to prove no secret "
        "reaches disk.",
        "worker",
        choices=COMPRESSIONS,
    ),
    Option(
        "shadowtape_queue",
        int,
        10_000,
        "How many exchanges may wait in the proxy's memory for the recorder's worker; "
        "beyond that new ones are dropped and counted rather than slowing traffic.",
        "worker",
    ),
    Option(
        "shadowtape_worker",
        str,
        "process",
        "Where sanitizing and writing run: 'process' (a worker process on another core, "
        "so the proxy keeps its CPU) or 'thread' (in the proxy's process, competing "
        "with it for the Python GIL).",
        "worker",
        choices=WORKERS,
    ),
    Option(
        "shadowtape_stats_file",
        Optional[str],  # noqa: UP045
        None,
        "Write the recorder's counters as JSON to this file every second (replaced "
        "atomically); `shadowtape record` reads it for its live line.",
        "report",
    ),
    Option(
        "shadowtape_log_interval",
        int,
        10,
        "Seconds between two warnings about the same recording problem (dropped or "
        "failed exchanges); each warning says how many since the last one.",
        "worker",
    ),
)

#: Options whose change needs a new worker (everything but the filters and reporting).
WORKER_OPTIONS = frozenset(o.name for o in OPTIONS if o.scope == "worker")
FILTER_OPTIONS = frozenset(o.name for o in OPTIONS if o.scope == "filter")
#: The flag each option comes from, to name it in an error.
FLAGS = {o.name: o.flag.name for o in OPTIONS if o.flag is not None}


def declare(loader: Any) -> None:
    """Declare every option with mitmproxy's loader (the addon's ``load``)."""
    for o in OPTIONS:
        default = list(o.default) if o.repeated else o.default
        choices = list(o.choices) if o.choices is not None else None
        loader.add_option(o.name, o.typespec, default, o.help, choices=choices)


def add_flags(parser: argparse.ArgumentParser) -> None:
    """``shadowtape record``'s flag for every option that has one."""
    for o in OPTIONS:
        flag = o.flag
        if flag is None:
            continue
        extra: dict[str, Any] = {"help": flag.help}
        if flag.metavar is not None:
            extra["metavar"] = flag.metavar
        if flag.required:
            extra["required"] = True
        elif o.repeated:
            extra |= {"action": "append", "default": []}
        else:
            extra["default"] = o.default
        if o.typespec is int:
            extra["type"] = int
        parser.add_argument(flag.name, **extra)


def settings(values: argparse.Namespace, replaced: set[str]) -> list[str]:
    """The ``OPTION=VALUE`` settings for mitmdump from the command's flags.

    An option in ``replaced`` (given by ``--set``) is left out, except a list option,
    which takes the values of both; so is a flag left unset.
    """
    scalars, lists = [], []
    for o in OPTIONS:
        if o.flag is None:
            continue
        value = getattr(values, o.flag.dest)
        if o.repeated:
            lists += [f"{o.name}={item}" for item in value]
        elif o.name not in replaced and _given(value, o):
            scalars.append(f"{o.name}={value}")
    return scalars + lists


def _given(value: object, option: Option) -> bool:
    # An empty --rules means no file, as mitmproxy reads an empty optional value.
    return value is not None and (value != "" or option.default is not None)
