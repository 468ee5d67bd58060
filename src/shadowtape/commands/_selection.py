"""The selection flags every command that reads tapes shares, mapped onto TapeFilter."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from shadowtape.errors import ConfigError
from shadowtape.tape import TapeFilter, parse_statuses
from shadowtape.tape.filters import parse_rate

T = TypeVar("T")


def parse_time(text: str) -> datetime:
    """ISO 8601 ('2026-11-21T10:00', '2026-11-21 10:00:00+01:00'); naive means UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"time {text!r} is not ISO 8601; write it like 2026-11-21T10:00:00Z"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _argtype(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from a parser that raises ConfigError (argparse wants ValueError)."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__
    return convert


status_type = _argtype(parse_statuses)
time_type = _argtype(parse_time)


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "selection", "every exchange unless these narrow it (all of them must match)"
    )
    group.add_argument(
        "--method", action="append", default=[], help="keep this method (repeatable)"
    )
    group.add_argument("--host", action="append", default=[], help="keep this host (repeatable)")
    group.add_argument(
        "--path", help="keep paths with this prefix, glob (/api/*/orders) or regex (re:^/api/\\d+)"
    )
    group.add_argument(
        "--status",
        type=status_type,
        help="keep these statuses: 404, 5xx, 200-299 (comma-separated)",
    )
    group.add_argument(
        "--since", type=time_type, help="keep exchanges recorded at or after (ISO 8601)"
    )
    group.add_argument("--until", type=time_type, help="keep exchanges recorded before (ISO 8601)")
    group.add_argument(
        "--source", action="append", default=[], help="keep this source (repeatable)"
    )
    group.add_argument(
        "--id",
        action="append",
        default=[],
        dest="ids",
        metavar="ID",
        help="keep this exchange id (repeatable)",
    )
    group.add_argument(
        "--sample",
        type=_rate,
        metavar="RATE",
        help="keep this fraction, chosen by id: 0.1 or 10%%",
    )
    group.add_argument(
        "--limit", type=int, metavar="N", help="keep at most this many exchanges, the first ones"
    )


def _rate(text: str) -> float:
    try:
        return parse_rate("--sample", text)
    except ConfigError as exc:  # argparse words it: "argument --sample: ..."
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--sample: ")) from None


def selection_filter(args: argparse.Namespace) -> TapeFilter:
    return TapeFilter(
        methods=tuple(args.method),
        hosts=tuple(args.host),
        path=args.path,
        statuses=args.status or (),
        since=args.since,
        until=args.until,
        sources=tuple(args.source),
        ids=tuple(args.ids),
        sample=args.sample,
        limit=args.limit,
    )
