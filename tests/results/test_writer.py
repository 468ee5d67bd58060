from __future__ import annotations

import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shadowtape.errors import ReplayError
from shadowtape.exchange import ErrorKind
from shadowtape.replay.http.client import Reply
from shadowtape.replay.prepare.jobs import Job
from shadowtape.replay.prepare.stream import selected
from shadowtape.results.reader import read_results, read_run, result_parts
from shadowtape.results.rows import Entry, Gathered, ResultRows, piece_of
from shadowtape.results.schema import SCHEMA
from shadowtape.results.writer import STATISTICS_COLUMNS, ResultsWriter, write_run_json
from shadowtape.tape import TapeFilter
from tests.replay.helpers import ex, jobs_in_batches, write_tape
from tests.tape.helpers import column_chunks, footer


def _write(run_dir: Path) -> None:
    tape = write_tape(
        run_dir / "tape",
        [
            ex("/skipped", method="POST", at=0),
            ex("/ok", headers=[("X", "y")], at=1),
        ],
    )
    skipped, done = list(selected([str(tape)], TapeFilter()))
    rows = ResultRows("run1", live_baseline=False)
    rows.add(skipped, "mutating")
    ok = Reply(
        sent=10.5,
        ended=10.75,
        status=201,
        reason="Created",
        # As the client keeps it: the head as bytes, one value not UTF-8.
        head=b"HTTP/1.1 201 Created\r\nA: 1\r\nX-Raw: caf\xe9",
        body=b"hi",
        body_size=2,
        body_truncated=False,
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    )
    failed = Reply(sent=10.0, ended=10.2, error_kind=ErrorKind.RESET, error_message="reset")
    rows.add(done, None, 1_000_000, 500_000, 10.0, {"candidate": ok, "repeat": failed})
    writer = ResultsWriter(run_dir)
    writer.put(rows.take())
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
    # The trace id sent; none to the repeat here, and none to the recorded baseline.
    assert done["candidate_trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert done["repeat_trace_id"] is None and done["baseline_trace_id"] is None
    assert done["request_headers"] == [{"name": "X", "value": "y"}]
    assert done["path"] == "/ok" and skipped["path"] == "/skipped"
    assert skipped["request_headers"] == [] and skipped["method"] == "POST"
    assert read_run(tmp_path)["run_id"] == "run1"


def test_parts_carry_the_results_version(tmp_path: Path) -> None:
    _write(tmp_path)
    (part,) = (tmp_path / "results").glob("part-*.parquet")
    assert pq.ParquetFile(part).schema_arrow.metadata[b"shadowtape.results_version"] == b"1.3"


def test_pieces_from_several_tape_batches_are_assembled_in_order(tmp_path: Path) -> None:
    """The writer gathers pieces into one row group: each row keeps its own request and
    recorded response, a target missing from one piece is null there, and a skipped row
    has no baseline."""
    tape = write_tape(
        tmp_path / "tape",
        [ex(f"/{i}", at=i, status=200 + i, method="POST" if i == 2 else "GET") for i in range(6)],
    )
    # Small batches, so the pieces point into several of them.
    jobs = jobs_in_batches(tape, 2)
    assert len({id(job.batch) for job in jobs}) == 3

    def reply(status: int) -> Reply:
        return Reply(
            sent=1.0, ended=1.5, status=status, head=b"HTTP/1.1 200 OK", body=b"", body_size=0
        )

    first: list[Entry] = [
        (jobs[0], None, 1, 0, 1.0, {"candidate": reply(500), "repeat": reply(501)}),
        (jobs[2], "mutating", None, None, None, None),
    ]
    second: list[Entry] = [(job, None, 1, 0, 1.0, {"candidate": reply(600 + i)}) for i, job in
                           enumerate([jobs[5], jobs[1], jobs[3], jobs[4]])]  # fmt: skip
    # Starts in the batch the last piece ended in (the usual case: pieces follow the tape).
    third: list[Entry] = [(job, None, 1, 0, 1.0, {"candidate": reply(700 + i)}) for i, job in
                          enumerate([jobs[3], jobs[0]])]  # fmt: skip
    writer = ResultsWriter(tmp_path)
    for entries in (first, second, third):
        writer.put(piece_of(entries, "run1", live_baseline=False))
    writer.close()
    (part,) = result_parts(tmp_path)
    assert pq.ParquetFile(part).metadata.num_row_groups == 1
    rows = pq.read_table(part).to_pylist()
    assert [r["path"] for r in rows] == ["/0", "/2", "/5", "/1", "/3", "/4", "/3", "/0"]
    assert [r["baseline_status"] for r in rows] == [200, None, 205, 201, 203, 204, 203, 200]
    assert [r["candidate_status"] for r in rows] == [500, None, 600, 601, 602, 603, 700, 701]
    assert [r["repeat_status"] for r in rows] == [501, None, None, None, None, None, None, None]
    assert rows[1]["skip_reason"] == "mutating" and rows[1]["method"] == "POST"
    assert {r["run_id"] for r in rows} == {"run1"}


def test_a_writer_that_fails_reports_it_at_close_and_stops(tmp_path: Path) -> None:
    """A group that cannot be assembled is an error close() reports, not a writer thread
    that retries it forever while close() waits."""
    tape = write_tape(tmp_path / "tape", [ex("/0")])
    (job,) = list(selected([str(tape)], TapeFilter()))
    piece = piece_of([(job, None, 1, 0, 1.0, {"candidate": Reply(sent=1.0, ended=1.5)})],
                     "run1", live_baseline=False)  # fmt: skip
    piece.rows = pa.array([7], pa.int64())  # past the end of its tape batch
    writer = ResultsWriter(tmp_path / "run")
    writer.put(piece)
    with pytest.raises(ReplayError, match="cannot write results"):
        writer.close()


@pytest.mark.timing
def test_a_slow_trickle_of_rows_reaches_closed_parts_while_the_run_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replay at a few requests a second hands over a few rows at a time, never a
    quiet second: its rows must still reach a closed (readable) part on time."""
    monkeypatch.setattr("shadowtape.results.writer.WRITE_EVERY_S", 0.2)
    tape = write_tape(tmp_path / "tape", [ex(f"/{i}") for i in range(12)])
    jobs = list(selected([str(tape)], TapeFilter()))
    writer = ResultsWriter(tmp_path / "run", part_age=0.5)
    try:
        for job in jobs:
            reply = Reply(sent=1.0, ended=1.5, status=200)
            piece = piece_of([(job, None, 1, 0, 1.0, {"candidate": reply})], "run1", False)
            writer.put(piece)
            time.sleep(0.1)  # steadier than the writer's one-second idle wait
        closed = result_parts(tmp_path / "run")
        assert closed, "nothing readable yet"
        assert sum(pq.read_metadata(p).num_rows for p in closed) >= 6
    finally:
        writer.close()
    assert sum(pq.read_metadata(p).num_rows for p in result_parts(tmp_path / "run")) == 12


def _megabyte_row(job: Job) -> Gathered:
    """One finished row whose reply body is a megabyte."""
    rows = ResultRows("run1")
    body = bytes(1_000_000)
    reply = Reply(sent=1.0, ended=1.5, status=200, body=body, body_size=len(body))
    rows.add(job, None, 1, 0, 1.0, {"candidate": reply})
    return rows.take()


def test_put_waits_while_the_thread_is_behind_by_too_many_body_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory stays bounded with large bodies: the loop waits for the writer thread once
    the bodies handed over and not yet taken reach QUEUE_BYTES, and none is lost."""
    release = threading.Event()
    # The thread's first step: held, so that it takes nothing until released.
    monkeypatch.setattr("shadowtape.results.writer.lower_this_thread", lambda: release.wait(10))
    monkeypatch.setattr("shadowtape.results.writer.QUEUE_BYTES", 3_000_000)
    tape = write_tape(tmp_path / "tape", [ex("/0")])
    (job,) = list(selected([str(tape)], TapeFilter()))
    writer = ResultsWriter(tmp_path / "run")
    handed: list[int] = []

    def hand_over() -> None:
        for i in range(5):
            writer.put(_megabyte_row(job))
            handed.append(i)

    thread = threading.Thread(target=hand_over)
    thread.start()
    time.sleep(0.5)
    assert len(handed) == 3  # 3 MB waiting: the fourth waits for room
    release.set()
    thread.join(5)
    assert len(handed) == 5
    writer.close()
    assert sum(pq.read_metadata(p).num_rows for p in result_parts(tmp_path / "run")) == 5


def test_a_results_thread_that_died_is_an_error_not_a_wait_for_ever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug that kills the writer thread (simulated: its first step raises) reaches the
    replay as an error once it would wait for room, and again at close."""

    def crash() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("shadowtape.results.writer.lower_this_thread", crash)
    monkeypatch.setattr("shadowtape.results.writer.QUEUE_BYTES", 1_500_000)
    monkeypatch.setattr(threading, "excepthook", lambda args: None)  # expected: quiet
    (job,) = list(selected([str(write_tape(tmp_path / "tape", [ex("/0")]))], TapeFilter()))
    writer = ResultsWriter(tmp_path / "run")
    started = time.monotonic()
    with pytest.raises(ReplayError, match="results thread stopped unexpectedly"):
        for _ in range(3):
            writer.put(_megabyte_row(job))
    assert time.monotonic() - started < 5
    with pytest.raises(ReplayError, match="stopped unexpectedly"):
        writer.close()


PLANTED = "planted-Zq9xW4"


def test_no_footer_repeats_a_request_or_response_value(tmp_path: Path) -> None:
    """Min/max statistics would copy values into the footer, which is never compressed:
    only columns that cannot hold a recorded or replayed value keep them (as in tapes)."""
    planted = ex(
        f"/{PLANTED}",
        method=f"M{PLANTED}",
        host=f"{PLANTED}.test",
        query=f"q={PLANTED}",
        headers=[("X-Planted", PLANTED)],
        body=PLANTED.encode(),
        response_body=PLANTED.encode(),
    )
    planted = planted.replace(redactions=(PLANTED,))
    tape = write_tape(tmp_path / "tape", [planted])
    [job] = list(selected([str(tape)], TapeFilter()))
    reply = Reply(
        sent=1.0,
        ended=1.5,
        status=200,
        reason=PLANTED,
        head=f"HTTP/1.1 200 {PLANTED}\r\nX-Planted: {PLANTED}".encode(),
        body=PLANTED.encode(),
        body_size=len(PLANTED),
        body_truncated=False,
    )
    failed = Reply(sent=1.0, ended=1.2, error_kind=ErrorKind.RESET, error_message=PLANTED)
    rows = ResultRows("run1", live_baseline=True)
    replies = {"baseline": reply, "candidate": reply, "secondary": failed, "repeat": failed}
    rows.add(job, None, 1_000_000, 500_000, 1.0, replies)
    writer = ResultsWriter(tmp_path)
    writer.put(rows.take())
    writer.close()
    (part,) = (tmp_path / "results").glob("part-*.parquet")
    [row] = pq.read_table(part).to_pylist()
    holding = {name for name, value in row.items() if PLANTED in repr(value)}
    assert {"path", "request_body", "candidate_body", "secondary_error_message"} <= holding
    assert PLANTED.encode() not in footer(part)
    safe = set(STATISTICS_COLUMNS)
    assert not safe & holding
    for path, top, stats_set in column_chunks(part):
        assert top in SCHEMA.names
        assert stats_set == (top in safe), path
