"""A recorded request made ready to send: checked once, serialized once, on a reader thread.

Each record batch is prepared whole with Arrow (``Prepared``): the skip reason and the
request bytes for each target (batchwire.py) and the state keys (batchkeys.py). The loop
then takes one ``Job`` at a time, read straight out of the prepared columns' buffers, so
no column becomes Python lists on the loop. A Job points at its row in the batch: the
result row takes the request and the recorded response from there, in Arrow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from shadowtape.replay.prepare.batchkeys import keys_column
from shadowtape.replay.prepare.batchwire import skip_column, wire_column
from shadowtape.replay.rules.options import ReplayOptions
from shadowtape.replay.rules.ordering import shard_key_of
from shadowtape.replay.rules.safety import SAFE_METHODS, SkipReason, is_safe_method
from shadowtape.replay.rules.targets import Target
from shadowtape.tape.filters import sample_keep
from shadowtape.tape.schema import header_tuples

Headers = tuple[tuple[str, str], ...]
#: (scheme, host, port) of a target, and the bytes of one request to it.
Wire = tuple[tuple[str, str, int], bytes]
#: Skip reasons by their code in a prepared batch (-1: sent).
_REASONS = tuple(reason.value for reason in SkipReason)
_REASON_SET = pa.array(_REASONS, pa.string())
_NOT_SKIPPED = pa.scalar(-1, pa.int8())


@dataclass(frozen=True, slots=True)
class Plan:
    """How requests are prepared: the targets, by role, and the safety settings."""

    targets: dict[str, Target] = field(default_factory=dict)
    allow_mutating: bool = False
    keep_host: bool = False
    extra: Headers = ()
    #: The share of safe requests the candidate gets twice (the repeat sample).
    repeat_sample: float = 0.0
    #: Whether each request carries a fresh traceparent (rules/tracing.py).
    traceparent: bool = False

    @classmethod
    def of(cls, options: ReplayOptions) -> Plan:
        """The plan a run with ``options`` sends by: its targets parsed, by role."""
        targets = {"candidate": Target.parse(options.candidate, role="candidate")}
        if options.live_baseline:
            targets["baseline"] = Target.parse(options.baseline, role="baseline")
        if options.secondary:
            targets["secondary"] = Target.parse(options.secondary, role="secondary")
        return cls(
            targets,
            allow_mutating=options.allow_mutating,
            keep_host=options.keep_host,
            extra=options.headers,
            repeat_sample=0.0 if options.live_baseline else options.repeat_sample,
            traceparent=options.traceparent,
        )


class Job:
    """One selected exchange on its way to the targets."""

    __slots__ = (
        "at_us", "batch", "end_us", "id", "keys", "method", "repeat", "row", "size", "skip",
        "wires",
    )  # fmt: skip

    batch: pa.RecordBatch
    row: int
    id: str
    #: When the recorded request started, and when its response had ended (Unix us).
    at_us: int
    end_us: int
    method: str
    #: Why it is not sent (a SkipReason value), or None.
    skip: str | None
    #: The keys it shares state by (ordering.py).
    keys: list[str]
    #: Role -> (origin, request bytes), for the roles it is sent to.
    wires: dict[str, Wire]
    #: Whether the candidate gets it a second time (the repeat sample).
    repeat: bool
    #: Bytes it holds (its requests), to bound the read-ahead.
    size: int

    def __repr__(self) -> str:
        return f"Job({self.method} {self.path} id={self.id})"

    def _value(self, column: str) -> Any:
        return self.batch.column(column)[self.row].as_py()

    # Read from the batch when asked (tests, messages): sending needs none of them.
    @property
    def path(self) -> str:
        return self._value("path") or "/"

    @property
    def query(self) -> str:
        return self._value("query") or ""

    @property
    def body(self) -> bytes:
        return self._value("request_body") or b""

    @property
    def headers(self) -> Headers:
        return header_tuples(self.batch.column("request_headers").slice(self.row, 1))[0]

    def shard_key(self) -> str:
        return shard_key_of(self.keys, self.id)


class _Texts:
    """A string or binary Arrow array read one row at a time from its buffers, without
    making the whole column's Python list (rows read must not be null)."""

    __slots__ = ("_data", "_offsets")

    def __init__(self, array: pa.Array) -> None:
        _, offsets, data = array.buffers()[:3]
        large = pa.types.is_large_binary(array.type) or pa.types.is_large_string(array.type)
        view = memoryview(offsets).cast("q" if large else "i")
        self._offsets = view[array.offset : array.offset + len(array) + 1]
        self._data = memoryview(data) if data is not None else memoryview(b"")

    def bytes(self, i: int) -> bytes:
        return bytes(self._data[self._offsets[i] : self._offsets[i + 1]])

    def text(self, i: int) -> str:
        return str(self._data[self._offsets[i] : self._offsets[i + 1]], "utf-8")


