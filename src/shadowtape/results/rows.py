"""Result rows as the event loop gathers them: typed buffers Arrow takes over without a copy.

Each finished exchange appends its values to ``array`` and ``bytearray`` buffers, a few
microseconds, leaving nothing to convert on the loop; the results thread wraps them as
Arrow arrays (``Gathered.piece``). A row points at its request in the tape's own record
batch (``Source``), which the writer takes from there (writer.assemble).
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from typing import Protocol

import pyarrow as pa

from shadowtape.exchange import ErrorKind
from shadowtape.results.heads import encode_head
from shadowtape.results.schema import TARGET_FIELDS


class Source(Protocol):
    """Where a row's exchange sits in the tape: a replay's job."""

    batch: pa.RecordBatch
    row: int


class Response(Protocol):
    """What one target answered (or why it did not): a replay client's reply."""

    status: int | None
    reason: str | None
    head: bytes | None
    body: bytes | None
    body_size: int | None
    body_truncated: bool | None
    error_kind: ErrorKind | None
    error_message: str | None
    #: The trace id of the traceparent sent, if one was.
    trace_id: str | None
    sent: float
    ended: float

    @property
    def headers(self) -> tuple[tuple[str, str], ...] | None: ...


#: (job, skip reason, scheduled at (us since the epoch), lag (us), due (monotonic s),
#: replies by target): everything a result row is made of.
Entry = tuple[
    Source, str | None, int | None, int | None, float | None, Mapping[str, Response] | None
]


class Piece:
    """Finished rows as Arrow arrays, and where each row's exchange sits in the tape's
    batches. ``writer.assemble`` takes those rows on the writer thread with Arrow calls
    only: a Python loop there held the GIL for a millisecond at a time, and every send
    due meanwhile waited for it."""

    __slots__ = ("batches", "columns", "live_baseline", "n", "nbytes", "rows", "run_id")

    def __init__(
        self,
        run_id: str,
        live_baseline: bool,
        batches: list[pa.RecordBatch],
        rows: pa.Array,
        columns: dict[str, pa.Array],
        nbytes: int,
    ) -> None:
        self.run_id = run_id
        self.live_baseline = live_baseline
        #: The tape batches the rows point into, each once...
        self.batches = batches
        #: ...and each row's index into them, laid end to end.
        self.rows = rows
        self.n = len(rows)
        self.columns = columns
        #: The reply bodies' bytes.
        self.nbytes = nbytes


class _Ints:
    """A nullable integer column: values (0 where null) and a byte per row, 1 if valid."""

    __slots__ = ("kind", "nulls", "valid", "values")

    def __init__(self, code: str, kind: pa.DataType, nulls: int = 0) -> None:
        self.kind = kind
        self.values = array(code, bytes(array(code).itemsize * nulls))
        self.valid = bytearray(nulls)
        self.nulls = nulls

    def add(self, value: int | None) -> None:
        if value is None:
            self.values.append(0)
            self.valid.append(0)
            self.nulls += 1
        else:
            self.values.append(value)
            self.valid.append(1)

    def array(self) -> pa.Array:
        n = len(self.valid)
        return pa.Array.from_buffers(
            self.kind, n, [_bitmap(self.valid, self.nulls), pa.py_buffer(self.values)], self.nulls
        )

    def cut(self, n: int) -> None:
        """Back to the first ``n`` values (a row that failed halfway is taken back)."""
        del self.values[n:]
        del self.valid[n:]
        self.nulls = self.valid.count(0)


class _Bools(_Ints):
    def __init__(self, nulls: int = 0) -> None:
        super().__init__("b", pa.bool_(), nulls)

    def array(self) -> pa.Array:
        n = len(self.valid)
        bits = [_bitmap(self.valid, self.nulls), _bits(self.values)]
        return pa.Array.from_buffers(pa.bool_(), n, bits, self.nulls)


