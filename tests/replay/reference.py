"""The replay's rules one request at a time, in Python: the reference the batch code is
checked against.

The replayer prepares a whole record batch at once with Arrow (prepare/jobs.py,
batchwire.py, batchkeys.py). This holds the same rules written per request (the skip
reason, the headers on the wire, the state keys, the shard), which the replayer used to
run, and the per-row path that applied them; the tests check that the batch functions
make exactly what they make.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import pyarrow as pa

from shadowtape.exchange import Exchange, Request
from shadowtape.replay.prepare.jobs import Headers, Wire, serialize
from shadowtape.replay.rules import tracing
from shadowtape.replay.rules.options import Shard
from shadowtape.replay.rules.ordering import CLIENT_TAGS, SESSION_COOKIE, shard_key_of, shard_of
from shadowtape.replay.rules.safety import SAFE_METHODS, SkipReason, is_safe_method
from shadowtape.replay.rules.targets import (
    HOP_HEADERS,
    Outgoing,
    Target,
    ascii_lower,
)
from shadowtape.tape.filters import sample_keep
from shadowtape.tape.schema import header_tuples

DECODE_ROWS = 16


class RowJob:
    """One row decoded into Python objects, as the replayer used to make them."""

    __slots__ = (
        "_keys",
        "at_us",
        "batch",
        "body",
        "body_size",
        "body_truncated",
        "headers",
        "host",
        "id",
        "keys",
        "method",
        "path",
        "port",
        "query",
        "repeat",
        "row",
        "scheme",
        "skip",
        "tags",
        "wires",
    )

    def __init__(
        self,
        batch: pa.RecordBatch,
        row: int,
        id: str,
        at_us: int,
        method: str,
        scheme: str,
        host: str,
        port: int,
        path: str,
        query: str,
        headers: Headers,
        body: bytes,
        body_size: int,
        body_truncated: bool,
        tags: dict[str, str],
    ) -> None:
        self.batch = batch
        self.row = row
        self.id = id
        self.at_us = at_us
        self.method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.body_size = body_size
        self.body_truncated = body_truncated
        self.tags = tags
        self._keys: list[str] | None = None
        #: Why it is not sent (a SkipReason value), set by ``Preparer``.
        self.skip: str | None = None
        #: The keys it shares state by (ordering.py).
        self.keys: list[str] = []
        #: Whether the candidate gets it a second time (the repeat sample).
        self.repeat = False
        #: Role -> (origin, request bytes), for the roles it is sent to.
        self.wires: dict[str, Wire] = {}

    def __repr__(self) -> str:
        return f"Job({self.method} {self.path} id={self.id})"

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None

    def state_keys(self) -> list[str]:
        """Worked out once: sharding needs them first, then the Preparer."""
        if self._keys is None:
            self._keys = keys_for(self.headers, self.tags)
        return self._keys

    def shard_key(self) -> str:
        return shard_key_of(self.state_keys(), self.id)


def _tags(column: pa.Array) -> list[dict[str, str]]:
    offsets = column.offsets
    if len(column) == 0 or offsets[0].as_py() == offsets[len(column)].as_py():
        return [{} for _ in range(len(column))]
    return [dict(items) if items else {} for items in column.to_pylist()]


def jobs_from_batch(batch: pa.RecordBatch) -> Iterator[RowJob]:
    """The batch's rows as Jobs, converted ``DECODE_ROWS`` at a time."""
    for start in range(0, batch.num_rows, DECODE_ROWS):
        part = batch.slice(start, DECODE_ROWS)

        def col(name: str, part: pa.RecordBatch = part) -> list[Any]:
            values: list[Any] = part.column(name).to_pylist()
            return values

        ids, methods, schemes, hosts, ports = (
            col("id"),
            col("method"),
            col("scheme"),
            col("host"),
            col("port"),
        )
        at = part.column("recorded_at").view(pa.int64()).to_pylist()  # a cast costs 25 us
        paths, queries, bodies = col("path"), col("query"), col("request_body")
        sizes, truncated = col("request_body_size"), col("request_body_truncated")
        headers = header_tuples(part.column("request_headers"))
        tags = _tags(part.column("tags"))
        for i in range(part.num_rows):
            yield RowJob(
                batch,
                start + i,
                ids[i],
                at[i],
                methods[i] or "",
                schemes[i] or "http",
                hosts[i] or "",
                ports[i] or 0,
                paths[i] or "/",
                queries[i] or "",
                headers[i],
                bodies[i] or b"",
                sizes[i] or 0,
                bool(truncated[i]),
                tags[i],
            )


