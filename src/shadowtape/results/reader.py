"""Reads run folders: run.json, and the result rows of their Parquet parts.

The one reader of what a replay wrote, for the Python API (``read_results``) and for the
analysis (``read_paths``, ``read_batches``). Several run folders (the shards of one
replay) read as one stream, in record batches, only the columns asked for. Every part's
version and columns are checked before its rows are read; whatever is wrong with a run
folder is a RunFolderError naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from shadowtape.errors import RunFolderError
from shadowtape.results.schema import REQUIRED, RESULTS_MAJOR, TARGETS, VERSION_KEY

RunDirs = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]

#: The columns the analysis reads: per row...
_ROW_FIELDS = (
    "run_id",
    "exchange_id",
    "recorded_at",
    "scheme",
    "host",
    "method",
    "path",
    "query",
    "request_headers",
    "request_body",
    "redactions",
    "skip_reason",
    "baseline_mode",
    "lag_us",
)
#: ...and per target.
_TARGET_FIELDS = (
    "status",
    "headers",
    "body",
    "body_truncated",
    "error_kind",
    "error_message",
    "latency_us",
    "service_us",
)
_PASS = "pass the folder 'shadowtape replay' wrote"


def read_run(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The run.json of a run folder."""
    run_dir = Path(run_dir)
    path = run_dir / "run.json"
    if run_dir.is_file():
        raise RunFolderError(f"{run_dir}: a file, not a run folder; {_PASS}")
    if not run_dir.is_dir():
        raise RunFolderError(f"{run_dir}: no such run folder; {_PASS}")
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise RunFolderError(f"{run_dir}: not a run folder (no run.json); {_PASS}") from None
    except OSError as exc:
        raise RunFolderError(f"{path}: unreadable run.json ({exc})") from None
    except orjson.JSONDecodeError as exc:
        raise RunFolderError(
            f"{path}: not valid JSON ({exc}); the run was probably cut short, replay it again"
        ) from None
    if not isinstance(data, dict):
        raise RunFolderError(f"{path}: not a run description (expected a JSON object)")
    _check_version(path, str(data.get("results_version", "1.0")))
    return data


def result_parts(run_dir: str | os.PathLike[str]) -> list[Path]:
    """The closed parts of a run folder, in order (a part still open has a dot-name)."""
    if not (Path(run_dir) / "results").is_dir():
        raise RunFolderError(f"{run_dir}: not a replay run folder (no results/ inside)")
    return _parts(Path(run_dir))


def _parts(run_dir: Path) -> list[Path]:
    """The closed parts; none when results/ is missing (incomplete() says so)."""
    folder = run_dir / "results"
    return sorted(p for p in folder.glob("part-*.parquet") if not p.name.startswith("."))


def _check_version(path: Path, text: str) -> None:
    try:
        major = int(text.split(".", 1)[0])
    except ValueError:
        raise RunFolderError(f"{path}: unreadable results version {text!r}") from None
    if major > RESULTS_MAJOR:
        raise RunFolderError(
            f"{path}: results version {text} is newer than this shadowtape reads "
            f"({RESULTS_MAJOR}.x); upgrade shadowtape"
        )


def _open(part: Path) -> tuple[pq.ParquetFile, set[str]]:
    """A part's file and the columns it has, once its version and columns are checked."""
    try:
        handle = pq.ParquetFile(part)
    except (OSError, pa.ArrowInvalid) as exc:
        raise RunFolderError(
            f"{part}: not a readable results file ({str(exc).splitlines()[0]}); move it aside"
        ) from None
    meta = handle.schema_arrow.metadata or {}
    _check_version(part, meta.get(VERSION_KEY, b"1.0").decode(errors="replace"))
    present = set(handle.schema_arrow.names)
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        raise RunFolderError(
            f"{part}: not a shadowtape results file (no column {missing[0]!r}); move it aside"
        )
    return handle, present


