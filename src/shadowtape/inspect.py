"""A tape's summary: what a person (or a script, as JSON) wants to know before using it.

Computed in one streaming pass over the scalar columns, so it works on tapes of any size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shadowtape.tape import TapeFilter, TapeReader

_COLUMNS = [
    "recorded_at",
    "source",
    "method",
    "path",
    "status",
    "request_body_size",
    "response_body_size",
    "request_body_truncated",
    "response_body_truncated",
    "redactions",
    "error_kind",
]


def _count(counter: Counter[str], array: pa.Array) -> None:
    for item in pc.value_counts(array).to_pylist():
        value = item["values"]
        counter["" if value is None else str(value)] += int(item["counts"])


def summarize(
    locations: Sequence[str], *, filter: TapeFilter | None = None, top: int = 10
) -> dict[str, Any]:
    """The summary of every exchange in `locations` that `filter` keeps."""
    reader = TapeReader(list(locations), filter=filter)
    infos = list(reader.part_infos())
    total = 0
    first: datetime | None = None
    last: datetime | None = None
    sources: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    paths: Counter[str] = Counter()
    redactions: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    request_bytes = response_bytes = truncated = 0
    for batch in reader.batches(columns=_COLUMNS):
        total += batch.num_rows
        times = pc.min_max(batch.column("recorded_at")).as_py()
        if times["min"] is not None:
            first = times["min"] if first is None else min(first, times["min"])
            last = times["max"] if last is None else max(last, times["max"])
        _count(sources, batch.column("source"))
        _count(methods, batch.column("method"))
        _count(paths, batch.column("path"))
        status = batch.column("status")
        klass = pc.if_else(
            pc.is_null(status),
            pa.scalar("no response"),
            pc.binary_join_element_wise(
                pc.cast(pc.divide(status, 100), pa.string()), pa.scalar("xx"), ""
            ),
        )
        _count(classes, klass)
        flat = pc.list_flatten(batch.column("redactions"))
        if len(flat):
            _count(redactions, flat)
        kinds = batch.column("error_kind").drop_null()
        if len(kinds):
            _count(errors, kinds)
        request_bytes += pc.sum(batch.column("request_body_size")).as_py() or 0
        response_bytes += pc.sum(batch.column("response_body_size")).as_py() or 0
        truncated += (
            pc.sum(
                pc.or_(
                    batch.column("request_body_truncated"), batch.column("response_body_truncated")
                )
            ).as_py()
            or 0
        )
    classes.pop("", None)
    return {
        "exchanges": total,
        "parts": len(infos),
        "bytes_on_disk": sum(info.size for info in infos),
        "schema_versions": sorted({info.schema_version for info in infos}),
        "first": first.isoformat() if first else None,
        "last": last.isoformat() if last else None,
        "sources": dict(sources.most_common()),
        "methods": dict(methods.most_common()),
        "status_classes": dict(sorted(classes.items())),
        "top_paths": dict(paths.most_common(top)),
        "distinct_paths": len(paths),
        "body_bytes": {"request": request_bytes, "response": response_bytes},
        "truncated_bodies": truncated,
        "redactions": dict(redactions.most_common()),
        "errors": dict(errors.most_common()),
        "dropped_while_recording": sum(info.dropped for info in infos),
    }
