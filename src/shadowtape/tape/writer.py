"""TapeWriter: takes exchanges from any thread without blocking, writes Parquet behind it.

The caller's side is a bounded deque: ``write()`` appends or, when full, drops and counts.
It never raises and never waits, because the caller is a proxy serving live traffic.
One background thread converts, writes and rolls parts. A part is written under a
temporary dot-name and renamed when closed, so a reader only ever sees whole files, and a
writer killed mid-part leaves every earlier part readable.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from datetime import datetime

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from shadowtape.exchange import Exchange
from shadowtape.ids import new_id
from shadowtape.tape.location import resolve_root, safe_segment
from shadowtape.tape.schema import DROPPED_KEY, SCHEMA, STATISTICS_COLUMNS, to_batch

log = logging.getLogger("shadowtape.tape")

#: Row groups of about this many rows: tens of MB with typical bodies, good for streaming.
ROW_GROUP_ROWS = 5_000
ROW_GROUP_BYTES = 32 * 1024 * 1024


#: A part's partition: source, year, month, day, hour (UTC).
_Key = tuple[str, int, int, int, int]


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Counters since the writer started.

    ``written`` rows are in closed, readable parts; ``queued`` were handed over but are
    not readable yet (in the queue or in an open part).
    """

    written: int
    dropped: int
    failed: int
    parts: int
    queued: int


@dataclass(frozen=True, slots=True)
class _Marker:
    close_parts: bool
    done: threading.Event


def _convertible(exchange: Exchange) -> bool:
    try:
        to_batch([exchange])
    except Exception:
        return False
    return True


class _Part:
    """One open part file: a partition's rows until the part rolls."""

    def __init__(self, fs: pafs.FileSystem, folder: str, compression: str) -> None:
        name = f"part-{new_id()}.parquet"
        self.final = f"{folder}/{name}"
        self.temp = f"{folder}/.{name}.tmp"
        self.fs = fs
        fs.create_dir(folder, recursive=True)
        self.stream = fs.open_output_stream(self.temp)
        try:
            self.writer = pq.ParquetWriter(
                self.stream,
                SCHEMA,
                compression=compression,
                write_statistics=list(STATISTICS_COLUMNS),
            )
        except BaseException:
            self.stream.close()
            with contextlib.suppress(Exception):
                fs.delete_file(self.temp)
            raise
        self.opened = time.monotonic()
        self.rows = 0
        self.pending: list[Exchange] = []
        self.pending_bytes = 0

    @property
    def size(self) -> int:
        return int(self.stream.tell())

    def write_pending(self) -> tuple[int, Exception | None]:
        """Write the pending rows as a row group. Returns how many were left out because
        Arrow could not hold them, and why: one such exchange must not cost the others,
        nor the part (only a failed write does)."""
        if not self.pending:
            return 0, None
        rows, error = self.pending, None
        try:
            batch = to_batch(rows)
        except Exception as exc:
            error = exc
            rows = [exchange for exchange in rows if _convertible(exchange)]
            batch = to_batch(rows) if rows else None
        if batch is not None:
            self.writer.write_batch(batch, row_group_size=len(rows))
            self.rows += len(rows)
        left_out = len(self.pending) - len(rows)
        self.pending = []
        self.pending_bytes = 0
        return left_out, error

    def close(self, dropped: int) -> None:
        self.writer.add_key_value_metadata({DROPPED_KEY: str(dropped).encode()})
        self.writer.close()
        self.stream.close()
        self.fs.move(self.temp, self.final)

    def abandon(self) -> None:
        # Already failing: clean up what we can; the first error is the one reported.
        for action in (self.writer.close, self.stream.close, self._delete_temp):
            with contextlib.suppress(Exception):
                action()

    def _delete_temp(self) -> None:
        self.fs.delete_file(self.temp)


