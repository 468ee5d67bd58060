"""Rows gathered on the loop into raw buffers come out as the Arrow arrays that building
each column from Python values (the obvious way, and how it was done before) gives."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.exchange import ErrorKind
from shadowtape.replay.http.client import Reply
from shadowtape.replay.prepare.jobs import Job
from shadowtape.results.heads import encode_head
from shadowtape.results.rows import Entry, ResultRows, piece_of
from shadowtape.results.schema import TARGETS
from tests.replay.helpers import ex, jobs_in_batches, write_tape


@functools.cache
def _jobs() -> list[Job]:
    """Jobs in three tape batches, so rows point into several."""
    folder = Path(tempfile.mkdtemp(prefix="gather-"))
    tape = write_tape(folder / "tape", [ex(f"/{i}", at=i) for i in range(6)])
    jobs = jobs_in_batches(tape, 2)
    assert len({id(job.batch) for job in jobs}) == 3
    return jobs


_text = st.one_of(st.none(), st.text(max_size=12))
_ok = st.builds(
    Reply,
    sent=st.floats(0, 10),
    ended=st.floats(10, 20),
    status=st.integers(100, 599),
    reason=_text,
    head=st.one_of(st.none(), st.binary(max_size=40)),
    headers=st.one_of(st.none(), st.just((("A", "1"), ("B", "\u00e9")))),
    body=st.one_of(st.none(), st.binary(max_size=300)),
    body_size=st.one_of(st.none(), st.integers(0, 2**40)),
    body_truncated=st.one_of(st.none(), st.booleans()),
    trace_id=st.one_of(st.none(), st.text("0123456789abcdef", min_size=32, max_size=32)),
)
_failed = st.builds(
    Reply,
    sent=st.floats(0, 10),
    ended=st.floats(10, 20),
    error_kind=st.sampled_from(list(ErrorKind)),
    error_message=_text,
    trace_id=st.one_of(st.none(), st.text("0123456789abcdef", min_size=32, max_size=32)),
)
_replies = st.dictionaries(st.sampled_from(TARGETS), st.one_of(_ok, _failed), max_size=4)


@st.composite
def _entries(draw: st.DrawFn) -> list[Entry]:
    jobs = _jobs()
    entries: list[Entry] = []
    for _ in range(draw(st.integers(1, 12))):
        job = jobs[draw(st.integers(0, len(jobs) - 1))]
        if draw(st.booleans()):
            entries.append((job, draw(st.sampled_from(["mutating", "interrupted"])), None,
                            None, None, None))  # fmt: skip
            continue
        due = draw(st.one_of(st.none(), st.floats(0, 10)))
        scheduled = None if due is None else draw(st.integers(0, 2**53))
        lag = None if due is None else draw(st.integers(0, 10**9))
        entries.append((job, None, scheduled, lag, due, draw(_replies)))
    return entries


def _head(r: Reply) -> bytes | None:
    if r.head is not None or r.headers is None:
        return r.head
    return encode_head(r.status, r.reason, r.headers)


def _fields(r: Reply, due: float | None, target: str) -> dict[str, object]:
    """One reply's values, column by column."""
    # Corrected from the due time; the repeat, and a request with none, from when it left.
    start = r.sent if due is None or target == "repeat" else due
    return {
        "status": r.status,
        "reason": r.reason,
        "headers": _head(r),
        "body": r.body,
        "body_size": r.body_size,
        "body_truncated": r.body_truncated,
        "error_kind": r.error_kind.value if r.error_kind else None,
        "error_message": r.error_message,
        "latency_us": round((r.ended - start) * 1e6),
        "service_us": round((r.ended - r.sent) * 1e6),
        "trace_id": r.trace_id,
    }


_KINDS = {
    "status": pa.int32(),
    "reason": pa.string(),
    "headers": pa.binary(),
    "body": pa.binary(),
    "body_size": pa.int64(),
    "body_truncated": pa.bool_(),
    "error_kind": pa.string(),
    "error_message": pa.string(),
    "latency_us": pa.int64(),
    "service_us": pa.int64(),
    "trace_id": pa.string(),
}


def _expected(entries: list[Entry]) -> dict[str, pa.Array]:
    """Each column from a list of Python values, as pa.array builds it."""
    columns = {
        "skip_reason": pa.array([e[1] for e in entries], pa.string()),
        "scheduled_at": pa.array([e[2] for e in entries], pa.int64()),
        "lag_us": pa.array([e[3] for e in entries], pa.int64()),
    }
    for target in TARGETS:
        got = [(e[5] or {}).get(target) for e in entries]
        if not any(got):
            continue
        rows = [
            None if r is None else _fields(r, e[4], target)
            for r, e in zip(got, entries, strict=True)
        ]
        for name, kind in _KINDS.items():
            values = [None if row is None else row[name] for row in rows]
            columns[f"{target}_{name}"] = pa.array(values, kind)
    return columns


@settings(max_examples=300, deadline=None)
@given(_entries())
def test_gathered_columns_equal_columns_built_from_python_values(entries: list[Entry]) -> None:
    piece = piece_of(entries, "run1", live_baseline=False)
    expected = _expected(entries)
    assert set(piece.columns) == set(expected)
    for name, array in expected.items():
        got = piece.columns[name]
        got.validate(full=True)
        assert got.equals(array), (name, got, array)
    # Each row points at its own exchange in the batches laid end to end.
    tape = pa.Table.from_batches(piece.batches)
    ids = tape.column("id").take(piece.rows).to_pylist()
    assert ids == [e[0].id for e in entries]
    assert piece.nbytes == sum(
        len(r.body) for e in entries for r in (e[5] or {}).values() if r.body
    )


def test_rows_taken_leave_an_empty_gathering_and_count_their_bodies() -> None:
    job = _jobs()[0]
    rows = ResultRows("run1", live_baseline=False)
    reply = Reply(sent=1.0, ended=1.5, status=200, body=b"x" * 10, body_size=10)
    rows.add(job, None, 1, 0, 1.0, {"candidate": reply})
    rows.add(job, "mutating")
    assert len(rows) == 2 and rows.body_bytes == 10
    taken = rows.take()
    assert len(rows) == 0 and rows.body_bytes == 0
    piece = taken.piece()
    assert piece.n == 2 and piece.run_id == "run1"
    assert piece.columns["candidate_status"].to_pylist() == [200, None]


def test_a_row_that_fails_halfway_is_taken_back_and_the_others_stand() -> None:
    job = _jobs()[0]
    rows = ResultRows("run1", live_baseline=False)
    good = Reply(sent=1.0, ended=1.5, status=200, reason="OK", body=b"ok", body_size=2)
    rows.add(job, None, 1, 0, 1.0, {"candidate": good})
    # A status past int32 fails after the row's first columns were appended.
    bad = Reply(sent=1.0, ended=1.5, status=2**31, reason="?", body=b"xx", body_size=2)
    with pytest.raises(OverflowError):
        rows.add(job, None, 2, 0, 1.0, {"candidate": good, "repeat": bad})
    rows.add(job, "mutating")
    assert len(rows) == 2 and rows.body_bytes == 2
    piece = rows.take().piece()
    for array in piece.columns.values():
        array.validate(full=True)
        assert len(array) == 2
    assert piece.columns["scheduled_at"].to_pylist() == [1, None]
    assert piece.columns["candidate_body"].to_pylist() == [b"ok", None]
    assert piece.columns["repeat_status"].to_pylist() == [None, None]
