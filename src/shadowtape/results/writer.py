"""Writes a run folder: Parquet parts under DIR/results/ and DIR/run.json.

One background thread takes the rows the event loop gathered (rows.py), wraps them as
Arrow arrays, gathers them into row groups, takes the request and the recorded response
from the tape's own rows in Arrow (``assemble``) and writes them. A part is written under
a dot-name and renamed when closed, so a reader, or an interrupted run, only ever shows
whole files.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shadowtape.errors import ReplayError
from shadowtape.ids import new_id
from shadowtape.results.heads import headers_column
from shadowtape.results.priority import lower_this_thread
from shadowtape.results.rows import Gathered, Piece
from shadowtape.results.schema import SCHEMA, TARGETS
from shadowtape.tape.schema import HEADERS

#: The only columns whose min/max statistics a part's footer keeps: none can hold a
#: recorded or replayed value (the footer is not compressed, so statistics would repeat
#: request and response values in clear, as the tapes' footers do not either).
STATISTICS_COLUMNS = (
    "run_id",
    "exchange_id",
    "recorded_at",
    "source",
    "baseline_mode",
    "scheduled_at",
    "lag_us",
    *(
        f"{target}_{name}"
        for target in TARGETS
        for name in (
            "status",
            "body_size",
            "body_truncated",
            "error_kind",
            "latency_us",
            "service_us",
        )
    ),
)
#: Results columns copied from the tape's row, and the tape column each comes from.
_FROM_REQUEST = {
    "exchange_id": "id",
    "recorded_at": "recorded_at",
    "source": "source",
    "method": "method",
    "scheme": "scheme",
    "host": "host",
    "path": "path",
    "query": "query",
    "request_headers": "request_headers",
    "request_body": "request_body",
    "redactions": "redactions",
}
#: The recorded response, as the baseline when --baseline is "recorded".
_FROM_RECORDING = {
    "baseline_status": "status",
    "baseline_reason": "reason",
    "baseline_headers": "response_headers",
    "baseline_body": "response_body",
    "baseline_body_size": "response_body_size",
    "baseline_body_truncated": "response_body_truncated",
    "baseline_error_kind": "error_kind",
    "baseline_error_message": "error_message",
    "baseline_latency_us": "duration_us",
    "baseline_service_us": "duration_us",
}

_RECORDED_COLUMNS = list(dict.fromkeys(_FROM_RECORDING.values()))


def assemble(pieces: list[Piece]) -> pa.RecordBatch:
    """The writer thread's half, for many pieces at once: the request and the recorded
    response taken from the tape's rows, everything in SCHEMA's order. Arrow calls only,
    a few per column (each lets go of the GIL while it works)."""
    first = pieces[0]
    n = sum(piece.n for piece in pieces)
    tables: list[pa.RecordBatch] = []
    offsets: list[pa.Array] = []
    total = 0
    for piece in pieces:
        # Pieces in a row follow the tape: a piece's first batch is often the one the
        # last piece ended in, and is not taken twice.
        new = piece.batches
        base = total
        if tables and new[0] is tables[-1]:
            base -= new[0].num_rows
            new = new[1:]
        # A Python int given to a compute function costs a failed import of dateutil
        # (pyarrow looks for relativedelta), a walk of sys.path, each time: Arrow scalars.
        offsets.append(pc.add(piece.rows, pa.scalar(base, pa.int64())) if base else piece.rows)
        tables.extend(new)
        total += sum(batch.num_rows for batch in new)
    columns: dict[str, pa.Array] = {}
    for name in {name: None for piece in pieces for name in piece.columns}:
        parts = [piece.columns.get(name) for piece in pieces]
        kind = next(a.type for a in parts if a is not None)  # a head column is binary
        columns[name] = pa.concat_arrays(
            [pa.nulls(p.n, kind) if a is None else a for p, a in zip(pieces, parts, strict=True)]
        ) if len(parts) > 1 else parts[0]  # fmt: skip
    columns["run_id"] = pa.repeat(pa.scalar(first.run_id, pa.string()), n)
    mode = "live" if first.live_baseline else "recorded"
    columns["baseline_mode"] = pa.repeat(pa.scalar(mode, pa.string()), n)
    if tables:
        tape = pa.Table.from_batches(tables)
        request_rows = pa.concat_arrays(offsets) if len(offsets) > 1 else offsets[0]
        taken = tape.select(list(_FROM_REQUEST.values())).take(request_rows)
        for name, column in _FROM_REQUEST.items():
            columns[name] = taken.column(column).combine_chunks()
        if not first.live_baseline:
            # A skipped exchange was not replayed: it has no baseline either.
            replayed = pc.is_null(columns["skip_reason"])
            recorded_rows = pc.if_else(replayed, request_rows, pa.scalar(None, pa.int64()))
            recorded = tape.select(_RECORDED_COLUMNS).take(recorded_rows)
            for name, column in _FROM_RECORDING.items():
                columns[name] = recorded.column(column).combine_chunks()
    nulls = _nulls(n)
    arrays = []
    for i, field in enumerate(SCHEMA):
        array = columns.get(field.name)
        if array is None:
            array = nulls[i]
        elif field.type == HEADERS and array.type == pa.binary():
            array = headers_column(array)
        elif array.type != field.type:
            array = array.cast(field.type)
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


@functools.lru_cache(maxsize=8)
def _nulls(n: int) -> list[pa.Array]:
    """An all-null column of each type (a run fills the same few batch sizes)."""
    return [pa.nulls(n, field.type) for field in SCHEMA]


_STOP = object()
_ROLL = object()
#: Rows handed over are written at least this often (seconds), however few.
WRITE_EVERY_S = 5.0
#: Hand-overs the writer thread may be behind before ``put`` waits...
QUEUE_PIECES = 64
#: ...or reply bodies' bytes: with large bodies a few hand-overs already hold this much.
QUEUE_BYTES = 64 * 1024 * 1024
#: Seconds between looks at whether the thread still runs, while ``put`` waits for it.
ALIVE_CHECK_S = 0.5


def _body_bytes(item: object) -> int:
    if isinstance(item, Gathered):
        return item.body_bytes
    if isinstance(item, Piece | pa.RecordBatch):
        return int(item.nbytes)
    return 0


class ResultsWriter:
    """Writes DIR/results/part-*.parquet from one background thread.

    It takes record batches, or rows gathered on the loop (rows.py), and does everything
    else off the event loop: wrap them as Arrow, gather into row groups, assemble, compress,
    write, rename.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        group_rows: int = 2_000,
        group_bytes: int = 32 * 1024 * 1024,
        part_rows: int = 100_000,
        part_age: float = 30.0,
    ) -> None:
        self.folder = run_dir / "results"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.group_rows = group_rows
        self.group_bytes = group_bytes
        self._pending_bytes = 0
        self.part_rows = part_rows
        self.part_age = part_age
        self.rows_written = 0
        self.error: BaseException | None = None
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_PIECES)
        #: Body bytes handed over and not yet taken by the thread.
        self._queued_bytes = 0
        self._room = threading.Condition()
        self._pending: list[pa.RecordBatch] = []
        self._pieces: list[Piece] = []
        self._pending_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._temp: Path | None = None
        self._final: Path | None = None
        self._part_rows = 0
        self._opened = 0.0
        self._last_write = time.monotonic()
        #: The thread wrote everything handed over and closed its part, as asked.
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="shadowtape-results", daemon=True)
        self._thread.start()

    def put(self, rows: pa.RecordBatch | Piece | Gathered) -> None:
        """Hand over rows; blocks only when the thread is far behind."""
        if self.error is not None:
            raise ReplayError(f"cannot write results under {self.folder}: {self.error}")
        size = _body_bytes(rows)
        with self._room:
            # One hand-over larger than the budget still goes, alone.
            while self._queued_bytes and self._queued_bytes + size > QUEUE_BYTES:
                self._check_alive()
                self._room.wait(ALIVE_CHECK_S)
            self._queued_bytes += size
        while True:
            try:
                self._queue.put(rows, timeout=ALIVE_CHECK_S)
                return
            except queue.Full:
                self._check_alive()

    def _check_alive(self) -> None:
        """A thread that died of a bug would never make room: say so, not wait for ever."""
        if not self._thread.is_alive():
            raise ReplayError(
                f"cannot write results under {self.folder}: the results thread stopped"
                " unexpectedly (a bug: please report it); rows written so far are kept"
            )

    def roll(self) -> None:
        """Write what was handed over and close the part, so all of it is readable."""
        self._queue.put(_ROLL)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        if self.error is not None:
            raise ReplayError(f"cannot write results under {self.folder}: {self.error}")
        if not self._closed:
            self._check_alive()

    def _run(self) -> None:
        lower_this_thread()  # priority.py: the loop's replies come first
        while True:
            try:
                item = self._queue.get(timeout=1.0)
            except queue.Empty:
                item = None
            size = _body_bytes(item)
            if size:
                with self._room:
                    self._queued_bytes -= size
                    self._room.notify()
            try:
                if item is _STOP:
                    self._write_pending()
                    if self.rows_written == 0:  # an empty run still has its schema on disk
                        self._write(SCHEMA.empty_table())
                    self._close_part()
                    self._closed = True
                    return
                if item is _ROLL:
                    self._write_pending()
                    self._close_part()
                elif item is None:  # a quiet second
                    self._write_pending()
                else:
                    if isinstance(item, Gathered):  # wrapped here, off the event loop
                        item = item.piece()
                    if isinstance(item, Piece):
                        self._pieces.append(item)
                        self._pending_rows += item.n
                    else:
                        self._pending.append(item)
                        self._pending_rows += item.num_rows
                    self._pending_bytes += item.nbytes
                    if (
                        self._pending_rows >= self.group_rows
                        or self._pending_bytes >= self.group_bytes
                        or time.monotonic() - self._last_write >= WRITE_EVERY_S
                    ):
                        self._write_pending()
                # A slow replay's rows reach the disk within seconds, and its parts close
                # on time, not only when rows pile up or a second passes without any.
                if self._writer is not None and self._aged():
                    self._close_part()
            except Exception as exc:  # reported by put()/close()
                if self.error is None:  # the cause, not what it broke afterwards
                    self.error = exc
                # What failed is dropped (it would fail again), and a stop still stops.
                self._pieces, self._pending = [], []
                self._pending_rows = self._pending_bytes = 0
                if item is _STOP:
                    return

    def _write_pending(self) -> None:
        self._last_write = time.monotonic()
        if self._pieces:
            self._pending.append(assemble(self._pieces))
            self._pieces = []
        if not self._pending:
            return
        table = pa.Table.from_batches(self._pending, schema=SCHEMA)
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0
        self._write(table)

    def _write(self, table: pa.Table) -> None:
        if self._writer is None:
            name = f"part-{new_id()}.parquet"
            self._final = self.folder / name
            self._temp = self.folder / f".{name}.tmp"
            self._writer = pq.ParquetWriter(
                self._temp, SCHEMA, compression="zstd", write_statistics=list(STATISTICS_COLUMNS)
            )
            self._opened = time.monotonic()
            self._part_rows = 0
        self._writer.write_table(table, row_group_size=max(1, table.num_rows))
        self._part_rows += table.num_rows
        self.rows_written += table.num_rows
        if self._part_rows >= self.part_rows or self._aged():
            self._close_part()

    def _aged(self) -> bool:
        return time.monotonic() - self._opened >= self.part_age

    def _close_part(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        assert self._temp is not None and self._final is not None
        os.replace(self._temp, self._final)
        self._writer = None


def write_run_json(run_dir: Path, data: dict[str, Any]) -> None:
    """Write run.json atomically: a reader sees the old or the new file, never half."""
    temp = run_dir / ".run.json.tmp"
    temp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(temp, run_dir / "run.json")
