"""`shadowtape inspect TAPES...`: what is in a tape, for a person or (--json) a script."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from shadowtape.commands._selection import add_selection_arguments, selection_filter
from shadowtape.errors import ConfigError
from shadowtape.inspect import MAX_IDS, listing, summarize

NAME = "inspect"
HELP = "Summarize tapes: exchanges, time range, methods, statuses, paths, redactions, errors."

EXAMPLES = """
  # What a tape holds:
  shadowtape inspect tapes/

  # The server errors of an incident's window, and their ids (for shadowtape show):
  shadowtape inspect tapes/ --since 2026-11-21T09:58Z --until 2026-11-21T10:05Z \\
      --status 5xx --ids

  # For a script:
  shadowtape inspect tapes/ --json | jq .methods
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "tapes", nargs="+", metavar="TAPES", help="tape files, folders, globs or URIs"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the summary as JSON, with the first 1000 ids (all of them with --ids)",
    )
    parser.add_argument(
        "--ids",
        dest="list_ids",
        action="store_true",
        help="list every exchange kept, one a line: id, time, method, path, status "
        "(for shadowtape show ID)",
    )
    parser.add_argument(
        "--top", type=int, default=10, metavar="N", help="how many top paths to list"
    )
    add_selection_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise ConfigError(f"--top must be 1 or more, not {args.top}")
    if args.list_ids and not args.json:
        for id_, at, method, target, status in listing(args.tapes, filter=selection_filter(args)):
            print(f"{id_}  {at.isoformat()}  {method} {target}  {status or '-'}")
        return 0
    summary = summarize(
        args.tapes,
        filter=selection_filter(args),
        top=args.top,
        max_ids=None if args.list_ids else MAX_IDS,
    )
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
        return 0
    _print(summary, Console(highlight=False))
    return 0


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _counts(title: str, counts: dict[str, int]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold underline")
    table.add_column(title, no_wrap=True, overflow="fold")
    table.add_column("count", justify="right")
    for key, value in counts.items():
        table.add_row(key or "(none)", f"{value:,}")
    return table


def _print(s: dict[str, Any], console: Console) -> None:
    console.print(
        f"[bold]{s['exchanges']:,} exchanges[/] in {s['parts']} part(s), "
        f"{_size(s['bytes_on_disk'])} on disk (schema {', '.join(s['schema_versions']) or '-'})"
    )
    if s["first"]:
        console.print(f"from {s['first']} to {s['last']}")
    bodies = s["body_bytes"]
    console.print(
        f"bodies: {_size(bodies['request'])} in requests, {_size(bodies['response'])} in "
        f"responses; {s['truncated_bodies']:,} truncated"
    )
    if s["dropped_while_recording"]:
        console.print(
            f"[yellow]{s['dropped_while_recording']:,} exchanges were dropped while recording "
            "(the recorder's queue was full)[/]"
        )
    for title, key in (
        ("sources", "sources"),
        ("methods", "methods"),
        ("status classes", "status_classes"),
        (f"top paths (of {s['distinct_paths']:,})", "top_paths"),
        ("redactions by location", "redactions"),
        ("errors by kind", "errors"),
    ):
        if s[key]:
            console.print()
            console.print(_counts(title, s[key]))
