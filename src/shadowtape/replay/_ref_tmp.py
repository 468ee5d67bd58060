"""TEMPORARY: per-row Python versions of the batch functions, until the vectorized ones land."""

from __future__ import annotations

import pyarrow as pa

from shadowtape.replay.ordering import keys_for
from shadowtape.replay.safety import skip_reason_of
from shadowtape.replay.targets import Target, wire_headers
from shadowtape.tape.schema import header_tuples


class _Row:
    def __init__(self, d: dict, headers: tuple) -> None:
        self.method = d["method"] or ""
        self.scheme = d["scheme"] or "http"
        self.host = d["host"] or ""
        self.port = d["port"] or 0
        self.path = d["path"] or "/"
        self.query = d["query"] or ""
        self.headers = headers
        self.body = d["request_body"] or b""
        self.body_size = d["request_body_size"] or 0
        self.body_truncated = bool(d["request_body_truncated"])

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def _rows(batch: pa.RecordBatch) -> list[_Row]:
    heads = header_tuples(batch.column("request_headers"))
    return [_Row(d, h) for d, h in zip(batch.to_pylist(), heads, strict=True)]


def skip_column(batch: pa.RecordBatch, *, allow_mutating: bool) -> pa.Array:
    out = []
    for r in _rows(batch):
        reason = skip_reason_of(
            r.method,
            r.path,
            r.query,
            r.headers,
            r.body,
            r.body_size,
            r.body_truncated,
            allow_mutating=allow_mutating,
        )
        out.append(None if reason is None else reason.value)
    return pa.array(out, pa.string())


def wire_column(batch, target: Target, *, keep_host, extra, send) -> pa.Array:
    from shadowtape.replay.jobs import serialize

    out = []
    for r, ok in zip(_rows(batch), send.to_pylist(), strict=True):
        if not ok:
            out.append(None)
            continue
        path = f"{r.path}?{r.query}" if r.query else r.path
        headers = wire_headers(r, target, keep_host=keep_host, extra=extra)
        out.append(serialize(r.method, target.prefix + path, headers, r.body))
    return pa.array(out, pa.large_binary())


def keys_column(headers: pa.Array, tags: pa.Array) -> pa.Array:
    heads = header_tuples(headers)
    tag_list = [dict(t) if t else {} for t in tags.to_pylist()]
    return pa.array(
        [keys_for(h, t) for h, t in zip(heads, tag_list, strict=True)], pa.list_(pa.string())
    )
