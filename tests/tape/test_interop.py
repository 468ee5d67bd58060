"""Tapes are plain Parquet: the DuckDB queries in docs/tape-format.md run as documented."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from shadowtape import Exchange, Request, Response, TapeWriter

DOC = Path(__file__).resolve().parents[2] / "docs" / "tape-format.md"


def test_documented_duckdb_queries_answer_over_a_tape_folder(tmp_path: Path) -> None:
    at = datetime(2026, 2, 3, 4, 5, tzinfo=UTC)
    with TapeWriter(tmp_path) as writer:
        for i in range(10):
            writer.write(
                Exchange(
                    request=Request(method="GET", host="h", path="/slow"),
                    response=Response(status=200),
                    duration_us=200_000 + i * 1_000,
                    recorded_at=at,
                )
            )
        writer.write(
            Exchange(
                request=Request(
                    method="POST", host="h", path="/pay", headers=(("Idempotency-Key", "k1"),)
                ),
                response=Response(status=201),
                duration_us=5_000,
                recorded_at=at,
            )
        )
    sql = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)[0]
    slowest, with_header = (
        duckdb.sql(q.replace("'tapes/", f"'{tmp_path}/")).fetchall()
        for q in sql.split(";")
        if q.strip()
    )
    assert [(m, p, n) for m, p, n, _ in slowest] == [("GET", "/slow", 10)]
    assert 200 < slowest[0][3] < 210
    assert [path for _, path in with_header] == ["/pay"]
