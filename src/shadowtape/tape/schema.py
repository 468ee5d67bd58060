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


def message_fields(prefix: str) -> list[tuple[str, pa.DataType]]:
    """A message's headers and body columns, each name after ``prefix``: the request's
    and the response's here, and each replay target's answer in the results."""
    return [
        (f"{prefix}headers", HEADERS),
        (f"{prefix}body", pa.binary()),
        (f"{prefix}body_size", pa.int64()),
        (f"{prefix}body_truncated", pa.bool_()),
    ]


def _message(prefix: str, owner: str) -> list[tuple[str, pa.DataType, str, str]]:
    return [(prefix + name, kind, owner, name) for name, kind in message_fields("")]


#: Each column: its name, its type, and where an Exchange holds it (which object, which
#: attribute; to_batch reads it from there).
_COLUMNS: list[tuple[str, pa.DataType, str, str]] = [
    ("id", pa.string(), "exchange", "id"),
    ("recorded_at", pa.timestamp("us", tz="UTC"), "exchange", "recorded_at"),
    ("source", pa.string(), "exchange", "source"),
    ("method", pa.string(), "request", "method"),
    ("scheme", pa.string(), "request", "scheme"),
    ("host", pa.string(), "request", "host"),
    ("port", pa.int32(), "request", "port"),
    ("path", pa.string(), "request", "path"),
    ("query", pa.string(), "request", "query"),
    ("http_version", pa.string(), "request", "http_version"),
    *_message("request_", "request"),
    ("status", pa.int32(), "response", "status"),
    ("reason", pa.string(), "response", "reason"),
    ("response_http_version", pa.string(), "response", "http_version"),
    *_message("response_", "response"),
    ("error_kind", pa.string(), "error", "kind"),
    ("error_message", pa.string(), "error", "message"),
    ("duration_us", pa.int64(), "exchange", "duration_us"),
    ("ttfb_us", pa.int64(), "exchange", "ttfb_us"),
    ("redactions", pa.list_(pa.string()), "exchange", "redactions"),
    ("tags", pa.map_(pa.string(), pa.string()), "exchange", "tags"),
]
SCHEMA = pa.schema(
    [(name, kind) for name, kind, _, _ in _COLUMNS],
    metadata={VERSION_KEY: SCHEMA_VERSION.encode()},
)

#: The only columns whose min/max statistics a part's footer keeps: none can hold a
#: request or response value (the footer is not compressed, so statistics would repeat
#: values in clear). Filters still push down on the others, reading their pages instead.
STATISTICS_COLUMNS = (
    "id",
    "recorded_at",
    "source",
    "port",
    "request_body_size",
    "request_body_truncated",
    "status",
    "response_body_size",
    "response_body_truncated",
    "duration_us",
    "ttfb_us",
)

#: Columns holding bodies: left out of reads that do not need them.
BODY_COLUMNS = ("request_body", "response_body")
COLUMNS = tuple(SCHEMA.names)

#: Columns that may be all null, so another writer may give them Arrow's null type.
NULLABLE = frozenset(
    {
        "status",
        "reason",
        "response_http_version",
        "response_headers",
        "response_body",
        "response_body_size",
        "response_body_truncated",
        "error_kind",
        "error_message",
        "duration_us",
        "ttfb_us",
    }
)

#: The minor version that added a column, for columns added after 1.0 (none yet). A file
#: of an older minor version lacks them legitimately, and they read as null.
ADDED_IN_MINOR: dict[str, int] = {}


def required_columns(minor: int) -> tuple[str, ...]:
    """The columns every part of schema 1.<minor> (or newer) must hold."""
    return tuple(name for name in COLUMNS if ADDED_IN_MINOR.get(name, 0) <= minor)


_t = pa.types
#: Scalar types that hold the same kind of value, whatever their width or layout.
_KINDS = {
    "text": (_t.is_string, _t.is_large_string, _t.is_string_view),
    "bytes": (_t.is_binary, _t.is_large_binary, _t.is_binary_view),
    "integer": (_t.is_integer,),
    "timestamp": (_t.is_timestamp,),
    "bool": (_t.is_boolean,),
}


def _kind(type_: pa.DataType) -> str | None:
    return next((k for k, tests in _KINDS.items() if any(is_(type_) for is_ in tests)), None)


def _compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column of type ``actual`` reads as ``expected`` without changing meaning:
    the same kind of value in any width or layout (large_string, int64 ports, timestamps
    in ns or another zone). Arrow would cast anything else too, into nonsense (a number
    where the path belongs), so it is refused."""
    if actual.equals(expected):
        return True
    if _t.is_dictionary(actual):
        return _compatible(actual.value_type, expected)
    if _t.is_map(expected):
        return bool(
            _t.is_map(actual)
            and _compatible(actual.key_type, expected.key_type)
            and _compatible(actual.item_type, expected.item_type)
        )
    if _t.is_list(expected):
        return bool(_t.is_list(actual) or _t.is_large_list(actual)) and _compatible(
            actual.value_type, expected.value_type
        )
    if _t.is_struct(expected):
        if not _t.is_struct(actual):
            return False
        indices = [actual.get_field_index(f.name) for f in expected]
        return all(
            i >= 0 and _compatible(actual.field(i).type, f.type)
            for i, f in zip(indices, expected, strict=True)
        )
    kind = _kind(expected)
    return kind is not None and _kind(actual) == kind


def column_problem(schema: pa.Schema, minor: int) -> str | None:
    """What is wrong with a part's columns for schema 1.<minor>, or None when nothing is.

    Checked before any row is read: a missing column would otherwise read as null for
    every row (an empty path replays as GET /) and a wrong type would be cast into
    nonsense.
    """
    missing = [name for name in required_columns(minor) if name not in schema.names]
    if len(missing) == 1:
        return f"the required column {missing[0]} is missing"
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        return f"the required columns {', '.join(missing[:3])}{more} are missing"
    for name in COLUMNS:
        found = schema.get_all_field_indices(name)
        if not found:
            continue
        if len(found) > 1:
            return f"column {name} appears {len(found)} times"
        actual = schema.field(found[0]).type
        if pa.types.is_null(actual) and name in NULLABLE:
            continue
        expected = SCHEMA.field(name).type
        if not _compatible(actual, expected):
            return f"column {name} is {actual} where the format has {expected}"
    return None


class _Absent:
    """Stands in for a missing response or error so column extraction stays branch-free."""

    def __getattr__(self, name: str) -> None:
        return None


_ABSENT = _Absent()

#: column -> (which object, attribute): read column-wise with attrgetter, which runs in C.
_SOURCES = {name: (owner, attribute) for name, _, owner, attribute in _COLUMNS}


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
    rq_h, rq_b, rq_s, rq_t = (col(name) for name, _ in message_fields("request_"))
    status, reason, rs_v = col("status"), col("reason"), col("response_http_version")
    rs_h, rs_b, rs_s, rs_t = (col(name) for name, _ in message_fields("response_"))
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
