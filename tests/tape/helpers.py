"""Small builders for tape tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from shadowtape import Exchange, Request, Response


def exchange(
    *,
    method: str = "GET",
    path: str = "/api/items/1",
    status: int | None = 200,
    host: str = "api.test",
    source: str = "edge",
    at: datetime | None = None,
    body: bytes = b'{"ok": true}',
) -> Exchange:
    response = Response(status=status, body=body, body_size=len(body)) if status else None
    return Exchange(
        request=Request(method=method, host=host, path=path),
        response=response,
        source=source,
        recorded_at=at or datetime.now(UTC),
    )


def footer(part: Path) -> bytes:
    """A Parquet file's footer: the metadata, where column statistics are kept."""
    data = part.read_bytes()
    size = int.from_bytes(data[-8:-4], "little")
    return data[-8 - size : -8]


def column_chunks(part: Path) -> Iterator[tuple[str, str, bool]]:
    """Each column chunk of a Parquet file: its path, its top-level column, and whether
    statistics were written for it."""
    metadata = pq.ParquetFile(part).metadata
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            column = row_group.column(index)
            path = column.path_in_schema
            yield path, path.split(".")[0], column.is_stats_set
