"""Fault rules: what ``--fault`` means, parsed once and matched per call.

A rule is comma-separated ``key=value`` fields (``host=inventory.internal,status=503``):
``host`` (required; a name or glob, with ``:PORT`` to pick one port), exactly one fault
(``status=CODE``, ``timeout`` or ``timeout=DURATION``, ``reset``, ``delay=DURATION``), and
optionally ``rate=`` (a share of the matching calls, 0.5 or 50%) and ``paths=`` (path globs
without the query, several separated by ``|``). The first rule that matches a call and wins
its ``rate`` draw applies; no rule means the call goes on untouched.
"""

from __future__ import annotations

import fnmatch
import random
import re
from dataclasses import dataclass
from enum import StrEnum

from shadowtape.errors import ConfigError

#: How long a ``timeout`` holds a call before closing it, unless the rule says.
HOLD = 60.0

_VALID = (
    "give host=NAME[:PORT] and one of status=CODE, timeout[=DURATION], reset, "
    "delay=DURATION, optionally with rate=SHARE and paths=GLOB[|GLOB...], "
    "e.g. 'host=inventory.internal,status=503'"
)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)?$")


class FaultKind(StrEnum):
    STATUS = "status"
    TIMEOUT = "timeout"
    RESET = "reset"
    DELAY = "delay"


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One ``--fault``: which calls (host, port, paths) and what happens to them."""

    text: str
    host: str
    port: int | None
    kind: FaultKind
    #: The answer's status for ``status``; 0 otherwise.
    status: int = 0
    #: Seconds: the wait for ``delay``, the hold for ``timeout``.
    seconds: float = 0.0
    rate: float = 1.0
    paths: tuple[str, ...] = ()

    def matches(self, host: str, port: int, path: str) -> bool:
        if self.port is not None and port != self.port:
            return False
        if not fnmatch.fnmatchcase(host.lower(), self.host):
            return False
        return not self.paths or any(fnmatch.fnmatchcase(path, glob) for glob in self.paths)


def _bad(text: str, why: str) -> ConfigError:
    return ConfigError(f"--fault {text!r}: {why}; {_VALID}")


def duration(text: str, value: str) -> float:
    """Seconds from ``2s``, ``250ms`` or a bare number of seconds."""
    found = _DURATION.match(value.strip())
    if not found:
        raise _bad(text, f"{value!r} is not a duration (250ms, 2s)")
    number = float(found.group(1))
    return number / 1000 if found.group(2) == "ms" else number


def _rate(text: str, value: str) -> float:
    try:
        share = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        share = -1.0
    if not 0 < share <= 1:
        raise _bad(text, f"rate={value} is not a share in (0, 1] (0.5 or 50%)")
    return share


def _host(text: str, value: str) -> tuple[str, int | None]:
    name, sep, port_text = value.rpartition(":")
    if not sep or "]" in port_text:
        return value.strip("[]").lower(), None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _bad(text, f"host={value}: the port must be from 1 to 65535")
    return name.strip("[]").lower(), int(port_text)


def parse(text: str) -> FaultRule:
    """One rule from its text; a ConfigError names what is wrong and what is valid."""
    fields: dict[str, str | None] = {}
    for raw in text.split(","):
        key, sep, given = raw.strip().partition("=")
        key = key.strip().lower()
        if not key:
            raise _bad(text, "an empty field")
        if key in fields:
            raise _bad(text, f"{key} is given twice")
        fields[key] = given.strip() if sep else None
    unknown = sorted(set(fields) - {"host", "rate", "paths", *FaultKind})
    if unknown:
        raise _bad(text, f"no field {unknown[0]!r}")
    host_value = fields.pop("host", None)
    if not host_value:
        raise _bad(text, "host= is missing")
    host, port = _host(text, host_value)
    kinds = [kind for kind in FaultKind if kind in fields]
    if len(kinds) != 1:
        raise _bad(text, "give exactly one fault" if kinds else "no fault given")
    kind = kinds[0]
    value: str | None = fields[kind]
    status, seconds = 0, 0.0
    if kind is FaultKind.STATUS:
        if value is None or not value.isdigit() or not 100 <= int(value) <= 599:
            raise _bad(text, f"status={value or ''} is not an HTTP status (100 to 599)")
        status = int(value)
    elif kind is FaultKind.DELAY:
        if value is None:
            raise _bad(text, "delay needs a duration (delay=2s)")
        seconds = duration(text, value)
    elif kind is FaultKind.TIMEOUT:
        seconds = HOLD if value is None else duration(text, value)
    elif value is not None:
        raise _bad(text, "reset takes no value")
    rate_value = fields.get("rate")
    rate = 1.0 if rate_value is None else _rate(text, rate_value)
    paths_value = fields.get("paths")
    if "paths" in fields and not paths_value:
        raise _bad(text, "paths= needs a glob (paths=/api/*)")
    paths = tuple(p for p in (paths_value or "").split("|") if p)
    return FaultRule(text, host, port, kind, status, seconds, rate, paths)


def parse_all(texts: list[str] | tuple[str, ...]) -> tuple[FaultRule, ...]:
    return tuple(parse(text) for text in texts)


def choose(
    rules: tuple[FaultRule, ...],
    host: str,
    port: int,
    path: str,
    draw: random.Random | None = None,
) -> FaultRule | None:
    """The rule that applies to this call, if any (each matching rule draws its rate)."""
    for rule in rules:
        if rule.matches(host, port, path) and (
            rule.rate >= 1 or (draw or random).random() < rule.rate
        ):
            return rule
    return None