class Preparer:
    """Checks each job and serializes it for every target, as the feed decodes it."""

    def __init__(
        self,
        targets: dict[str, Target],
        *,
        allow_mutating: bool,
        keep_host: bool,
        extra: Headers,
        repeat_sample: float,
        traceparent: bool = False,
    ) -> None:
        self.targets = targets
        self.traceparent = traceparent
        self.allow_mutating = allow_mutating
        self.keep_host = keep_host
        self.extra = extra
        self.repeat_sample = repeat_sample

    def __call__(self, job: RowJob) -> RowJob:
        reason = skip_reason_of(
            job.method, job.path, job.query, job.headers, job.body, job.body_size,
            job.body_truncated, allow_mutating=self.allow_mutating, host=job.host,
        )  # fmt: skip
        if reason is not None:
            job.skip = reason.value
            return job
        job.keys = job.state_keys()
        target_path = f"{job.path}?{job.query}" if job.query else job.path
        for role, target in self.targets.items():
            headers = wire_headers(
                job,
                target,
                keep_host=self.keep_host,
                extra=self.extra,
                traceparent=self.traceparent,
            )
            data = serialize(job.method, target.prefix + target_path, headers, job.body)
            job.wires[role] = (target.key, data)
        job.repeat = (
            self.repeat_sample > 0
            and is_safe_method(job.method)
            and sample_keep(f"repeat:{job.id}", self.repeat_sample)
        )
        return job


# -- The per-request rules: what the batch functions make, one request at a time ------------


_BAD_CHARS = frozenset(" \t\r\n\x00\x7f")


def skip_reason(request: Request, *, allow_mutating: bool) -> SkipReason | None:
    """Why this request must not be sent, or None when it may be."""
    return skip_reason_of(
        request.method,
        request.path,
        request.query,
        request.headers,
        request.body,
        request.body_size,
        request.body_truncated,
        allow_mutating=allow_mutating,
        host=request.host,
    )


def skip_reason_of(
    method: str,
    path: str,
    query: str,
    headers: tuple[tuple[str, str], ...],
    body: bytes,
    body_size: int,
    body_truncated: bool,
    *,
    allow_mutating: bool,
    host: str = "",
) -> SkipReason | None:
    """``skip_reason`` on the parts of a request (the replayer's jobs hold no Request).
    The recorded ``host`` goes on the wire with --keep-host when no Host header was
    recorded, so it is checked like the path."""
    # A method is a token: ASCII letters only. str.isalpha and str.upper are Unicode-aware
    # (they passed "OPTION\u017f", with a long s, as OPTIONS); batchwire.py checks alike.
    if not (method.isascii() and method.isalpha()):
        return SkipReason.MALFORMED
    method = method.upper()
    if method not in SAFE_METHODS and not allow_mutating:
        return SkipReason.MUTATING
    if method == "CONNECT" or not path.startswith("/"):
        return SkipReason.UNSAFE_HOST
    if (
        _BAD_CHARS.intersection(path)
        or _BAD_CHARS.intersection(query)
        or _BAD_CHARS.intersection(host)
    ):
        return SkipReason.MALFORMED
    for name, value in headers:
        if "\r" in value or "\n" in value or "\x00" in value or _BAD_CHARS.intersection(name):
            return SkipReason.MALFORMED
    if body_truncated and body_size > len(body):
        return SkipReason.TRUNCATED_BODY
    return None


