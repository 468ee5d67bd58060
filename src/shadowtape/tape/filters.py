"""TapeFilter: which exchanges to read, pushed down to Parquet as far as it can go.

Source and time window prune whole part files by their Hive path before any is opened;
method, host, path, status, time and ids become one Arrow expression that skips row
groups by their statistics; sampling and limit are applied to what is left.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from shadowtape.errors import ConfigError
from shadowtape.tape.location import safe_segment

_STATUS = re.compile(r"^(?:([1-5])xx|(\d{3})(?:-(\d{3}))?)$", re.IGNORECASE)


def parse_statuses(spec: str | Iterable[str | int]) -> tuple[tuple[int, int], ...]:
    """'5xx', '404', '200-299' (or several, comma-separated) as inclusive ranges."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    ranges = []
    for item in items:
        if isinstance(item, int):
            ranges.append((item, item))
            continue
        match = _STATUS.match(item.strip())
        if not match:
            raise ConfigError(
                f"status {item.strip()!r} is not a status code, a range like 200-299, or a "
                "class like 5xx"
            )
        klass, low, high = match.groups()
        if klass:
            ranges.append((int(klass) * 100, int(klass) * 100 + 99))
        else:
            if int(high or low) < int(low):
                raise ConfigError(
                    f"status range {item.strip()!r} runs backwards (it would match nothing); "
                    f"write it low-high, e.g. {high}-{low}"
                )
            ranges.append((int(low), int(high or low)))
    return tuple(ranges)


def parse_rate(name: str, value: str) -> float:
    """A sampling rate in (0, 1], written 0.1 or 10%; ``name`` is the flag or option."""
    text = value.strip()
    try:
        rate = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        rate = -1.0
    if not 0.0 < rate <= 1.0:
        raise ConfigError(f"{name}: {value!r} is not a rate in (0, 1]; use e.g. 0.1 or 10%")
    return rate


def glob_to_regex(pattern: str) -> str:
    """A path glob as an anchored RE2 regex: * stays in a segment, ** crosses them."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return "".join(out)


def path_expression(spec: str) -> ds.Expression:
    """'re:REGEX' is a regex, text with * ? [ is a glob, anything else a prefix."""
    field = pc.field("path")
    if spec.startswith("re:"):
        regex = spec[3:]
        try:
            re.compile(regex)
        except re.error as exc:
            raise ConfigError(f"path regex {regex!r} does not compile: {exc}") from None
        return pc.match_substring_regex(field, pattern=regex)
    if any(ch in spec for ch in "*?["):
        return pc.match_substring_regex(field, pattern=glob_to_regex(spec))
    return pc.starts_with(field, pattern=spec)


def _ts(value: datetime) -> pa.Scalar:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return pa.scalar(value, pa.timestamp("us", tz="UTC"))


def sample_keep(exchange_id: str, rate: float) -> bool:
    """Deterministic sampling by id, so a sample is the same on every run and shard."""
    digest = hashlib.blake2b(exchange_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < rate * 2**64


@dataclass(frozen=True, slots=True, kw_only=True)
class TapeFilter:
    """Which exchanges to read. Every field is optional; all given ones must hold."""

    methods: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    #: A prefix ("/api/"), a glob ("/api/*/orders") or a regex ("re:^/api/\\d+$").
    path: str | None = None
    #: Inclusive ranges, see parse_statuses().
    statuses: tuple[tuple[int, int], ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    sources: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    #: Keep this fraction of exchanges, chosen deterministically by id.
    sample: float | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.sample is not None and not 0 < self.sample <= 1:
            raise ConfigError(f"sample must be in (0, 1], not {self.sample}")
        if self.limit is not None and self.limit < 0:
            raise ConfigError(f"limit must be >= 0, not {self.limit}")
        if self.since and self.until and self.since > self.until:
            raise ConfigError("the time window ends before it starts (since > until)")
        if self.path is not None:
            path_expression(self.path)

    def expression(self) -> ds.Expression | None:
        parts: list[ds.Expression] = []
        if self.methods:
            parts.append(pc.field("method").isin([m.upper() for m in self.methods]))
        if self.hosts:
            parts.append(pc.field("host").isin(list(self.hosts)))
        if self.path is not None:
            parts.append(path_expression(self.path))
        if self.statuses:
            status = pc.field("status")
            ors = [(status >= lo) & (status <= hi) for lo, hi in self.statuses]
            expr = ors[0]
            for more in ors[1:]:
                expr = expr | more
            parts.append(expr)
        if self.since is not None:
            parts.append(pc.field("recorded_at") >= _ts(self.since))
        if self.until is not None:
            parts.append(pc.field("recorded_at") < _ts(self.until))
        if self.sources:
            parts.append(pc.field("source").isin(list(self.sources)))
        if self.ids:
            parts.append(pc.field("id").isin(list(self.ids)))
        if not parts:
            return None
        result = parts[0]
        for more in parts[1:]:
            result = result & more
        return result

    def may_contain(self, source: str | None, hour_start: datetime | None) -> bool:
        """Whether a part in this Hive partition can hold a matching exchange."""
        if (
            source is not None
            and self.sources
            and source not in {safe_segment(s) for s in self.sources}
        ):
            return False
        if hour_start is not None:
            if self.since is not None and hour_start + timedelta(hours=1) <= _aware(self.since):
                return False
            if self.until is not None and hour_start >= _aware(self.until):
                return False
        return True


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