class _Throttled:
    """Logs a recurring problem at most once per interval, with how often it happened."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last = 0.0
        self.suppressed = 0

    def warn(self, message: str) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval:
            extra = f" ({self.suppressed} more since the last report)" if self.suppressed else ""
            log.warning("%s%s", message, extra)
            self.last = now
            self.suppressed = 0
        else:
            self.suppressed += 1


_open_writers: weakref.WeakSet[TapeWriter] = weakref.WeakSet()


@atexit.register
def _close_open_writers() -> None:
    for writer in list(_open_writers):
        writer.close(timeout=10)


class TapeWriter:
    """Writes exchanges into ``ROOT/source=S/date=YYYY-MM-DD/hour=HH/part-ID.parquet``.

    Parts roll when they reach ``max_rows`` rows, ``max_bytes`` bytes or ``max_age``
    seconds, and on ``flush()``. Everything handed to ``write()`` before ``flush()`` or
    ``close()`` is in a closed, readable part when they return.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        source: str = "default",
        queue_size: int = 100_000,
        max_rows: int = 1_000_000,
        max_bytes: int = 256 * 1024 * 1024,
        max_age: float = 60.0,
        row_group_rows: int = ROW_GROUP_ROWS,
        compression: str = "zstd",
        log_interval: float = 10.0,
    ) -> None:
        if queue_size < 1 or max_rows < 1 or max_bytes < 1 or max_age <= 0:
            raise ValueError("queue_size, max_rows, max_bytes and max_age must be positive")
        self._fs, self._root = resolve_root(root)
        self.root = os.fspath(root)
        self._source = source
        self._queue_size = queue_size
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._max_age = max_age
        self._row_group_rows = max(1, min(row_group_rows, max_rows))
        self._compression = compression
        self._queue: deque[Exchange | _Marker] = deque()
        self._wake = threading.Event()
        self._parts: dict[_Key, _Part] = {}
        self._written = 0
        self._failed = 0
        self._parts_closed = 0
        self._dropped = 0
        self._dropped_reported = 0
        self._drop_lock = threading.Lock()
        self._throttle = _Throttled(log_interval)
        self._drop_throttle = _Throttled(log_interval)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="shadowtape-writer", daemon=True)
        self._thread.start()
        _open_writers.add(self)

    # -- the caller's side: never blocks, never raises -------------------------------------

    def write(self, exchange: Exchange, *, block: bool = False) -> bool:
        """Hand over one exchange. False when it was dropped (queue full or closed).

        ``block=True`` waits for room instead of dropping: for batch producers (imports),
        never for a proxy, which must not wait on its recorder.
        """
        queue = self._queue
        if block:
            while len(queue) >= self._queue_size and not self._closed:
                if not self._thread.is_alive():
                    break
                self._wake.set()
                time.sleep(0.001)
        if self._closed or len(queue) >= self._queue_size:
            with self._drop_lock:
                self._dropped += 1
            self._drop_throttle.warn(
                "tape writer queue is full or closed: dropping exchanges "
                f"(dropped so far: {self._dropped})"
            )
            return False
        was_empty = not queue
        queue.append(exchange)
        if was_empty:
            self._wake.set()
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Write and close every open part. True when done within ``timeout``."""
        return self._send_marker(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Flush, then stop the thread. Later writes are dropped and counted."""
        if self._closed:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        done = self._send_marker(timeout)
        self._closed = True
        self._wake.set()
        self._thread.join(timeout)
        _open_writers.discard(self)
        return done and not self._thread.is_alive()

    @property
    def stats(self) -> WriterStats:
        # O(parts), not O(queue): callers poll this. Flush markers are rare and short-lived.
        queued = len(self._queue)
        pending = sum(len(part.pending) + part.rows for part in list(self._parts.values()))
        return WriterStats(
            written=self._written,
            dropped=self._dropped,
            failed=self._failed,
            parts=self._parts_closed,
            queued=queued + pending,
        )

    def __enter__(self) -> TapeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send_marker(self, timeout: float | None) -> bool:
        if not self._thread.is_alive():
            return False
        marker = _Marker(close_parts=True, done=threading.Event())
        self._queue.append(marker)
        self._wake.set()
        return marker.done.wait(timeout)

    # -- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        queue = self._queue
        while True:
            self._wake.wait(timeout=0.2)
            self._wake.clear()
            while queue:
                item = queue.popleft()
                if isinstance(item, _Marker):
                    self._close_all()
                    item.done.set()
                else:
                    self._accept(item)
            self._roll_aged()
            if self._closed and not queue:
                self._close_all()
                return

    def _accept(self, exchange: Exchange) -> None:
        at: datetime = exchange.recorded_at
        key = (exchange.source or self._source, at.year, at.month, at.day, at.hour)
        part = self._parts.get(key)
        if part is None:
            try:
                part = self._open(key)
            except Exception as exc:
                self._fail(1, f"cannot open a tape part under {self.root}: {exc}")
                return
        part.pending.append(exchange)
        part.pending_bytes += len(exchange.request.body) + len(
            exchange.response.body if exchange.response else b""
        )
        if len(part.pending) >= self._row_group_rows or part.pending_bytes >= ROW_GROUP_BYTES:
            self._write_group(key, part)

    def _open(self, key: _Key) -> _Part:
        source, year, month, day, hour = key
        folder = (
            f"{self._root}/source={safe_segment(source)}/"
            f"date={year:04d}-{month:02d}-{day:02d}/hour={hour:02d}"
        )
        part = _Part(self._fs, folder, self._compression)
        self._parts[key] = part
        return part

    def _write_group(self, key: _Key, part: _Part) -> None:
        try:
            self._left_out(part, *part.write_pending())
        except Exception as exc:
            self._abandon(key, part, exc)
            return
        if part.rows >= self._max_rows or part.size >= self._max_bytes:
            self._close_part(key, part)

    def _close_part(self, key: _Key, part: _Part) -> None:
        try:
            self._left_out(part, *part.write_pending())
            with self._drop_lock:
                dropped = self._dropped - self._dropped_reported
                self._dropped_reported = self._dropped
            part.close(dropped)
        except Exception as exc:
            self._abandon(key, part, exc)
            return
        self._parts.pop(key, None)
        self._written += part.rows
        self._parts_closed += 1

    def _left_out(self, part: _Part, count: int, error: Exception | None) -> None:
        if count:
            self._fail(count, f"cannot store an exchange in tape part {part.final}: {error}")

    def _abandon(self, key: _Key, part: _Part, exc: Exception) -> None:
        # Every row of an unclosed part is lost with it; count them all as failed.
        lost = part.rows + len(part.pending)
        part.abandon()
        self._parts.pop(key, None)
        self._fail(lost, f"cannot write tape part {part.final}: {exc}")

    def _fail(self, count: int, message: str) -> None:
        self._failed += count
        self._throttle.warn(f"{message} (failed exchanges so far: {self._failed})")

    def _close_all(self) -> None:
        for key, part in list(self._parts.items()):
            self._close_part(key, part)

    def _roll_aged(self) -> None:
        now = time.monotonic()
        for key, part in list(self._parts.items()):
            if now - part.opened >= self._max_age:
                self._close_part(key, part)
