"""The results of a run: Parquet parts under DIR/results/ and DIR/run.json.

docs/results-format.md documents every column and key; change both together. Bump the
minor version for added columns, the major version for anything an older reader would
misread. Rows are gathered as tuples on the event loop (cheap appends) and converted to
Arrow and written by one background thread, in row groups; a part is written under a
dot-name and renamed when closed, so a reader, or an interrupted run, only ever shows
whole files.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shadowtape.errors import ReplayError
from shadowtape.exchange import Exchange
from shadowtape.ids import new_id
from shadowtape.replay.client import Reply

RESULTS_VERSION = "1.0"
RESULTS_MAJOR = 1
VERSION_KEY = b"shadowtape.results_version"
TARGETS = ("baseline", "candidate", "secondary", "repeat")

HEADER = pa.struct([("name", pa.string()), ("value", pa.string())])
HEADERS = pa.list_(HEADER)
TIMESTAMP = pa.timestamp("us", tz="UTC")

_FIELDS: list[tuple[str, pa.DataType]] = [
    ("run_id", pa.string()),
    ("exchange_id", pa.string()),
    ("recorded_at", TIMESTAMP),
    ("source", pa.string()),
    ("method", pa.string()),
    ("scheme", pa.string()),
    ("host", pa.string()),
    ("path", pa.string()),
    ("query", pa.string()),
    ("request_headers", HEADERS),
    ("request_body", pa.binary()),
    ("redactions", pa.list_(pa.string())),
    ("skip_reason", pa.string()),
    ("baseline_mode", pa.string()),
    ("scheduled_at", TIMESTAMP),
    ("lag_us", pa.int64()),
]
_TARGET_FIELDS: list[tuple[str, pa.DataType]] = [
    ("status", pa.int32()),
    ("reason", pa.string()),
    ("headers", HEADERS),
    ("body", pa.binary()),
    ("body_size", pa.int64()),
    ("body_truncated", pa.bool_()),
    ("error_kind", pa.string()),
    ("error_message", pa.string()),
    ("latency_us", pa.int64()),
    ("service_us", pa.int64()),
]
for _target in TARGETS:
    _FIELDS.extend((f"{_target}_{name}", kind) for name, kind in _TARGET_FIELDS)

SCHEMA = pa.schema(_FIELDS, metadata={VERSION_KEY: RESULTS_VERSION.encode()})
COLUMNS = tuple(SCHEMA.names)
_TIMESTAMPS = frozenset(i for i, f in enumerate(SCHEMA) if f.type == TIMESTAMP)
_RECORDED_AT = SCHEMA.get_field_index("recorded_at")
_NO_TARGET: tuple[None, ...] = (None,) * len(_TARGET_FIELDS)
Row = tuple[Any, ...]


def to_batch(rows: list[Row]) -> pa.RecordBatch:
    """Rows (tuples in SCHEMA order) as one record batch, a column at a time."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in SCHEMA]
    arrays = []
    for i, (field, values) in enumerate(zip(SCHEMA, columns, strict=True)):
        if i == _RECORDED_AT:  # datetimes, converted here, off the loop
            arrays.append(pa.array(values, TIMESTAMP))
        elif i in _TIMESTAMPS:  # microseconds since the epoch
            arrays.append(pa.array(values, pa.int64()).cast(TIMESTAMP))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


class RowBuffer:
    """Result rows, one tuple each; ``take()`` hands them over and starts afresh."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.rows: list[Row] = []
        #: Body bytes held, so a buffer of large bodies is handed over early.
        self.body_bytes = 0

    def __len__(self) -> int:
        return len(self.rows)

    def take(self) -> list[Row]:
        taken = self.rows
        self.rows = []
        self.body_bytes = 0
        return taken

    def add(
        self,
        exchange: Exchange,
        *,
        skip_reason: str | None,
        live_baseline: bool,
        scheduled_at_us: int | None = None,
        lag_us: int | None = None,
        due: float | None = None,
        replies: dict[str, Reply] | None = None,
    ) -> None:
        """One row. ``due`` is the monotonic time the request was due: latencies count
        from it (corrected) and from each reply's own send time (uncorrected)."""
        request = exchange.request
        row: Row = (
            self.run_id,
            exchange.id,
            exchange.recorded_at,
            exchange.source,
            request.method,
            request.scheme,
            request.host,
            request.path,
            request.query,
            request.headers,
            request.body,
            exchange.redactions,
            skip_reason,
            "live" if live_baseline else "recorded",
            scheduled_at_us,
            lag_us,
        )
        size = len(request.body)
        replies = replies or {}
        for target in TARGETS:
            reply = replies.get(target)
            if reply is not None:
                # The repeat is sent after the candidate answered: it has no schedule.
                start = reply.sent if due is None or target == "repeat" else due
                row += (
                    reply.status,
                    reply.reason,
                    reply.headers,
                    reply.body,
                    reply.body_size,
                    reply.body_truncated,
                    reply.error_kind.value if reply.error_kind else None,
                    reply.error_message,
                    round((reply.ended - start) * 1e6),
                    round((reply.ended - reply.sent) * 1e6),
                )
                size += len(reply.body or b"")
            elif target == "baseline" and not live_baseline and skip_reason is None:
                row += self._recorded(exchange)
                size += len(exchange.response.body) if exchange.response else 0
            else:
                row += _NO_TARGET
        self.rows.append(row)
        self.body_bytes += size

    @staticmethod
    def _recorded(exchange: Exchange) -> Row:
        response, error = exchange.response, exchange.error
        head: Row = (
            (
                response.status,
                response.reason,
                response.headers,
                response.body,
                response.body_size,
                response.body_truncated,
            )
            if response
            else (None,) * 6
        )
        return (
            *head,
            error.kind.value if error else None,
            error.message if error else None,
            exchange.duration_us,
            exchange.duration_us,
        )


