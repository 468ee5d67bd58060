"""The exchanges to replay, streamed from tapes in recorded order, as Jobs (jobs.py).

Each source's parts are already in time order; several sources are merged by
``recorded_at``, and a small reorder window straightens exchanges a recorder wrote
slightly out of order. Memory stays bounded by a few record batches per source.

A prefetch thread per source reads and prepares batches with pyarrow, which lets go of the
GIL. What makes Python objects (a Job per row, merging, sharding) runs on the event loop
in short slices between sends (``Feed``): on a thread it made the loop wait for the GIL at
every wake-up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import itertools
import queue
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence

import pyarrow as pa

from shadowtape.errors import ReplayError
from shadowtape.replay.prepare.jobs import Job, Plan, Prepared
from shadowtape.replay.rules.options import Shard
from shadowtape.replay.rules.ordering import shard_of
from shadowtape.tape import TapeFilter, TapeReader

#: Exchanges held back to put a slightly out-of-order tape back in order.
REORDER_WINDOW = 256
#: Rows per record batch read.
BATCH_ROWS = 1024
#: Rows prepared at a time (jobs.Prepared), from batches read end to end, or fewer when
#: they and the requests made of them for each target come to PREPARE_BYTES. Preparing
#: takes about 130 Arrow calls whatever the rows, and each takes the GIL back from a busy
#: loop, up to a switch interval later: at 1,024 rows a batch, a reader at 12,000
#: requests/s fell behind, and the loop with it (p99 latency 10-16 ms; 0.5-1.4 ms at
#: 4,096 rows, in interleaved runs).
PREPARE_ROWS = 4096
PREPARE_BYTES = 32 * 1024 * 1024
#: Prepared batches read ahead per source (bodies included: keep it small).
PREFETCH = 2
#: Jobs taken ahead of the schedule (seconds at production rates)...
AHEAD_JOBS = 1024
#: ...or fewer, when their request bodies reach this many bytes.
AHEAD_BYTES = 16 * 1024 * 1024
#: Seconds of taking jobs per slice: short enough that a send due meanwhile leaves on time.
PUMP_S = 0.00005
#: Seconds between looks when the read-ahead is empty and the tape is still being read.
READ_WAIT_S = 0.0005
#: The schedule waits at most this long for the read-ahead before it starts.
READY_TIMEOUT = 2.0

_DONE = object()


class Prefetch:
    """Runs an iterator of record batches on a thread, a few batches ahead, and prepares
    each there."""

    def __init__(
        self,
        batches: Iterator[pa.RecordBatch],
        depth: int = PREFETCH,
        *,
        plan: Plan | None = None,
    ) -> None:
        self._batches = batches
        self._plan = plan or Plan()
        self._queue: queue.Queue[object] = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shadowtape-reader", daemon=True)
        self._started = False
        self._exhausted = False

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def ready(self) -> bool:
        """Whether the next batch (or the end) can be taken without waiting."""
        return self._exhausted or not self._queue.empty() or self._died()

    def _died(self) -> bool:
        """The thread ended without saying so (a bug, not a tape error): the consumer
        must hear of it, not poll an empty queue for ever."""
        return self._started and not self._thread.is_alive() and self._queue.empty()

    def _run(self) -> None:
        try:
            weight = 1 + len(self._plan.targets)  # the batch, and a request per target
            for batch in _coalesced(self._batches, weight):
                if not self._put(Prepared(batch, self._plan)):
                    return
        except BaseException as exc:  # re-raised on the consumer's side
            self._put(exc)
            return
        self._put(_DONE)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[Prepared]:
        self.start()
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():
                    return
                if self._died():
                    self._exhausted = True
                    raise ReplayError("the tape reader thread stopped unexpectedly") from None
                continue
            if item is _DONE:
                self._exhausted = True
                return
            if isinstance(item, BaseException):
                self._exhausted = True
                raise item
            assert isinstance(item, Prepared)
            yield item

    def stop(self) -> None:
        self._stop.set()


def _coalesced(batches: Iterable[pa.RecordBatch], weight: int = 1) -> Iterator[pa.RecordBatch]:
    """Batches read end to end, at most PREPARE_ROWS at a time, fewer once ``weight``
    times their bytes come to PREPARE_BYTES. The rows read before a damaged part are
    still given, then its error."""
    held: list[pa.RecordBatch] = []
    rows = size = 0
    try:
        for batch in batches:
            while batch.num_rows:
                part, batch = batch.slice(0, PREPARE_ROWS - rows), batch.slice(PREPARE_ROWS - rows)
                held.append(part)
                rows += part.num_rows
                size += part.nbytes * weight
                if rows >= PREPARE_ROWS or size >= PREPARE_BYTES:
                    joined, held, rows, size = _joined(held), [], 0, 0
                    yield joined
    except Exception:
        if held:
            yield _joined(held)
        raise
    if held:
        yield _joined(held)


def _joined(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    return batches[0] if len(batches) == 1 else pa.concat_batches(batches)


def _decoded(batches: Iterable[Prepared]) -> Iterator[Job]:
    for prepared in batches:
        yield from prepared.jobs()


def _at(job: Job) -> int:
    return job.at_us


def _reordered(items: Iterator[Job], window: int) -> Iterator[Job]:
    """``items`` straightened within ``window``; those held back when the tape turns out
    damaged are still given, then the error."""
    heap: list[tuple[int, int, Job]] = []
    try:
        for seq, item in enumerate(items):
            heapq.heappush(heap, (item.at_us, seq, item))
            if len(heap) > window:
                yield heapq.heappop(heap)[2]
    except Exception:
        while heap:
            yield heapq.heappop(heap)[2]
        raise
    while heap:
        yield heapq.heappop(heap)[2]


class Selection:
    """Every selected exchange of one shard, in recorded order, as a plain iterator.

    The tapes are found when it is made, so a wrong location fails before anything is
    sent; reading starts on the first ``next()`` or ``ready()``, and the reader threads
    prepare each job for ``plan``. ``stop()`` ends them.
    """

    @property
    def plan(self) -> Plan:
        """What the reader threads prepare each job for (fixed when the selection is made)."""
        return self._plan

    def __init__(
        self,
        tapes: Sequence[str],
        tape_filter: TapeFilter,
        shard: Shard | None = None,
        plan: Plan | None = None,
    ) -> None:
        self._plan = plan or Plan()
        unlimited = dataclasses.replace(tape_filter, limit=None)
        self.reader = TapeReader(list(tapes), filter=unlimited, batch_size=BATCH_ROWS)
        self.limit = tape_filter.limit
        self.shard = shard
        self._prefetches: list[Prefetch] = []
        self._items: Iterator[Job | None] | None = None

    def _build(self) -> Iterator[Job | None]:
        streams = []
        for source in self.reader.sources():
            sub = self.reader.for_source(source)
            prefetch = Prefetch(sub.batches(), plan=self.plan)
            prefetch.start()
            self._prefetches.append(prefetch)
            decoded = _decoded(prefetch)
            streams.append(_reordered(decoded, REORDER_WINDOW))
        # One source, the usual case, needs no merge.
        merged: Iterator[Job] = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_at)
        if self.limit is not None:
            merged = itertools.islice(merged, self.limit)
        shard = self.shard
        if shard is None:
            return merged
        # Another shard's job comes out as None, so that a caller on the event loop can
        # stop between two and not wait, inside one next(), for batch after batch.
        return (j if shard_of(j.shard_key(), shard.count) == shard.index else None for j in merged)

    def __iter__(self) -> Iterator[Job]:
        return self

    def __next__(self) -> Job:
        while (job := self.poll()) is None:
            pass
        return job

    def poll(self) -> Job | None:
        """The next job, or None for one of another shard (StopIteration at the end)."""
        if self._items is None:
            self._items = self._build()
        return next(self._items)

    def ready(self) -> bool:
        """Whether ``next()`` can go without waiting for a read: each source has a batch
        (or its end) at hand. Conservative: the next job may be at hand already."""
        if self._items is None:
            self._items = self._build()
        return all(prefetch.ready() for prefetch in self._prefetches)

    def stop(self) -> None:
        for prefetch in self._prefetches:
            prefetch.stop()


def selected(
    tapes: Sequence[str],
    tape_filter: TapeFilter,
    shard: Shard | None = None,
    plan: Plan | None = None,
) -> Selection:
    return Selection(tapes, tape_filter, shard, plan)


class Feed:
    """A selection's jobs for the event loop, taken out of the prepared batches on it in
    short slices.

    ``pump()`` takes jobs for a slice of time and keeps them in a bounded read-ahead; the
    engine calls it in the gaps between sends (and at once when the read-ahead runs dry).
    Parquet is read and prepared on the prefetch threads, which hold the GIL only
    briefly; making Python objects holds it throughout, so it is done here, a slice at a
    time, rather than on a thread that would make the loop wait for the GIL at every
    wake-up.
    """

    def __init__(
        self,
        items: Iterator[Job],
        *,
        ahead: int = AHEAD_JOBS,
        ahead_bytes: int = AHEAD_BYTES,
    ) -> None:
        self._items = items
        self._ahead = ahead
        self._ahead_bytes = ahead_bytes
        self._ready: deque[Job] = deque()
        self._bytes = 0
        self._readable: Callable[[], bool] = getattr(items, "ready", _always)
        self._poll: Callable[[], Job | None] = getattr(items, "poll", items.__next__)
        #: The selection has ended (or failed, or was stopped): nothing more to read.
        self.finished = False
        #: Why it failed (a damaged tape), told once the jobs read before are taken.
        self._error: Exception | None = None

    def __len__(self) -> int:
        return len(self._ready)

    def wants(self) -> bool:
        """Whether the read-ahead has room."""
        return (
            not self.finished and len(self._ready) < self._ahead and self._bytes < self._ahead_bytes
        )

    def pump(self, budget: float = PUMP_S) -> bool:
        """Take jobs for about ``budget`` seconds (at least one job), while
        the read-ahead has room. False when there was nothing to do without waiting for
        the tape to be read."""
        if not self.wants() or not self._readable():
            return False
        end = time.perf_counter() + budget
        ready, poll = self._ready, self._poll
        try:
            while True:
                try:
                    job = poll()
                except StopIteration:
                    self.stop()
                    return True
                if job is None:  # another shard's: go on only if the next read is at hand
                    if time.perf_counter() >= end or not self._readable():
                        return True
                    continue
                ready.append(job)
                # The recorded exchange stays in the batch the job points at (counted by
                # the reader's read-ahead): the requests' bytes are what the job adds.
                self._bytes += job.size
                if time.perf_counter() >= end or not self.wants():
                    return True
        except Exception as exc:
            self.stop()
            self._error = exc
            return True
        except BaseException:
            self.stop()
            raise

    def take(self) -> Job | None:
        """The next ready job, if there is one; the selection's error once none is left."""
        if not self._ready:
            if self._error is not None:
                raise self._error
            return None
        job = self._ready.popleft()
        self._bytes -= job.size
        return job

    async def next(self) -> Job | None:
        """The next job, taken now if none is ready; None at the end."""
        while not self._ready:
            if self._error is not None:
                raise self._error
            if self.finished:
                return None
            if not self.pump():
                await asyncio.sleep(READ_WAIT_S)  # the prefetch thread is reading
            elif not self._ready:
                await asyncio.sleep(0)  # a slice of other shards' jobs: let replies in
        return self.take()

    async def fill(self, timeout: float = READY_TIMEOUT) -> None:
        """Fill the read-ahead (waiting at most ``timeout`` s), yielding between slices,
        so the schedule starts with jobs in hand."""
        end = time.monotonic() + timeout
        while self.wants() and time.monotonic() < end:
            if not self.pump():
                await asyncio.sleep(READ_WAIT_S)
            else:
                await asyncio.sleep(0)

    async def __aiter__(self) -> AsyncIterator[Job]:
        while (job := await self.next()) is not None:
            yield job

    def stop(self) -> None:
        """End reading (the reader threads stop soon); never blocks."""
        self.finished = True
        stop = getattr(self._items, "stop", None)
        if stop is not None:
            stop()


def _always() -> bool:
    return True
