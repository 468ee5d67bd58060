"""A tape's summary: what a person (or a script, as JSON) wants to know before using it.

Computed in one streaming pass over the scalar columns, so it works on tapes of any size.
The summary's ids are the first ``max_ids`` of the selection; ``listing`` streams them all,
one line per exchange, for ``inspect --ids``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shadowtape.tape import TapeFilter, TapeReader

_COLUMNS = [
    "id",
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


#: Ids the summary lists at most unless asked for more (all of them: ``max_ids=None``).
MAX_IDS = 1000


def summarize(
    locations: Sequence[str],
    *,
    filter: TapeFilter | None = None,
    top: int = 10,
    max_ids: int | None = MAX_IDS,
) -> dict[str, Any]:
    """The summary of every exchange in `locations` that `filter` keeps, with the first
    ``max_ids`` of their ids (every id with None)."""
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
    ids: list[str] = []
    for batch in reader.batches(columns=_COLUMNS):
        if max_ids is None or len(ids) < max_ids:
            room = batch.num_rows if max_ids is None else max_ids - len(ids)
            ids.extend(batch.column("id").slice(0, room).to_pylist())
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
        "ids": ids,
        "ids_omitted": total - len(ids),
    }


def listing(
    locations: Sequence[str], *, filter: TapeFilter | None = None
) -> Iterator[tuple[str, datetime, str, str, int | None]]:
    """(id, recorded_at, method, path with query, status) of each exchange kept, as read."""
    reader = TapeReader(list(locations), filter=filter)
    columns = ["id", "recorded_at", "method", "path", "query", "status"]
    for batch in reader.batches(columns=columns):
        rows = zip(*(batch.column(name).to_pylist() for name in columns), strict=True)
        for id_, at, method, path, query, status in rows:
            yield id_, at, method, f"{path}?{query}" if query else path, status
