"""The tape's Arrow schema, its version, and Exchange <-> Arrow conversion.

Columns are flat scalars for everything people filter on, so Parquet statistics can skip
row groups and any engine (DuckDB, Polars, Spark) can query a tape without shadowtape.
docs/tape-format.md documents every column; change both together, and bump the minor
version for added columns, the major version for anything an older reader would misread.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import pairwise
from operator import attrgetter
from typing import Any

import pyarrow as pa

from shadowtape.exchange import ErrorKind, Exchange, ExchangeError, Request, Response

SCHEMA_VERSION = "1.0"
SCHEMA_MAJOR = 1
VERSION_KEY = b"shadowtape.schema_version"
DROPPED_KEY = b"shadowtape.dropped"

HEADER = pa.struct([("name", pa.string()), ("value", pa.string())])
HEADERS = pa.list_(HEADER)

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("source", pa.string()),
        ("method", pa.string()),
        ("scheme", pa.string()),
        ("host", pa.string()),
        ("port", pa.int32()),
        ("path", pa.string()),
        ("query", pa.string()),
        ("http_version", pa.string()),
        ("request_headers", HEADERS),
        ("request_body", pa.binary()),
        ("request_body_size", pa.int64()),
        ("request_body_truncated", pa.bool_()),
        ("status", pa.int32()),
        ("reason", pa.string()),
        ("response_http_version", pa.string()),
        ("response_headers", HEADERS),
        ("response_body", pa.binary()),
        ("response_body_size", pa.int64()),
        ("response_body_truncated", pa.bool_()),
        ("error_kind", pa.string()),
        ("error_message", pa.string()),
        ("duration_us", pa.int64()),
        ("ttfb_us", pa.int64()),
        ("redactions", pa.list_(pa.string())),
        ("tags", pa.map_(pa.string(), pa.string())),
    ],
    metadata={VERSION_KEY: SCHEMA_VERSION.encode()},
)

#: Columns holding bodies: left out of reads that do not need them.
BODY_COLUMNS = ("request_body", "response_body")
COLUMNS = tuple(SCHEMA.names)


class _Absent:
    """Stands in for a missing response or error so column extraction stays branch-free."""

    def __getattr__(self, name: str) -> None:
        return None


_ABSENT = _Absent()

#: column -> (which object, attribute): read column-wise with attrgetter, which runs in C.
_SOURCES: dict[str, tuple[str, str]] = {
    "id": ("exchange", "id"),
    "recorded_at": ("exchange", "recorded_at"),
    "source": ("exchange", "source"),
    "method": ("request", "method"),
    "scheme": ("request", "scheme"),
    "host": ("request", "host"),
    "port": ("request", "port"),
    "path": ("request", "path"),
    "query": ("request", "query"),
    "http_version": ("request", "http_version"),
    "request_headers": ("request", "headers"),
    "request_body": ("request", "body"),
    "request_body_size": ("request", "body_size"),
    "request_body_truncated": ("request", "body_truncated"),
    "status": ("response", "status"),
    "reason": ("response", "reason"),
    "response_http_version": ("response", "http_version"),
    "response_headers": ("response", "headers"),
    "response_body": ("response", "body"),
    "response_body_size": ("response", "body_size"),
    "response_body_truncated": ("response", "body_truncated"),
    "error_kind": ("error", "kind"),
    "error_message": ("error", "message"),
    "duration_us": ("exchange", "duration_us"),
    "ttfb_us": ("exchange", "ttfb_us"),
    "redactions": ("exchange", "redactions"),
    "tags": ("exchange", "tags"),
}
assert set(_SOURCES) == set(COLUMNS)


def to_batch(exchanges: Sequence[Exchange]) -> pa.RecordBatch:
    """Convert exchanges to one record batch in SCHEMA, a column at a time."""
    objects: dict[str, list[Any]] = {
        "exchange": list(exchanges),
        "request": list(map(attrgetter("request"), exchanges)),
        "response": [_ABSENT if r is None else r for r in map(attrgetter("response"), exchanges)],
        "error": [_ABSENT if e is None else e for e in map(attrgetter("error"), exchanges)],
    }
    arrays = []
    for field in SCHEMA:
        owner, attribute = _SOURCES[field.name]
        values = list(map(attrgetter(attribute), objects[owner]))
        arrays.append(pa.array(values, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def header_tuples(column: pa.Array | pa.ChunkedArray) -> list[tuple[tuple[str, str], ...]]:
    """Each row's headers as ordered pairs, built from the flat name and value arrays:
    several times faster than going through a dict per header."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    out: list[tuple[tuple[str, str], ...]] = []
    for chunk in chunks:
        # flatten() honours a slice's offset; .values would be the whole unsliced child.
        flat = chunk.flatten()
        pairs = list(
            zip(flat.field("name").to_pylist(), flat.field("value").to_pylist(), strict=True)
        )
        offsets = chunk.offsets.to_pylist()
        base = offsets[0]
        out.extend(tuple(pairs[a - base : b - base]) for a, b in pairwise(offsets))
    return out