_STOP = object()
_ROLL = object()


class ResultsWriter:
    """Writes DIR/results/part-*.parquet from one background thread.

    It takes rows (tuples in SCHEMA order, as RowBuffer makes them) or record batches,
    and does everything else off the event loop: convert, gather into row groups,
    compress, write, rename. The conversion is Python work under the GIL, a column at a
    time, so the loop gets the GIL back between columns (see SWITCH_INTERVAL in engine.py).
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
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=8)
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._temp: Path | None = None
        self._final: Path | None = None
        self._part_rows = 0
        self._opened = 0.0
        self._thread = threading.Thread(target=self._run, name="shadowtape-results", daemon=True)
        self._thread.start()

    def put(self, rows: list[Row] | pa.RecordBatch) -> None:
        """Hand over rows; blocks only when the thread is far behind."""
        if self.error is not None:
            raise ReplayError(f"cannot write results under {self.folder}: {self.error}")
        self._queue.put(rows)

    def roll(self) -> None:
        """Write what was handed over and close the part, so all of it is readable."""
        self._queue.put(_ROLL)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()
        if self.error is not None:
            raise ReplayError(f"cannot write results under {self.folder}: {self.error}")

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=1.0)
            except queue.Empty:
                item = None
            try:
                if item is _STOP:
                    self._write_pending()
                    if self.rows_written == 0:  # an empty run still has its schema on disk
                        self._write(SCHEMA.empty_table())
                    self._close_part()
                    return
                if item is _ROLL:
                    self._write_pending()
                    self._close_part()
                elif item is None:
                    self._write_pending()
                else:
                    if isinstance(item, list):
                        item = to_batch(item)
                    self._pending.append(item)
                    self._pending_rows += item.num_rows
                    self._pending_bytes += item.nbytes
                    if (
                        self._pending_rows >= self.group_rows
                        or self._pending_bytes >= self.group_bytes
                    ):
                        self._write_pending()
            except Exception as exc:  # reported by put()/close()
                self.error = exc

    def _write_pending(self) -> None:
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
            self._writer = pq.ParquetWriter(self._temp, SCHEMA, compression="zstd")
            self._opened = time.monotonic()
            self._part_rows = 0
        self._writer.write_table(table, row_group_size=max(1, table.num_rows))
        self._part_rows += table.num_rows
        self.rows_written += table.num_rows
        if self._part_rows >= self.part_rows or time.monotonic() - self._opened >= self.part_age:
            self._close_part()

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


def read_run(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(run_dir) / "run.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ReplayError(f"{run_dir}: not a replay run folder (no run.json)") from None
    except (OSError, ValueError) as exc:
        raise ReplayError(f"{path}: unreadable run.json ({exc})") from None
    if not isinstance(data, dict):
        raise ReplayError(f"{path}: run.json is not a JSON object")
    return data


def result_parts(run_dir: str | os.PathLike[str]) -> list[Path]:
    folder = Path(run_dir) / "results"
    if not folder.is_dir():
        raise ReplayError(f"{run_dir}: not a replay run folder (no results/ inside)")
    return sorted(p for p in folder.glob("part-*.parquet") if not p.name.startswith("."))


def _check_version(path: Path, file: pq.ParquetFile) -> None:
    kv = file.schema_arrow.metadata or {}
    version = kv.get(VERSION_KEY)
    if version is None:
        raise ReplayError(f"{path}: not a shadowtape results file (no results version)")
    text = version.decode(errors="replace")
    try:
        major = int(text.split(".", 1)[0])
    except ValueError:
        raise ReplayError(f"{path}: unreadable results version {text!r}") from None
    if major > RESULTS_MAJOR:
        raise ReplayError(
            f"{path}: results version {text} is newer than this shadowtape reads "
            f"({RESULTS_MAJOR}.x); upgrade shadowtape"
        )


def read_results(
    run_dirs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    columns: list[str] | None = None,
    batch_size: int = 4_096,
) -> Iterator[pa.RecordBatch]:
    """Stream the result rows of one or more run folders (the shards of one replay)."""
    if isinstance(run_dirs, str | os.PathLike):
        run_dirs = [run_dirs]
    for run_dir in run_dirs:
        for path in result_parts(run_dir):
            try:
                file = pq.ParquetFile(path)
                _check_version(path, file)
                yield from file.iter_batches(batch_size=batch_size, columns=columns)
            except (pa.ArrowException, OSError) as exc:
                raise ReplayError(f"{path}: unreadable results part ({exc})") from None
