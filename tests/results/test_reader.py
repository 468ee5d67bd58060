"""The run-folder reader refuses what it cannot read, naming the file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shadowtape.errors import ReplayError
from shadowtape.results.reader import read_results, read_run


def test_a_newer_major_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    table = pa.table({"x": [1]}).replace_schema_metadata({"shadowtape.results_version": "2.0"})
    pq.write_table(table, tmp_path / "results" / "part-1.parquet")
    with pytest.raises(ReplayError, match="newer"):
        list(read_results(tmp_path))


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="not a replay run folder"):
        list(read_results(tmp_path))
    with pytest.raises(ReplayError, match=r"run\.json"):
        read_run(tmp_path)


def test_read_row_finds_one_exchange_across_parts_with_headers_as_pairs(tmp_path: Path) -> None:
    from shadowtape.results.reader import read_row
    from shadowtape.results.schema import SCHEMA

    (tmp_path / "results").mkdir()
    for part, ids in enumerate((["a", "b"], ["c"])):
        rows = [
            {
                "exchange_id": i,
                "method": "GET",
                "path": f"/{i}",
                "candidate_status": 200,
                "candidate_headers": [{"name": "X-Id", "value": i}],
            }
            for i in ids
        ]
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
        pq.write_table(table, tmp_path / "results" / f"part-{part}.parquet")
    row = read_row(tmp_path, "c")
    assert row is not None and row["path"] == "/c" and row["candidate_status"] == 200
    assert row["candidate_headers"] == [("X-Id", "c")] and row["baseline_headers"] is None
    assert read_row(tmp_path, "nope") is None
