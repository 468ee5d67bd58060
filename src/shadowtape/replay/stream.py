"""The exchanges to replay, streamed from tapes in recorded order, as Jobs (jobs.py).

Parts of one source are already in time order (by partition, then by part name); several
sources are merged by ``recorded_at``, and a small reorder window straightens exchanges
a recorder wrote slightly out of order. Memory stays bounded by a few record batches per
source whatever the tape's size.

Threads: a prefetch thread per source reads record batches (pyarrow, which releases the
GIL); one feed thread decodes them into Jobs, merges and shards them, prepares each one
for sending (checks, state keys, the bytes for each target) and keeps a bounded queue of
them ahead of the schedule. Decoding on the event loop held it for milliseconds at a time
(tens under CPU contention), and a send due in that stretch left late: at 200 requests/s
that broke the recorded gaps. The feed thread shares the GIL with the loop, so it
converts a few rows per C call (jobs.DECODE_ROWS) and the engine shortens the
interpreter's switch interval while it runs (see engine.py), which keeps the loop's wait
for the GIL short.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import heapq
import itertools
import queue
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence

import pyarrow as pa

from shadowtape.replay.jobs import Job, jobs_from_batch
from shadowtape.replay.options import Shard
from shadowtape.replay.ordering import shard_of
from shadowtape.tape import TapeFilter, TapeReader

#: Exchanges held back to put a slightly out-of-order tape back in order.
REORDER_WINDOW = 256
#: Rows per record batch read (fewer hand-overs between the threads).
BATCH_ROWS = 1024
#: Record batches read ahead per source (bodies included: keep it small).
PREFETCH = 4
#: Exchanges handed from the feed thread to the loop at a time...
CHUNK = 128
#: ...or fewer, when their bodies reach this many bytes.
CHUNK_BYTES = 1024 * 1024
#: Chunks read ahead of the schedule: seconds at production rates, and with CHUNK_BYTES
#: the bound on the bodies held (16 MiB).
AHEAD_CHUNKS = 16
#: The schedule waits at most this long for the read-ahead before it starts.
READY_TIMEOUT = 2.0

_DONE = object()


class Prefetch:
    """Runs an iterator of record batches on a thread, a few batches ahead."""

    def __init__(self, batches: Iterator[pa.RecordBatch], depth: int = PREFETCH) -> None:
        self._batches = batches
        self._queue: queue.Queue[object] = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shadowtape-reader", daemon=True)
        self._started = False

    def _run(self) -> None:
        try:
            for batch in self._batches:
                if not self._put(batch):
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

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        if not self._started:
            self._started = True
            self._thread.start()
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, pa.RecordBatch)
            yield item

    def stop(self) -> None:
        self._stop.set()


def _decoded(batches: Iterable[pa.RecordBatch]) -> Iterator[Job]:
    for batch in batches:
        yield from jobs_from_batch(batch)


def _at(job: Job) -> int:
    return job.at_us


def _reordered(items: Iterator[Job], window: int) -> Iterator[Job]:
    heap: list[tuple[int, int, Job]] = []
    for seq, item in enumerate(items):
        heapq.heappush(heap, (item.at_us, seq, item))
        if len(heap) > window:
            yield heapq.heappop(heap)[2]
    while heap:
        yield heapq.heappop(heap)[2]


class Selection:
    """Every selected exchange of one shard, in recorded order, as a plain iterator.

    The tapes are found when it is made, so a wrong location fails before anything is
    sent; reading starts on the first ``next()``. ``stop()`` ends the reader threads.
    """

    def __init__(
        self, tapes: Sequence[str], tape_filter: TapeFilter, shard: Shard | None = None
    ) -> None:
        unlimited = dataclasses.replace(tape_filter, limit=None)
        self.reader = TapeReader(list(tapes), filter=unlimited, batch_size=BATCH_ROWS)
        self.limit = tape_filter.limit
        self.shard = shard
        self._prefetches: list[Prefetch] = []
        self._items: Iterator[Job] | None = None

    def _build(self) -> Iterator[Job]:
        by_source: dict[str | None, list[object]] = defaultdict(list)
        for part in self.reader.parts:
            by_source[part.source].append(part)
        streams = []
        for parts in by_source.values():
            sub = copy.copy(self.reader)
            sub.parts = parts  # type: ignore[assignment]
            prefetch = Prefetch(sub.batches())
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
        return (j for j in merged if shard_of(j.shard_key(), shard.count) == shard.index)

    def __iter__(self) -> Iterator[Job]:
        return self

    def __next__(self) -> Job:
        if self._items is None:
            self._items = self._build()
        return next(self._items)

    def stop(self) -> None:
        for prefetch in self._prefetches:
            prefetch.stop()


def selected(
    tapes: Sequence[str], tape_filter: TapeFilter, shard: Shard | None = None
) -> Selection:
    return Selection(tapes, tape_filter, shard)


class JobStream:
    """A selection's jobs for the event loop, read, decoded and prepared ahead on a thread.

    The feed thread runs the whole selection (Parquet reads, decoding, merge, shard) and
    hands over chunks through a bounded queue; the loop only ever takes a ready chunk, so
    a slow read or a batch being decoded never holds up a send. ``ready()`` waits until
    the feed is a full queue ahead (or the selection ended), so the schedule can start
    without the first stretch competing with the read-ahead.
    """

    def __init__(
        self,
        items: Iterator[Job],
        *,
        prepare: Callable[[Job], Job] | None = None,
        depth: int = AHEAD_CHUNKS,
        chunk: int = CHUNK,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self._items = items
        self._prepare = prepare
        self._queue: queue.Queue[object] = queue.Queue(depth)
        self._chunk = chunk
        self._chunk_bytes = chunk_bytes
        self._stopped = threading.Event()
        #: Set when the feed thread has handed over everything it will.
        self._produced = threading.Event()
        self._lock = threading.Lock()
        self._waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._finished = False

    # -- the feed thread ----------------------------------------------------------------------

    def _produce(self) -> None:
        try:
            chunk: list[Job] = []
            size = 0
            prepare = self._prepare
            for job in self._items:
                if prepare is not None:
                    job = prepare(job)
                chunk.append(job)
                # The recorded response stays in the batch the job points at (counted
                # by the reader's read-ahead): the request is what the job adds.
                size += 2 * len(job.body)
                if len(chunk) >= self._chunk or size >= self._chunk_bytes:
                    if not self._put(chunk):
                        return
                    chunk, size = [], 0
            if chunk and not self._put(chunk):
                return
            self._put(_DONE)
        except BaseException as exc:  # raised again on the loop's side
            self._put(exc)
        finally:
            self._stop_items()
            self._produced.set()
            self._wake()

    def _put(self, item: object) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.1)
            except queue.Full:
                continue
            self._wake()
            return True
        return False

    def _wake(self) -> None:
        with self._lock:
            waiter, self._waiter = self._waiter, None
        if waiter is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed after a stop
                self._loop.call_soon_threadsafe(_resolve, waiter)

    # -- the loop's side ----------------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is None:
            self._loop = asyncio.get_running_loop()
            self._thread = threading.Thread(
                target=self._produce, name="shadowtape-feed", daemon=True
            )
            self._thread.start()

    def _has(self, full: bool) -> bool:
        return self._queue.full() if full else not self._queue.empty()

    async def _wait(self, full: bool = False) -> None:
        """Wait until the queue holds something (with ``full``: is full), or the feed
        thread has put all it ever will."""
        assert self._loop is not None
        while not self._has(full) and not self._produced.is_set():
            waiter = self._loop.create_future()
            with self._lock:
                self._waiter = waiter
            # Registered first, checked second: a chunk put in between is not missed.
            if self._has(full) or self._produced.is_set():
                with self._lock:
                    self._waiter = None
                return
            await waiter

    async def ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Start reading and wait (at most ``timeout`` s) until a full queue is ready."""
        self._start()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wait(full=True)

    async def chunks(self) -> AsyncIterator[list[Job]]:
        """The jobs in recorded order, a ready chunk at a time."""
        self._start()
        try:
            while not self._finished:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    if self._produced.is_set():  # stopped before the end
                        return
                    await self._wait()
                    continue
                if item is _DONE:
                    self._finished = True
                    return
                if isinstance(item, BaseException):
                    self._finished = True
                    raise item
                assert isinstance(item, list)
                yield item
        finally:
            self.stop()

    async def __aiter__(self) -> AsyncIterator[Job]:
        async for chunk in self.chunks():
            for job in chunk:
                yield job

    def stop(self) -> None:
        """End the feed thread (and the reader threads under it) soon; never blocks."""
        self._stopped.set()
        if self._thread is None:
            self._stop_items()

    def _stop_items(self) -> None:
        stop = getattr(self._items, "stop", None)
        if stop is not None:
            stop()


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
