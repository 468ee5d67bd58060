"""Reading replay results (CONTRACTS.md B): run folders, their run.json and Parquet parts.

Several run folders (the shards of one replay) read as one stream. Only the columns the
analysis needs are read, in record batches, so memory does not grow with the run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from shadowtape.errors import ConfigError, TapeFormatError, TapeVersionError

RESULTS_MAJOR = 1
VERSION_KEY = b"shadowtape.results_version"
TARGETS = ("baseline", "candidate", "secondary", "repeat")
TARGET_FIELDS = (
    "status",
    "headers",
    "body",
    "body_truncated",
    "error_kind",
    "error_message",
    "latency_us",
)
ROW_FIELDS = (
    "exchange_id",
    "method",
    "path",
    "query",
    "request_headers",
    "request_body",
    "redactions",
    "skip_reason",
    "baseline_mode",
)


def read_run(run_dir: Path) -> dict[str, object]:
    """The run.json of a run folder."""
    path = run_dir / "run.json"
    if run_dir.is_file():
        raise ConfigError(
            f"{run_dir}: a file, not a run folder; pass the folder 'shadowtape replay' wrote"
        )
    if not run_dir.is_dir():
        raise ConfigError(
            f"{run_dir}: no such run folder; pass the folder 'shadowtape replay' wrote"
        )
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(
            f"{run_dir}: not a run folder (no run.json); pass the folder 'shadowtape replay' wrote"
        ) from None
    except orjson.JSONDecodeError as exc:
        raise TapeFormatError(
            f"{path}: not valid JSON ({exc}); the run was probably cut short, replay it again"
        ) from None
    if not isinstance(data, dict):
        raise TapeFormatError(f"{path}: not a run description (expected a JSON object)")
    major = str(data.get("results_version", "1.0")).split(".")[0]
    if not major.isdigit() or int(major) > RESULTS_MAJOR:
        raise TapeVersionError(
            f"{path}: results version {data.get('results_version')} is newer than this "
            "shadowtape reads; upgrade shadowtape"
        )
    return data


def incomplete(
    run_dirs: Sequence[Path], runs: Sequence[dict[str, object]]
) -> tuple[list[str], list[int]]:
    """What makes these runs a partial picture, one sentence each (empty when whole), and
    the positions of the runs to read: a run or shard given twice is read once.

    Checked before anything is analyzed: a killed replay, a failed or stopped one, lost
    parts, a run given twice or a shard missing would otherwise read as a smaller run
    that passed (or a doubled one).
    """
    problems: list[str] = []
    keep: list[int] = []
    seen: dict[str, Path] = {}
    shards: dict[int, set[int]] = {}
    for position, (run_dir, run) in enumerate(zip(run_dirs, runs, strict=True)):
        run_id = str(run.get("run_id") or run_dir.resolve())
        if run_id in seen:
            problems.append(f"{run_dir} is the same run as {seen[run_id]} (given twice)")
            continue
        seen[run_id] = run_dir
        shard = str(run.get("shard") or "")
        index, _, count = shard.partition("/")
        if index.isdigit() and count.isdigit():
            taken = shards.setdefault(int(count), set())
            if int(index) in taken:
                problems.append(f"shard {shard} is given twice ({run_dir} is left out)")
                continue
            taken.add(int(index))
        keep.append(position)
        if "finished_at" in run and run["finished_at"] is None:
            problems.append(f"{run_dir} did not finish (the replay was killed, or still runs)")
        elif run.get("error"):
            problems.append(f"{run_dir} failed: {run['error']}")
        else:
            if run.get("interrupted"):
                problems.append(
                    f"{run_dir} was stopped (Ctrl-C or SIGTERM) before its selection ended"
                )
            counts = run.get("counts")
            expected = counts.get("selected") if isinstance(counts, dict) else None
            if isinstance(expected, int):
                found = sum(_open(part).metadata.num_rows for part in parts([run_dir]))
                if found < expected:
                    problems.append(
                        f"{run_dir} has {found} result rows where its run.json counts "
                        f"{expected}: parts of results/ are missing"
                    )
    if len(keep) > 1:
        for position in keep:
            if not str(runs[position].get("shard") or ""):
                problems.append(
                    f"{run_dirs[position]} is a whole replay, not a shard: merged with other "
                    "runs, the exchanges they share would count twice"
                )
    for total, taken in sorted(shards.items()):
        missing = [f"{i}/{total}" for i in range(1, total + 1) if i not in taken]
        if len(missing) == 1:
            problems.append(f"shard {missing[0]} of the replay is missing")
        elif missing:
            problems.append(f"shards {', '.join(missing)} of the replay are missing")
    return problems, keep


def parts(run_dirs: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for run_dir in run_dirs:
        found.extend(sorted((run_dir / "results").glob("part-*.parquet")))
    return found


def _open(part: Path) -> pq.ParquetFile:
    try:
        handle = pq.ParquetFile(part)
    except (OSError, pa.ArrowInvalid) as exc:
        raise TapeFormatError(
            f"{part}: not a readable results file ({str(exc).splitlines()[0]}); move it aside"
        ) from None
    meta = handle.schema_arrow.metadata or {}
    version = meta.get(VERSION_KEY, b"1.0").decode()
    major = version.split(".")[0]
    if not major.isdigit() or int(major) > RESULTS_MAJOR:
        raise TapeVersionError(
            f"{part}: results version {version} is newer than this shadowtape reads; "
            "upgrade shadowtape"
        )
    return handle


def _needs(handle: pq.ParquetFile, part: Path) -> set[str]:
    """The columns present; a file without the ones every results file has is foreign."""
    present = set(handle.schema_arrow.names)
    missing = [c for c in ("exchange_id", "method", "path") if c not in present]
    if missing:
        raise TapeFormatError(
            f"{part}: not a shadowtape results file (no column {missing[0]!r}); move it aside"
        )
    return present


def read_paths(run_dirs: Sequence[Path]) -> Iterator[tuple[list[str], list[str]]]:
    """(methods, paths) batches: the cheap first pass that learns endpoint templates."""
    for part in parts(run_dirs):
        handle = _open(part)
        _needs(handle, part)
        for batch in handle.iter_batches(batch_size=65_536, columns=["method", "path"]):
            yield batch.column(0).to_pylist(), batch.column(1).to_pylist()


def columns() -> list[str]:
    cols = list(ROW_FIELDS)
    for target in TARGETS:
        cols.extend(f"{target}_{name}" for name in TARGET_FIELDS)
    return cols


def read_batches(
    run_dirs: Sequence[Path], batch_size: int = 2_048
) -> Iterator[dict[str, list[object]]]:
    """Batches of the analysis columns as Python lists (headers as lists of pairs)."""
    wanted = columns()
    for part in parts(run_dirs):
        handle = _open(part)
        present = _needs(handle, part)
        use = [c for c in wanted if c in present]
        for batch in handle.iter_batches(batch_size=batch_size, columns=use):
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
