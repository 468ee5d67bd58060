"""The tape's Arrow schema, its version, and Exchange <-> Arrow conversion.

Columns are flat scalars for everything people filter on, so Parquet statistics can skip
row groups and any engine (DuckDB, Polars, Spark) can query a tape without shadowtape.
docs/tape-format.md documents every column; change both together, and bump the minor
version for added columns, the major version for anything an older reader would misread.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
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
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _headers_array(all_headers: Sequence[tuple[tuple[str, str], ...] | None]) -> pa.Array:
    """Build list<struct<name, value>> from flat buffers, far faster than from dicts."""
    offsets = [0]
    names: list[str] = []
    values: list[str] = []
    mask: list[bool] = []
    for headers in all_headers:
        if headers is None:
            mask.append(True)
        else:
            mask.append(False)
            for name, value in headers:
                names.append(name)
                values.append(value)
        offsets.append(len(names))
    struct = pa.StructArray.from_arrays(
        [pa.array(names, pa.string()), pa.array(values, pa.string())], fields=list(HEADER)
    )
    mask_array = pa.array(mask, pa.bool_()) if any(mask) else None
    return pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), struct, type=HEADERS, mask=mask_array
    )


def to_batch(exchanges: Sequence[Exchange]) -> pa.RecordBatch:
    """Convert exchanges to one record batch in SCHEMA."""
    n = len(exchanges)
    ids: list[str] = [""] * n
    recorded: list[int] = [0] * n
    cols: dict[str, list[object]] = {name: [None] * n for name in COLUMNS}
    req_headers: list[tuple[tuple[str, str], ...] | None] = [None] * n
    resp_headers: list[tuple[tuple[str, str], ...] | None] = [None] * n
    red_offsets = [0]
    red_values: list[str] = []
    tag_offsets = [0]
    tag_keys: list[str] = []
    tag_items: list[str] = []
    for i, ex in enumerate(exchanges):
        req = ex.request
        ids[i] = ex.id
        delta = ex.recorded_at - _EPOCH
        recorded[i] = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        cols["source"][i] = ex.source
        cols["method"][i] = req.method
        cols["scheme"][i] = req.scheme
        cols["host"][i] = req.host
        cols["port"][i] = req.port
        cols["path"][i] = req.path
        cols["query"][i] = req.query
        cols["http_version"][i] = req.http_version
        req_headers[i] = req.headers
        cols["request_body"][i] = req.body
        cols["request_body_size"][i] = req.body_size
        cols["request_body_truncated"][i] = req.body_truncated
        resp = ex.response
        if resp is not None:
            cols["status"][i] = resp.status
            cols["reason"][i] = resp.reason
            cols["response_http_version"][i] = resp.http_version
            resp_headers[i] = resp.headers
            cols["response_body"][i] = resp.body
            cols["response_body_size"][i] = resp.body_size
            cols["response_body_truncated"][i] = resp.body_truncated
        if ex.error is not None:
            cols["error_kind"][i] = ex.error.kind.value
            cols["error_message"][i] = ex.error.message
        cols["duration_us"][i] = ex.duration_us
        cols["ttfb_us"][i] = ex.ttfb_us
        red_values.extend(ex.redactions)
        red_offsets.append(len(red_values))
        for key, value in ex.tags.items():
            tag_keys.append(key)
            tag_items.append(value)
        tag_offsets.append(len(tag_keys))

    arrays: list[pa.Array] = []
    for fld in SCHEMA:
        name = fld.name
        if name == "id":
            arrays.append(pa.array(ids, pa.string()))
        elif name == "recorded_at":
            arrays.append(pa.array(recorded, pa.int64()).cast(fld.type))
        elif name == "request_headers":
            arrays.append(_headers_array(req_headers))
        elif name == "response_headers":
            arrays.append(_headers_array(resp_headers))
        elif name == "redactions":
            arrays.append(
                pa.ListArray.from_arrays(
                    pa.array(red_offsets, pa.int32()), pa.array(red_values, pa.string())
                )
            )
        elif name == "tags":
            arrays.append(
                pa.MapArray.from_arrays(
                    pa.array(tag_offsets, pa.int32()),
                    pa.array(tag_keys, pa.string()),
                    pa.array(tag_items, pa.string()),
                )
            )
        else:
            arrays.append(pa.array(cols[name], fld.type))
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def _headers(value: list[dict[str, str]] | None) -> tuple[tuple[str, str], ...]:
    return tuple((h["name"], h["value"]) for h in value or ())


def from_batch(batch: pa.RecordBatch | pa.Table) -> Iterator[Exchange]:
    """Rebuild Exchanges from a batch; body columns may be absent (read as empty)."""
    data = batch.to_pydict()
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
            headers=_headers(rq_h[i]),
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
                headers=_headers(rs_h[i]),
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
