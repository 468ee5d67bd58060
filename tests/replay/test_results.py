from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shadowtape.errors import ReplayError
from shadowtape.exchange import ErrorKind
from shadowtape.replay.client import Reply
from shadowtape.replay.results import (
    SCHEMA,
    ResultRows,
    ResultsWriter,
    read_results,
    read_run,
    results_batch,
    write_run_json,
)
from shadowtape.replay.stream import selected
from shadowtape.tape import TapeFilter
from tests.replay.helpers import ex, write_tape


def _write(run_dir: Path) -> None:
    tape = write_tape(
        run_dir / "tape",
        [
            ex("/skipped", method="POST", at=0),
            ex("/ok", headers=[("X", "y")], at=1),
        ],
    )
    skipped, done = list(selected([str(tape)], TapeFilter()))
    rows = ResultRows()
    rows.add(skipped, "mutating")
    ok = Reply(
        sent=10.5,
        ended=10.75,
        status=201,
        reason="Created",
        # As the client keeps them: bytes, one value not UTF-8.
        raw_headers=[(b"A", b"1"), (b"X-Raw", b"caf\xe9")],
        body=b"hi",
        body_size=2,
        body_truncated=False,
    )
    failed = Reply(sent=10.0, ended=10.2, error_kind=ErrorKind.RESET, error_message="reset")
    rows.add(done, None, 1_000_000, 500_000, 10.0, {"candidate": ok, "repeat": failed})
    writer = ResultsWriter(run_dir)
    writer.put(results_batch(rows.take(), "run1", live_baseline=False))
    writer.close()
    write_run_json(run_dir, {"results_version": "1.0", "run_id": "run1"})


def test_rows_round_trip_with_corrected_and_uncorrected_latency(tmp_path: Path) -> None:
    _write(tmp_path)
    table = pa.Table.from_batches(list(read_results([tmp_path])))
    assert table.schema.equals(SCHEMA, check_metadata=False)
    skipped, done = table.to_pylist()
    assert skipped["skip_reason"] == "mutating"
    assert skipped["candidate_status"] is None and skipped["baseline_status"] is None
    assert done["skip_reason"] is None and done["baseline_mode"] == "recorded"
    assert done["baseline_status"] == 200 and done["baseline_latency_us"] == 1234
    assert done["candidate_status"] == 201
    assert done["candidate_headers"] == [
        {"name": "A", "value": "1"},
        {"name": "X-Raw", "value": "caf\ufffd"},
    ]
    assert done["candidate_latency_us"] == 750_000  # from the due time
    assert done["candidate_service_us"] == 250_000  # from the actual send
    assert done["repeat_error_kind"] == "reset" and done["repeat_status"] is None
    assert done["repeat_latency_us"] == done["repeat_service_us"] == 200_000
    assert done["request_headers"] == [{"name": "X", "value": "y"}]
    assert done["path"] == "/ok" and skipped["path"] == "/skipped"
    assert skipped["request_headers"] == [] and skipped["method"] == "POST"
    assert read_run(tmp_path)["run_id"] == "run1"


def test_parts_carry_the_results_version(tmp_path: Path) -> None:
    _write(tmp_path)
    (part,) = (tmp_path / "results").glob("part-*.parquet")
    assert pq.ParquetFile(part).schema_arrow.metadata[b"shadowtape.results_version"] == b"1.0"


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