class RecordedRequest(Protocol):
    """What building a request reads: a Request, or a replay Job."""

    @property
    def scheme(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...


def recorded_host(request: RecordedRequest) -> str:
    value = next((v for n, v in request.headers if ascii_lower(n) == "host"), None)
    if value:
        return value
    default = (request.scheme, request.port) in (("http", 80), ("https", 443), ("http", 0))
    return request.host if default else f"{request.host}:{request.port}"


def build(
    request: Request,
    target: Target,
    *,
    keep_host: bool = False,
    extra: tuple[tuple[str, str], ...] = (),
) -> Outgoing:
    """The request to send to ``target`` for a recorded request."""
    headers = wire_headers(request, target, keep_host=keep_host, extra=extra)
    return Outgoing(request.method, target.url_for(request), headers, request.body)


def wire_headers(
    request: RecordedRequest,
    target: Target,
    *,
    keep_host: bool = False,
    extra: tuple[tuple[str, str], ...] = (),
    traceparent: bool = False,
) -> tuple[tuple[str, str], ...]:
    """The headers sent to ``target``: Host rewritten (unless kept), hop-by-hop headers
    dropped, ``extra`` applied; the rest as recorded. With ``traceparent`` (and none in
    ``extra``), the recorded one is dropped and a placeholder goes first."""
    replaced = {ascii_lower(name) for name, _ in extra}
    trace: list[tuple[str, str]] = []
    if traceparent and "traceparent" not in replaced:
        recorded = next((v for n, v in request.headers if ascii_lower(n) == "traceparent"), None)
        trace = [("traceparent", tracing.placeholder(tracing.flags_of(recorded)))]
        replaced.add("traceparent")
    headers: list[tuple[str, str]] = [
        ("Host", recorded_host(request) if keep_host else target.netloc)
    ]
    for name, value in request.headers:
        lower = ascii_lower(name)
        if lower in HOP_HEADERS or lower in replaced:
            continue
        headers.append((name, value))
    for name, value in extra:
        if ascii_lower(name) == "host":
            headers[0] = ("Host", value)
        else:
            headers.append((name, value))
    return (*trace, *headers)


_WANTED = frozenset({"cookie", "authorization", "x-forwarded-for", "x-real-ip", "idempotency-key"})


def _state_headers(headers: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    """The headers that carry state, by lower-case name, in one pass (this runs for
    every request). Names compare in ASCII case only: they are tokens, and Unicode
    lower-casing differs between Python and Arrow (a dotted capital I); a name that is not
    ASCII is none of the wanted ones."""
    found: dict[str, list[str]] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in _WANTED and name.isascii():
            found.setdefault(lower, []).append(value)
    return found


def _keys(tags: Mapping[str, str], found: dict[str, list[str]]) -> list[str]:
    keys = []
    for line in found.get("cookie", ()):
        for item in line.split(";"):
            name, sep, value = item.strip().partition("=")
            if sep and name and SESSION_COOKIE.search(name):
                keys.append(f"cookie:{name}={value}")
    if "authorization" in found:
        keys.append(f"auth:{found['authorization'][0]}")
    for tag in CLIENT_TAGS:
        if tags.get(tag):
            keys.append(f"client:{tags[tag]}")
            break
    else:
        forwarded = found.get("x-forwarded-for") or found.get("x-real-ip")
        if forwarded:
            keys.append(f"client:{forwarded[0].split(',')[0].strip()}")
    return keys


def state_keys(exchange: Exchange) -> list[str]:
    """Every key this request shares state by; requests with a key in common stay ordered."""
    return keys_for(exchange.request.headers, exchange.tags)


def keys_for(headers: tuple[tuple[str, str], ...], tags: Mapping[str, str]) -> list[str]:
    """``state_keys`` from a request's headers and its exchange's tags."""
    found = _state_headers(headers)
    if not found and not tags:
        return []
    keys = _keys(tags, found)
    if "idempotency-key" in found:
        keys.append(f"idem:{found['idempotency-key'][0]}")
    return keys


def shard_key(exchange: Exchange) -> str:
    """What decides the shard: one key per request, the most lasting identity it carries.

    The client's address first (the same before and after a login, with or without
    credentials), then its session cookie, its credentials, its idempotency key; else
    the exchange alone. The choice does not depend on header or cookie order. Requests
    linked only through a less lasting key (one with and one without the client address)
    can still land in different shards: a perfect split needs the whole tape's links.
    """
    return shard_key_of(state_keys(exchange), exchange.id)


def in_shard(exchange: Exchange, shard: Shard | None) -> bool:
    return shard is None or shard_of(shard_key(exchange), shard.count) == shard.index