class _Bytes:
    """A nullable binary (or UTF-8 string) column: the values end to end, and offsets."""

    __slots__ = ("data", "kind", "nulls", "offsets", "valid")

    def __init__(self, kind: pa.DataType, nulls: int = 0) -> None:
        self.kind = kind
        self.data = bytearray()
        self.offsets = array("i", bytes(4 * (nulls + 1)))
        self.valid = bytearray(nulls)
        self.nulls = nulls

    def add(self, value: bytes | None) -> None:
        if value is None:
            self.valid.append(0)
            self.nulls += 1
        else:
            self.data += value
            self.valid.append(1)
        self.offsets.append(len(self.data))

    def cut(self, n: int) -> None:
        """Back to the first ``n`` values (a row that failed halfway is taken back)."""
        if len(self.valid) > n:
            del self.data[self.offsets[n] :]
            del self.offsets[n + 1 :]
            del self.valid[n:]
            self.nulls = self.valid.count(0)

    def add_text(self, value: str | None) -> None:
        self.add(None if value is None else value.encode("utf-8", "replace"))

    def array(self) -> pa.Array:
        n = len(self.valid)
        buffers = [
            _bitmap(self.valid, self.nulls),
            pa.py_buffer(self.offsets),
            pa.py_buffer(self.data),
        ]
        return pa.Array.from_buffers(self.kind, n, buffers, self.nulls)


def _bits(flags: bytearray | array[int]) -> pa.Buffer:
    """A byte per row (0 or 1) as Arrow's bit per row."""
    as_bytes = pa.Array.from_buffers(pa.int8(), len(flags), [None, pa.py_buffer(flags)])
    bits: pa.Buffer = as_bytes.cast(pa.bool_()).buffers()[1]
    return bits


def _bitmap(valid: bytearray, nulls: int) -> pa.Buffer | None:
    """Arrow's validity bitmap (None when nothing is null)."""
    return _bits(valid) if nulls else None


#: A target's result columns, after its name (candidate_status, ...).
_TARGET_COLUMNS = tuple(name for name, _ in TARGET_FIELDS)


class _Target:
    """One target's columns (candidate, baseline, secondary, repeat)."""

    __slots__ = (
        "_all",
        "body",
        "error_kind",
        "error_message",
        "headers",
        "latency",
        "reason",
        "service",
        "size",
        "status",
        "trace_id",
        "truncated",
    )

    def __init__(self, nulls: int) -> None:
        self.status = _Ints("i", pa.int32(), nulls)
        self.reason = _Bytes(pa.string(), nulls)
        # The heads as they came: the writer thread parses them (heads.headers_column).
        self.headers = _Bytes(pa.binary(), nulls)
        self.body = _Bytes(pa.binary(), nulls)
        self.size = _Ints("q", pa.int64(), nulls)
        self.truncated = _Bools(nulls)
        self.error_kind = _Bytes(pa.string(), nulls)
        self.error_message = _Bytes(pa.string(), nulls)
        self.latency = _Ints("q", pa.int64(), nulls)
        self.service = _Ints("q", pa.int64(), nulls)
        self.trace_id = _Bytes(pa.string(), nulls)
        #: Every column, in _TARGET_COLUMNS' order.
        self._all: tuple[_Ints | _Bytes, ...] = (
            self.status,
            self.reason,
            self.headers,
            self.body,
            self.size,
            self.truncated,
            self.error_kind,
            self.error_message,
            self.latency,
            self.service,
            self.trace_id,
        )

    def add(self, reply: Response, start: float) -> None:
        self.status.add(reply.status)
        self.reason.add_text(reply.reason)
        head = reply.head
        if head is None and reply.headers is not None:
            head = encode_head(reply.status, reply.reason, reply.headers)
        self.headers.add(head)
        self.body.add(reply.body)
        self.size.add(reply.body_size)
        self.truncated.add(reply.body_truncated)
        kind = reply.error_kind
        self.error_kind.add_text(kind.value if kind is not None else None)
        self.error_message.add_text(reply.error_message)
        self.latency.add(round((reply.ended - start) * 1e6))
        self.service.add(round((reply.ended - reply.sent) * 1e6))
        self.trace_id.add_text(reply.trace_id)

    def skip(self) -> None:
        """No request went to this target in this row: every field is null."""
        for column in self._all:
            column.add(None)

    def cut(self, n: int) -> None:
        for column in self._all:
            column.cut(n)

    def columns(self, target: str) -> dict[str, pa.Array]:
        return {
            f"{target}_{name}": column.array()
            for name, column in zip(_TARGET_COLUMNS, self._all, strict=True)
        }


