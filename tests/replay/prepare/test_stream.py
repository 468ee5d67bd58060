from __future__ import annotations

import io
import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from rich.console import Console

from shadowtape.errors import ReplayError, TapeFormatError
from shadowtape.replay.prepare import stream
from shadowtape.replay.prepare.jobs import Job, Plan
from shadowtape.replay.prepare.stream import Feed, selected
from shadowtape.replay.progress import (
    NoProgress,
    PlainProgress,
    RichProgress,
    Snapshot,
    make_progress,
)
from shadowtape.replay.rules.options import Shard
from shadowtape.tape import TapeFilter, TapeReader
from tests.replay.helpers import ex, write_tape


def test_sources_are_merged_in_recorded_order_and_limit_is_global(tmp_path: Path) -> None:
    write_tape(
        tmp_path,
        [ex(f"/a/{i}", at=i * 0.01, source="a") for i in range(5)]
        + [ex(f"/b/{i}", at=i * 0.01 + 0.005, source="b") for i in range(5)],
    )
    paths = [e.path for e in selected([str(tmp_path)], TapeFilter())]
    assert paths == [p for i in range(5) for p in (f"/a/{i}", f"/b/{i}")]
    limited = [e.path for e in selected([str(tmp_path)], TapeFilter(limit=3))]
    assert limited == ["/a/0", "/b/0", "/a/1"]


def test_a_slightly_out_of_order_tape_is_straightened(tmp_path: Path) -> None:
    offsets = [0.0, 0.02, 0.01, 0.03, 0.05, 0.04]
    write_tape(tmp_path, [ex(f"/{o}", at=o) for o in offsets])
    got = [e.at_us for e in selected([str(tmp_path)], TapeFilter())]
    assert got == sorted(got)


def test_shards_select_disjoint_parts(tmp_path: Path) -> None:
    write_tape(tmp_path, [ex(f"/{i}", at=i * 0.001) for i in range(50)])
    ids = [{e.id for e in selected([str(tmp_path)], TapeFilter(), Shard(i, 2))} for i in (1, 2)]
    assert not ids[0] & ids[1] and len(ids[0] | ids[1]) == 50


@pytest.mark.anyio
async def test_a_sharded_feed_gives_its_shards_jobs_in_order(tmp_path: Path) -> None:
    write_tape(tmp_path, [ex(f"/{i}", at=i * 0.001) for i in range(300)])
    plain = [e.id for e in selected([str(tmp_path)], TapeFilter(), Shard(2, 3))]
    feed = Feed(selected([str(tmp_path)], TapeFilter(), Shard(2, 3)))
    assert [job.id async for job in feed] == plain and 60 < len(plain) < 140


class _OtherShards:
    """A sharded selection whose next jobs all belong to other shards, and whose reader
    has nothing more at hand after the first of them."""

    def __init__(self) -> None:
        self.polled = 0

    def __next__(self) -> Job:
        raise AssertionError("the feed must poll, not block in next()")

    def poll(self) -> None:
        self.polled += 1

    def ready(self) -> bool:
        return self.polled == 0


def test_the_feed_stops_between_other_shards_jobs_when_the_next_read_would_wait() -> None:
    """Another shard's jobs are skipped on the loop; once the reader has nothing at hand,
    the next skip could wait for a read, so the feed hands the loop back instead."""
    items = _OtherShards()
    feed = Feed(items)  # type: ignore[arg-type]
    assert feed.pump(budget=10.0) is True  # it did work: one skip
    assert items.polled == 1 and len(feed) == 0
    assert feed.pump(budget=10.0) is False  # nothing at hand: the loop goes on


class _ManyOtherShards(_OtherShards):
    """Thousands of other shards' jobs, every read at hand, then one of this shard."""

    def poll(self) -> Job | None:  # type: ignore[override]
        self.polled += 1
        if self.polled > 5_000:
            raise StopIteration
        return None

    def ready(self) -> bool:
        return True


@pytest.mark.anyio
async def test_waiting_for_the_next_job_lets_the_loop_turn_while_skipping() -> None:
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await anyio.sleep(0)

    feed = Feed(_ManyOtherShards())  # type: ignore[arg-type]
    async with anyio.create_task_group() as tg:
        tg.start_soon(other_work)
        assert await feed.next() is None
        tg.cancel_scope.cancel()
    assert turns > 10  # replies would have been read meanwhile


def test_missing_tape_fails_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no such file"):
        selected([str(tmp_path / "nope")], TapeFilter())


@pytest.mark.anyio
async def test_the_feed_yields_every_job_in_order(tmp_path: Path) -> None:
    write_tape(tmp_path, [ex(f"/{i}", at=i * 0.001) for i in range(3000)])
    feed = Feed(selected([str(tmp_path)], TapeFilter()))
    got = [e.path async for e in feed]
    assert got == [f"/{i}" for i in range(3000)]
    assert feed.finished


@pytest.mark.anyio
async def test_a_pump_is_a_short_slice_not_the_whole_read_ahead(tmp_path: Path) -> None:
    """The loop decodes between sends: one pump must not hold it for long."""
    write_tape(tmp_path, [ex(f"/{i}", at=i * 0.001) for i in range(3000)])
    feed = Feed(selected([str(tmp_path)], TapeFilter()), ahead=2000)
    while not feed.pump():  # the first batch is being read
        await anyio.sleep(0.001)
    first = len(feed)
    assert 0 < first < 2000
    await feed.fill()
    assert len(feed) == 2000  # filled to the read-ahead, not beyond
    assert not feed.pump()
    feed.stop()
    await anyio.sleep(0.3)
    assert not any(t.name == "shadowtape-reader" and t.is_alive() for t in threading.enumerate())