def _batches(
    part: Path, handle: pq.ParquetFile, batch_size: int, columns: list[str] | None
) -> Iterator[pa.RecordBatch]:
    try:
        yield from handle.iter_batches(batch_size=batch_size, columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise RunFolderError(f"{part}: unreadable results part ({exc})") from None


def _all_parts(run_dirs: RunDirs) -> Iterator[Path]:
    if isinstance(run_dirs, str | os.PathLike):
        run_dirs = [run_dirs]
    for run_dir in run_dirs:
        yield from result_parts(run_dir)


def read_results(
    run_dirs: RunDirs, *, columns: list[str] | None = None, batch_size: int = 4_096
) -> Iterator[pa.RecordBatch]:
    """Stream the result rows of one or more run folders (the shards of one replay)."""
    for part in _all_parts(run_dirs):
        handle, _ = _open(part)
        yield from _batches(part, handle, batch_size, columns)


def read_row(run_dirs: RunDirs, exchange_id: str) -> dict[str, Any] | None:
    """The result row of one exchange (headers as lists of pairs), or None; read with
    the id pushed down to the parts' statistics, so a lookup does not read every body."""
    for part in _all_parts(run_dirs):
        _open(part)
        try:
            table = pq.read_table(part, filters=[("exchange_id", "=", exchange_id)])
        except (pa.ArrowException, OSError) as exc:
            raise RunFolderError(f"{part}: unreadable results part ({exc})") from None
        if table.num_rows:
            row: dict[str, Any] = table.slice(0, 1).to_pylist()[0]
            for name, value in row.items():
                if name.endswith("headers") and value is not None:
                    row[name] = [(h["name"], h["value"]) for h in value]
            return row
    return None


def rows_in(run_dir: Path) -> int:
    """The rows of a run folder's closed parts, from their footers."""
    return sum(_open(part)[0].metadata.num_rows for part in _parts(run_dir))


def read_paths(run_dirs: Sequence[Path]) -> Iterator[tuple[list[str], list[str]]]:
    """(methods, paths) batches: the cheap first pass that learns endpoint templates."""
    for run_dir in run_dirs:
        for part in _parts(run_dir):
            handle, _ = _open(part)
            for batch in _batches(part, handle, 65_536, ["method", "path"]):
                yield batch.column(0).to_pylist(), batch.column(1).to_pylist()


def analysis_columns() -> list[str]:
    """The columns ``read_batches`` gives."""
    cols = list(_ROW_FIELDS)
    for target in TARGETS:
        cols.extend(f"{target}_{name}" for name in _TARGET_FIELDS)
    return cols


def read_batches(
    run_dirs: Sequence[Path], batch_size: int = 2_048, columns: Sequence[str] | None = None
) -> Iterator[dict[str, list[object]]]:
    """Batches of the analysis columns (or `columns`) as Python lists (headers as lists of
    pairs); a column an older part lacks is all None."""
    wanted = list(columns) if columns is not None else analysis_columns()
    for run_dir in run_dirs:
        for part in _parts(run_dir):
            handle, present = _open(part)
            use = [c for c in wanted if c in present]
            for batch in _batches(part, handle, batch_size, use):
                out: dict[str, list[object]] = {}
                n = batch.num_rows
                for name in wanted:
                    if name not in present:
                        out[name] = [None] * n
                        continue
                    column = batch.column(name)
                    if name.endswith("headers"):
                        out[name] = _headers(column)  # type: ignore[assignment]
                    else:
                        out[name] = column.to_pylist()
                yield out


def _headers(column: pa.Array) -> list[list[tuple[str, str]] | None]:
    """list<struct<name, value>> to Python, through flat buffers (dicts per header are slow)."""
    if column.null_count == len(column):
        return [None] * len(column)
    offsets = column.offsets.to_pylist()
    values = column.values
    names = values.field("name").to_pylist()
    texts = values.field("value").to_pylist()
    valid = column.is_valid().to_pylist() if column.null_count else None
    out: list[list[tuple[str, str]] | None] = []
    for i in range(len(column)):
        if valid is not None and not valid[i]:
            out.append(None)
            continue
        lo, hi = offsets[i], offsets[i + 1]
        out.append(list(zip(names[lo:hi], texts[lo:hi], strict=True)))
    return out