def _numbers(array: pa.Array, kind: Literal["b", "i", "q"]) -> memoryview[int]:
    """A fixed-width Arrow array without nulls as a Python sequence over its buffer."""
    view = memoryview(array.buffers()[1]).cast(kind)
    return view[array.offset : array.offset + len(array)]


class Prepared:
    """One record batch prepared for sending (on a reader thread), taken a Job at a time
    on the loop."""

    __slots__ = (
        "_at", "_end", "_ids", "_key_rows", "_keys", "_methods", "_repeat", "_skips", "_wires",
        "batch", "n",
    )  # fmt: skip

    def __init__(self, batch: pa.RecordBatch, plan: Plan) -> None:
        self.batch = batch
        self.n = batch.num_rows
        at = pc.fill_null(batch.column("recorded_at").view(pa.int64()), _ZERO)
        self._at = _numbers(at, "q")
        self._end = _numbers(pc.add(at, pc.fill_null(batch.column("duration_us"), _ZERO)), "q")
        skip = skip_column(batch, allow_mutating=plan.allow_mutating)
        codes = pc.fill_null(pc.index_in(skip, value_set=_REASON_SET).cast(pa.int8()), _NOT_SKIPPED)
        self._skips = _numbers(codes, "b")
        self._methods = _Texts(pc.fill_null(batch.column("method"), _EMPTY))
        self._ids = _Texts(pc.fill_null(batch.column("id"), _EMPTY))
        keys = keys_column(batch.column("request_headers"), batch.column("tags"))
        self._key_rows = _numbers(keys.offsets, "i")
        self._keys = _Texts(keys.flatten())
        send = pc.is_null(skip)
        self._wires = [
            (role, target.key, _Texts(wire_column(
                batch, target, keep_host=plan.keep_host, extra=plan.extra, send=send,
                traceparent=plan.traceparent,
            )))
            for role, target in plan.targets.items()
        ]  # fmt: skip
        self._repeat = plan.repeat_sample

    def job(self, i: int) -> Job:
        job = Job.__new__(Job)
        job.batch, job.row = self.batch, i
        job.at_us = self._at[i]
        job.end_us = self._end[i]
        job.method = _method(self._methods.bytes(i))
        job.id = self._ids.text(i)
        first, end = self._key_rows[i], self._key_rows[i + 1]
        job.keys = [self._keys.text(k) for k in range(first, end)] if end > first else []
        code = self._skips[i]
        job.size = 0
        job.repeat = False
        if code >= 0:
            job.skip = _REASONS[code]
            job.wires = {}
            return job
        job.skip = None
        wires = job.wires = {}
        for role, key, texts in self._wires:
            data = wires[role] = (key, texts.bytes(i))
            job.size += len(data[1])
        rate = self._repeat
        job.repeat = (
            rate > 0 and is_safe_method(job.method) and sample_keep(f"repeat:{job.id}", rate)
        )
        return job

    def jobs(self) -> Iterator[Job]:
        for i in range(self.n):
            yield self.job(i)


_ZERO = pa.scalar(0, pa.int64())
_EMPTY = pa.scalar("", pa.string())
#: Methods as str, one object each (a tape holds a handful).
_METHODS: dict[bytes, str] = {}


def _method(raw: bytes) -> str:
    method = _METHODS.get(raw)
    if method is None:
        method = raw.decode("utf-8")
        if len(_METHODS) < 256:
            _METHODS[raw] = method
    return method


def jobs_from_batch(batch: pa.RecordBatch, plan: Plan | None = None) -> Iterator[Job]:
    """The batch's rows as Jobs (prepared for ``plan``'s targets: none by default)."""
    return Prepared(batch, plan or Plan()).jobs()


def serialize(method: str, target: str, headers: Headers, body: bytes) -> bytes:
    """One HTTP/1.1 request as it goes on the wire."""
    lines = [f"{method} {target} HTTP/1.1"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if body or method not in SAFE_METHODS:
        lines.append(f"Content-Length: {len(body)}")
    head = "\r\n".join(lines).encode("utf-8") + b"\r\n\r\n"
    return head + body if body else head