def test_plain_progress_lines() -> None:
    out = io.StringIO()
    view = PlainProgress(out, interval=1)
    view.update(Snapshot(done=10, selected=12, skipped=2, errors=1, lag_ms=3.25, total=100))
    line = out.getvalue().strip()
    assert line.startswith("shadowtape replay: 10/100 replayed (")
    assert "1 errors, 2 skipped, lag 3.2 ms" in line


@pytest.mark.anyio
async def test_the_feed_reads_a_bounded_distance_ahead_whatever_the_tape_size(
    tmp_path: Path,
) -> None:
    """Memory stays bounded: an endless selection is read only a bounded distance ahead."""
    pulled = 0
    (template,) = selected([str(write_tape(tmp_path, [ex()]))], TapeFilter())

    def endless() -> Iterator[Job]:
        nonlocal pulled
        for _ in itertools.count():
            pulled += 1
            yield template

    feed = Feed(endless(), ahead=40)
    await feed.fill()
    ahead = pulled
    taken = 0
    async for _ in feed:
        taken += 1
        if taken == 100:
            break
    feed.stop()
    assert ahead == 40
    assert pulled <= taken + 40


@pytest.mark.anyio
async def test_a_tape_error_while_streaming_reaches_the_loop(tmp_path: Path) -> None:
    (job,) = selected([str(write_tape(tmp_path, [ex()]))], TapeFilter())

    def broken() -> Iterator[Job]:
        yield job
        raise TapeFormatError("part-2.parquet: corrupt")

    feed = Feed(broken())
    with pytest.raises(TapeFormatError, match="corrupt"):
        [e async for e in feed]
    assert feed.finished


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert isinstance(make_progress("auto"), PlainProgress)
    assert isinstance(make_progress("off"), NoProgress)
    out = io.StringIO()
    bar = RichProgress(Console(file=out, force_terminal=True, width=120))
    bar.update(Snapshot(done=5, selected=6, skipped=1, errors=2, lag_ms=1.5, total=10))
    bar.close(Snapshot(done=9, selected=10, skipped=1, errors=2, lag_ms=0.5, total=10))
    text = out.getvalue()
    assert "replaying" in text and "2 errors" in text and "lag 0.5 ms" in text


def test_a_reader_thread_that_dies_is_an_error_not_a_wait_for_ever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug that kills the reader thread outside its own error handling (simulated
    here: the thread's body raises at once) reaches the consumer as an error."""
    from shadowtape.replay.prepare import stream

    def crash(self: stream.Prefetch) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(stream.Prefetch, "_run", crash)
    monkeypatch.setattr(threading, "excepthook", lambda args: None)  # expected: quiet
    tape = write_tape(tmp_path / "tape", [ex("/a", at=0)])
    done = threading.Event()
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            list(selected([str(tape)], TapeFilter()))
        except ReplayError as exc:
            errors.append(exc)
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    assert done.wait(10), "the consumer waited for ever"
    assert errors and "reader thread stopped" in str(errors[0])


def test_rows_are_prepared_in_bounded_batches_and_keep_their_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches read end to end are prepared up to PREPARE_ROWS, or fewer once they hold
    PREPARE_BYTES: memory stays bounded with large bodies."""
    write_tape(tmp_path, [ex(f"/{i}", at=i * 0.001, body=b"x" * 1000) for i in range(3000)])
    whole = list(selected([str(tmp_path)], TapeFilter()))
    assert len({id(job.batch) for job in whole}) == 1  # 3,000 rows < PREPARE_ROWS
    monkeypatch.setattr(stream, "PREPARE_ROWS", 1000)
    capped = list(selected([str(tmp_path)], TapeFilter()))
    assert list(Counter(id(job.batch) for job in capped).values()) == [1000, 1000, 1000]
    monkeypatch.setattr(stream, "PREPARE_ROWS", 4096)
    monkeypatch.setattr(stream, "PREPARE_BYTES", 200_000)
    bounded = list(selected([str(tmp_path)], TapeFilter()))
    sizes = Counter(id(job.batch) for job in bounded).values()
    assert len(sizes) == 3 and max(sizes) <= stream.BATCH_ROWS
    assert (
        [job.path for job in bounded]
        == [job.path for job in whole]
        == [f"/{i}" for i in range(3000)]
    )


def test_the_requests_made_for_each_target_count_toward_a_prepared_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch prepared for three targets holds its requests three times over: it is cut
    at a third of the rows that one target would allow."""
    write_tape(tmp_path, [ex(f"/{i}", at=i * 0.001, body=b"x" * 1000) for i in range(3000)])
    batches = list(TapeReader([str(tmp_path)], batch_size=500).batches())
    sizes = [b.nbytes for b in batches]
    assert max(sizes) < 1.1 * min(sizes)  # alike, so the cuts below are where they fall
    monkeypatch.setattr(stream, "PREPARE_BYTES", int(2.5 * max(sizes)))
    one = [b.num_rows for b in stream._coalesced(batches, weight=1)]
    three = [b.num_rows for b in stream._coalesced(batches, weight=3)]
    assert one == [1500, 1500] and three == [500] * 6


def test_a_selection_is_prepared_for_the_one_plan_it_was_made_with(tmp_path: Path) -> None:
    write_tape(tmp_path, [ex("/a")])
    selection = selected([str(tmp_path)], TapeFilter(), plan=Plan(allow_mutating=True))
    assert [job.skip for job in selection] == [None]
    with pytest.raises(AttributeError):
        selection.plan = Plan()  # type: ignore[misc]
