"""What the recorder's option values mean: each one parsed and checked in one place.

The addon calls ``selection`` and ``limits`` on mitmproxy's options when it is configured,
and ``shadowtape record`` calls the same two on the options it is about to hand to
mitmdump, so the command refuses before anything starts exactly what the addon would
refuse. A wrong value is a ConfigError naming the option as the caller's user wrote it
(``name``): ``--max-body`` for the command, ``shadowtape_max_body`` for mitmdump.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fnmatch import translate
from typing import Any

from shadowtape.errors import ConfigError, SanitizeError
from shadowtape.record.options import COMPRESSIONS, WORKERS
from shadowtape.tape.filters import parse_rate

Namer = Callable[[str], str]


def _as_is(option: str) -> str:
    return option


@dataclass(frozen=True, slots=True)
class Selection:
    """Which flows are recorded: the filter and sample options, parsed."""

    sample: float
    include_host: re.Pattern[str] | None
    exclude_host: re.Pattern[str] | None
    include_path: re.Pattern[str] | None
    exclude_path: re.Pattern[str] | None
    include_method: frozenset[bytes]
    exclude_method: frozenset[bytes]

    def wants(self, flow: Any) -> bool:
        request = flow.request
        method = request.data.method
        if self.include_method and method not in self.include_method:
            return False
        if method in self.exclude_method:
            return False
        if self.include_host or self.exclude_host:
            host = request.pretty_host.lower()
            if self.include_host and not self.include_host.match(host):
                return False
            if self.exclude_host and self.exclude_host.match(host):
                return False
        if self.include_path or self.exclude_path:
            path = request.data.path.split(b"?", 1)[0].decode("utf-8", "replace")
            if self.include_path and not self.include_path.search(path):
                return False
            if self.exclude_path and self.exclude_path.search(path):
                return False
        return self.sample >= 1.0 or random.random() < self.sample


@dataclass(frozen=True, slots=True)
class Limits:
    """How the worker records: sizes, part rolling, queue, rules, worker and compression."""

    max_body: int
    roll_rows: int
    roll_bytes: int
    roll_age: int
    queue: int
    log_interval: int
    rules: str | None
    worker: str
    compression: str
    #: Seconds of sanitizing per exchange.
    budget: float = 0.25


def selection(opts: Any, name: Namer = _as_is) -> Selection:
    """The filter options of ``opts`` (mitmproxy's options, typed), or a ConfigError."""
    return Selection(
        sample=sample(name("shadowtape_sample"), opts.shadowtape_sample),
        include_host=hosts(opts.shadowtape_include_host),
        exclude_host=hosts(opts.shadowtape_exclude_host),
        include_path=paths(name("shadowtape_include_path"), opts.shadowtape_include_path),
        exclude_path=paths(name("shadowtape_exclude_path"), opts.shadowtape_exclude_path),
        include_method=methods(opts.shadowtape_include_method),
        exclude_method=methods(opts.shadowtape_exclude_method),
    )


def limits(opts: Any, name: Namer = _as_is) -> Limits:
    """The worker options of ``opts`` (mitmproxy's options, typed), or a ConfigError."""
    rules = opts.shadowtape_rules or None
    if rules:
        check_rules(name("shadowtape_rules"), rules)
    return Limits(
        max_body=size(name("shadowtape_max_body"), opts.shadowtape_max_body),
        roll_rows=at_least_one(name("shadowtape_roll_rows"), opts.shadowtape_roll_rows),
        roll_bytes=size(name("shadowtape_roll_bytes"), opts.shadowtape_roll_bytes),
        roll_age=at_least_one(name("shadowtape_roll_age"), opts.shadowtape_roll_age, "seconds"),
        queue=at_least_one(name("shadowtape_queue"), opts.shadowtape_queue),
        log_interval=at_least_one(
            name("shadowtape_log_interval"), opts.shadowtape_log_interval, "seconds"
        ),
        rules=rules,
        worker=one_of(name("shadowtape_worker"), opts.shadowtape_worker, WORKERS),
        compression=one_of(
            name("shadowtape_compression"), opts.shadowtape_compression, COMPRESSIONS
        ),
        budget=duration(name("shadowtape_sanitize_budget"), opts.shadowtape_sanitize_budget),
    )


def sample(name: str, value: str) -> float:
    return parse_rate(name, value)


def size(name: str, value: str) -> int:
    from mitmproxy.utils import human  # here: `shadowtape --help` does not load mitmproxy

    try:
        parsed = human.parse_size(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed <= 0:
        raise ConfigError(f"{name}: {value!r} is not a size; use bytes or a k/m/g suffix, e.g. 1m")
    return int(parsed)


_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ms|s)?\s*")


def duration(name: str, value: str) -> float:
    """Seconds from milliseconds (``250``, ``250ms``) or seconds (``1.5s``); positive."""
    found = _DURATION.fullmatch(value)
    seconds = 0.0
    if found:
        number = float(found.group(1))
        seconds = number if found.group(2) == "s" else number / 1000
    if seconds <= 0:
        raise ConfigError(
            f"{name}: {value!r} is not a duration; use milliseconds or a unit, e.g. 250ms or 1.5s"
        )
    return seconds


def at_least_one(name: str, value: int, unit: str = "") -> int:
    if value < 1:
        what = f"a whole number of {unit}" if unit else "a whole number"
        raise ConfigError(f"{name}: {value} is too small; use {what}, at least 1")
    return value


def one_of(name: str, value: str, choices: Sequence[str]) -> str:
    # mitmproxy lists an option's choices in its help but does not enforce them.
    if value not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value


def hosts(globs: Sequence[str]) -> re.Pattern[str] | None:
    if not globs:
        return None
    return re.compile("|".join(translate(g.strip().lower()) for g in globs))


def paths(name: str, regexes: Sequence[str]) -> re.Pattern[str] | None:
    if not regexes:
        return None
    for regex in regexes:
        try:
            re.compile(regex)
        except re.error as exc:
            raise ConfigError(f"{name}: {regex!r} is not a valid regex ({exc})") from None
    return re.compile("|".join(f"(?:{r})" for r in regexes))


def methods(names: Sequence[str]) -> frozenset[bytes]:
    return frozenset(m.strip().upper().encode() for m in names)


def check_rules(name: str, path: str) -> None:
    """Load the rules file as the worker will, so a file it could not use is refused now."""
    from shadowtape.sanitize import Sanitizer

    try:
        Sanitizer.from_file(path, key=b"check")
    except SanitizeError as exc:
        raise ConfigError(f"{name}: {exc}") from None
