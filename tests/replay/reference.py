"""The replayer's per-request Python path, kept as the reference for the batch functions.

Before jobs were prepared a batch at a time on the reader thread (jobs.Prepared with
batchwire.py and batchkeys.py), the event loop decoded rows into Python objects and
prepared each request in Python with the per-request rules (safety.skip_reason_of,
targets.wire_headers, ordering.keys_for). This is that path, calling those rules as they
are now: the tests check that the batch functions make exactly what it makes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from shadowtape.replay.prepare.jobs import Headers, Wire, serialize
from shadowtape.replay.rules.ordering import keys_for, shard_key_of
from shadowtape.replay.rules.safety import is_safe_method, skip_reason_of
from shadowtape.replay.rules.targets import Target, wire_headers
from shadowtape.tape.filters import sample_keep
from shadowtape.tape.schema import header_tuples

DECODE_ROWS = 16


class RowJob:
    """One row decoded into Python objects, as the replayer used to make them."""

    __slots__ = (
        "_keys",
        "at_us",
        "batch",
        "body",
        "body_size",
        "body_truncated",
        "headers",
        "host",
        "id",
        "keys",
        "method",
        "path",
        "port",
        "query",
        "repeat",
        "row",
        "scheme",
        "skip",
        "tags",
        "wires",
    )

    def __init__(
        self,
        batch: pa.RecordBatch,
        row: int,
        id: str,
        at_us: int,
        method: str,
        scheme: str,
        host: str,
        port: int,
        path: str,
        query: str,
        headers: Headers,
        body: bytes,
        body_size: int,
        body_truncated: bool,
        tags: dict[str, str],
    ) -> None:
        self.batch = batch
        self.row = row
        self.id = id
        self.at_us = at_us
        self.method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.body_size = body_size
        self.body_truncated = body_truncated
        self.tags = tags
        self._keys: list[str] | None = None
        #: Why it is not sent (a SkipReason value), set by ``Preparer``.
        self.skip: str | None = None
        #: The keys it shares state by (ordering.py).
        self.keys: list[str] = []
        #: Whether the candidate gets it a second time (the repeat sample).
        self.repeat = False
        #: Role -> (origin, request bytes), for the roles it is sent to.
        self.wires: dict[str, Wire] = {}

    def __repr__(self) -> str:
        return f"Job({self.method} {self.path} id={self.id})"

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None

    def state_keys(self) -> list[str]:
        """Worked out once: sharding needs them first, then the Preparer."""
        if self._keys is None:
            self._keys = keys_for(self.headers, self.tags)
        return self._keys

    def shard_key(self) -> str:
        return shard_key_of(self.state_keys(), self.id)


def _tags(column: pa.Array) -> list[dict[str, str]]:
    offsets = column.offsets
    if len(column) == 0 or offsets[0].as_py() == offsets[len(column)].as_py():
        return [{} for _ in range(len(column))]
    return [dict(items) if items else {} for items in column.to_pylist()]


def jobs_from_batch(batch: pa.RecordBatch) -> Iterator[RowJob]:
    """The batch's rows as Jobs, converted ``DECODE_ROWS`` at a time."""
    for start in range(0, batch.num_rows, DECODE_ROWS):
        part = batch.slice(start, DECODE_ROWS)

        def col(name: str, part: pa.RecordBatch = part) -> list[Any]:
            values: list[Any] = part.column(name).to_pylist()
            return values

        ids, methods, schemes, hosts, ports = (
            col("id"),
            col("method"),
            col("scheme"),
            col("host"),
            col("port"),
        )
        at = part.column("recorded_at").view(pa.int64()).to_pylist()  # a cast costs 25 us
        paths, queries, bodies = col("path"), col("query"), col("request_body")
        sizes, truncated = col("request_body_size"), col("request_body_truncated")
        headers = header_tuples(part.column("request_headers"))
        tags = _tags(part.column("tags"))
        for i in range(part.num_rows):
            yield RowJob(
                batch,
                start + i,
                ids[i],
                at[i],
                methods[i] or "",
                schemes[i] or "http",
                hosts[i] or "",
                ports[i] or 0,
                paths[i] or "/",
                queries[i] or "",
                headers[i],
                bodies[i] or b"",
                sizes[i] or 0,
                bool(truncated[i]),
                tags[i],
            )


class Preparer:
    """Checks each job and serializes it for every target, as the feed decodes it."""

    def __init__(
        self,
        targets: dict[str, Target],
        *,
        allow_mutating: bool,
        keep_host: bool,
        extra: Headers,
        repeat_sample: float,
    ) -> None:
        self.targets = targets
        self.allow_mutating = allow_mutating
        self.keep_host = keep_host
        self.extra = extra
        self.repeat_sample = repeat_sample

    def __call__(self, job: RowJob) -> RowJob:
        reason = skip_reason_of(
            job.method, job.path, job.query, job.headers, job.body, job.body_size,
            job.body_truncated, allow_mutating=self.allow_mutating, host=job.host,
        )  # fmt: skip
        if reason is not None:
            job.skip = reason.value
            return job
        job.keys = job.state_keys()
        target_path = f"{job.path}?{job.query}" if job.query else job.path
        for role, target in self.targets.items():
            headers = wire_headers(job, target, keep_host=self.keep_host, extra=self.extra)
            data = serialize(job.method, target.prefix + target_path, headers, job.body)
            job.wires[role] = (target.key, data)
        job.repeat = (
            self.repeat_sample > 0
            and is_safe_method(job.method)
            and sample_keep(f"repeat:{job.id}", self.repeat_sample)
        )
        return job