_HEADER_COLUMNS = ("request_headers", "response_headers")


def from_batch(batch: pa.RecordBatch | pa.Table) -> Iterator[Exchange]:
    """Rebuild Exchanges from a batch; body columns may be absent (read as empty)."""
    names = batch.schema.names
    data: dict[str, list[Any]] = {
        name: header_tuples(batch.column(name))
        if name in _HEADER_COLUMNS
        else batch.column(name).to_pylist()
        for name in names
    }
    n = batch.num_rows

    def col(name: str) -> list[Any]:
        return data.get(name) or [None] * n

    ids, at, source = col("id"), col("recorded_at"), col("source")
    method, scheme, host, port = col("method"), col("scheme"), col("host"), col("port")
    path, query, version = col("path"), col("query"), col("http_version")
    rq_h, rq_b, rq_s, rq_t = (
        col("request_headers"),
        col("request_body"),
        col("request_body_size"),
        col("request_body_truncated"),
    )
    status, reason, rs_v = col("status"), col("reason"), col("response_http_version")
    rs_h, rs_b, rs_s, rs_t = (
        col("response_headers"),
        col("response_body"),
        col("response_body_size"),
        col("response_body_truncated"),
    )
    err_kind, err_msg = col("error_kind"), col("error_message")
    duration, ttfb, redactions, tags = (
        col("duration_us"),
        col("ttfb_us"),
        col("redactions"),
        col("tags"),
    )
    for i in range(n):
        request = Request(
            method=str(method[i] or ""),
            scheme=str(scheme[i] or "http"),
            host=str(host[i] or ""),
            port=int(port[i] or 0),
            path=str(path[i] or "/"),
            query=str(query[i] or ""),
            http_version=str(version[i] or ""),
            headers=rq_h[i] or (),
            body=rq_b[i] or b"",
            body_size=int(rq_s[i] or 0),
            body_truncated=bool(rq_t[i]),
        )
        response = None
        if status[i] is not None:
            response = Response(
                status=int(status[i]),
                reason=str(reason[i] or ""),
                http_version=str(rs_v[i] or ""),
                headers=rs_h[i] or (),
                body=rs_b[i] or b"",
                body_size=int(rs_s[i] or 0),
                body_truncated=bool(rs_t[i]),
            )
        error = None
        if err_kind[i] is not None:
            try:
                kind = ErrorKind(err_kind[i])
            except ValueError:
                kind = ErrorKind.OTHER
            error = ExchangeError(kind=kind, message=str(err_msg[i] or ""))
        recorded_at = at[i]
        assert isinstance(recorded_at, datetime)
        yield Exchange(
            id=str(ids[i]),
            recorded_at=recorded_at,
            source=str(source[i] or ""),
            request=request,
            response=response,
            error=error,
            duration_us=duration[i],
            ttfb_us=ttfb[i],
            redactions=tuple(redactions[i] or ()),
            tags=dict(tags[i] or ()),
        )