class Gathered:
    """Rows handed over from the loop; ``piece()`` (on the results thread) wraps them."""

    __slots__ = (
        "batches",
        "body_bytes",
        "lag",
        "live_baseline",
        "n",
        "rows",
        "run_id",
        "scheduled",
        "skip",
        "targets",
    )

    def __init__(self, run_id: str, live_baseline: bool) -> None:
        self.run_id = run_id
        self.live_baseline = live_baseline
        self.n = 0
        #: The tape batches the rows point into, each once, and each row's index into
        #: them laid end to end.
        self.batches: list[pa.RecordBatch] = []
        self.rows = array("q")
        self.skip = _Bytes(pa.string())
        self.scheduled = _Ints("q", pa.int64())
        self.lag = _Ints("q", pa.int64())
        self.targets: dict[str, _Target] = {}
        self.body_bytes = 0

    def piece(self) -> Piece:
        columns: dict[str, pa.Array] = {
            "skip_reason": self.skip.array(),
            "scheduled_at": self.scheduled.array(),
            "lag_us": self.lag.array(),
        }
        for target, gathered in self.targets.items():
            columns.update(gathered.columns(target))
        rows = pa.Array.from_buffers(pa.int64(), self.n, [None, pa.py_buffer(self.rows)])
        return Piece(self.run_id, self.live_baseline, self.batches, rows, columns, self.body_bytes)


class ResultRows:
    """Finished exchanges as they come (``add``); ``take()`` hands them over."""

    def __init__(self, run_id: str = "", live_baseline: bool = False) -> None:
        self._run_id = run_id
        self._live_baseline = live_baseline
        self._rows = Gathered(run_id, live_baseline)
        #: Where each tape batch starts in the current rows' batches laid end to end.
        self._bases: dict[int, int] = {}
        self._total = 0

    def __len__(self) -> int:
        return self._rows.n

    @property
    def body_bytes(self) -> int:
        """Body bytes held, so that a buffer of large bodies is handed over early."""
        return self._rows.body_bytes

    def take(self) -> Gathered:
        """Everything added so far, removed."""
        taken, self._rows = self._rows, Gathered(self._run_id, self._live_baseline)
        self._bases, self._total = {}, 0
        return taken

    def add(
        self,
        job: Source,
        skip_reason: str | None,
        scheduled_at_us: int | None = None,
        lag_us: int | None = None,
        due: float | None = None,
        replies: Mapping[str, Response] | None = None,
    ) -> None:
        """One row. ``due`` is the monotonic time the request was due: latencies count
        from it (corrected) and from each reply's own send time (uncorrected). A row that
        fails halfway (a value its column cannot hold) is taken back whole, so the rows
        before and after it still line up."""
        rows = self._rows
        n, body_bytes = rows.n, rows.body_bytes
        try:
            self._add(job, skip_reason, scheduled_at_us, lag_us, due, replies)
        except BaseException:
            del rows.rows[n:]
            rows.skip.cut(n)
            rows.scheduled.cut(n)
            rows.lag.cut(n)
            for target in rows.targets.values():
                target.cut(n)
            rows.body_bytes = body_bytes
            raise
        rows.n += 1

    def _add(
        self,
        job: Source,
        skip_reason: str | None,
        scheduled_at_us: int | None,
        lag_us: int | None,
        due: float | None,
        replies: Mapping[str, Response] | None,
    ) -> None:
        rows = self._rows
        batch = job.batch
        base = self._bases.get(id(batch))
        if base is None:
            base = self._bases[id(batch)] = self._total
            rows.batches.append(batch)
            self._total += batch.num_rows
        rows.rows.append(base + job.row)
        rows.skip.add_text(skip_reason)
        rows.scheduled.add(scheduled_at_us)
        rows.lag.add(lag_us)
        targets = rows.targets
        if replies:
            for target, reply in replies.items():
                if target not in targets:
                    targets[target] = _Target(rows.n)
                # The repeat is sent after the candidate answered: it has no schedule,
                # and neither has a request sent as soon as a slot was free.
                start = reply.sent if due is None or target == "repeat" else due
                targets[target].add(reply, start)
                if reply.body:
                    rows.body_bytes += len(reply.body)
        if len(targets) > (len(replies) if replies else 0):
            for target, gathered in targets.items():
                if not replies or target not in replies:
                    gathered.skip()


def piece_of(entries: list[Entry], run_id: str, live_baseline: bool) -> Piece:
    """``entries`` gathered and wrapped at once."""
    rows = ResultRows(run_id, live_baseline)
    for entry in entries:
        rows.add(*entry)
    return rows.take().piece()
