"""TapeReader: streams exchanges from part files, folders, globs and filesystem URIs.

Nothing loads a whole tape: parts are read one at a time, in record batches, with the
filter pushed down and body columns left on disk unless asked for. Every part's footer is
checked before its rows are read (version, and every required column with a compatible
type), so a corrupt, alien, altered or too-new file fails with a message that names it
instead of reading as rows of nulls.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from shadowtape.errors import TapeFormatError, TapeVersionError
from shadowtape.exchange import Exchange
from shadowtape.tape.filters import TapeFilter, sample_keep
from shadowtape.tape.location import PartFile, discover
from shadowtape.tape.schema import (
    BODY_COLUMNS,
    COLUMNS,
    DROPPED_KEY,
    SCHEMA,
    SCHEMA_MAJOR,
    VERSION_KEY,
    column_problem,
    from_batch,
)

Locations = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


@dataclass(frozen=True, slots=True)
class PartInfo:
    """What a part's footer says, read without touching its rows."""

    path: str
    rows: int
    schema_version: str
    dropped: int
    size: int


def _damaged(part: PartFile, exc: BaseException) -> TapeFormatError:
    return TapeFormatError(
        f"{part.path}: not a readable tape part, corrupt or truncated ({_reason(exc)}); "
        "move it aside (or restore it) and run again: the other parts read"
    )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_part_info(part: PartFile) -> PartInfo:
    """Check a part's footer: raise TapeFormatError / TapeVersionError if it is not ours."""
    try:
        with part.filesystem.open_input_file(part.path) as handle:
            size = handle.size()
            if size == 0:
                raise TapeFormatError(
                    f"{part.path}: empty file, not a tape part; a writer may have died "
                    "before writing it; remove it"
                )
            file = pq.ParquetFile(handle)
            meta, schema = file.metadata, file.schema_arrow
    except TapeFormatError:
        raise
    except (pa.ArrowException, OSError) as exc:
        raise _damaged(part, exc) from None
    kv = meta.metadata or {}
    version = kv.get(VERSION_KEY)
    if version is None:
        raise TapeFormatError(
            f"{part.path}: a Parquet file but not a shadowtape tape (no "
            f"{VERSION_KEY.decode()} in its metadata); import other formats with "
            "'shadowtape import'"
        )
    text = version.decode(errors="replace")
    try:
        major, _, minor = text.partition(".")
        numbers = int(major), int(minor.partition(".")[0] or 0)
    except ValueError:
        raise TapeFormatError(f"{part.path}: unreadable tape schema version {text!r}") from None
    if numbers[0] > SCHEMA_MAJOR:
        raise TapeVersionError(
            f"{part.path}: written with tape schema {text}, newer than this shadowtape reads "
            f"({SCHEMA_MAJOR}.x); upgrade shadowtape to read it"
        )
    problem = column_problem(schema, numbers[1])
    if problem is not None:
        raise TapeFormatError(
            f"{part.path}: not a valid tape part: {problem} (tape schema {text}); move it "
            "aside: it was not written by shadowtape, or was changed since"
        )
    try:
        dropped = int(kv.get(DROPPED_KEY, b"0"))
    except ValueError:
        dropped = 0
    return PartInfo(part.path, meta.num_rows, text, dropped, size)


class TapeReader:
    """Reads the exchanges in one or more tapes, filtered, as a stream."""

    def __init__(
        self,
        locations: Locations,
        *,
        filter: TapeFilter | None = None,
        batch_size: int = 4_096,
    ) -> None:
        if isinstance(locations, str | os.PathLike):
            locations = [locations]
        self.filter = filter or TapeFilter()
        self.batch_size = batch_size
        found = discover(locations)
        self.parts: list[PartFile] = [
            part for part in found if self.filter.may_contain(part.source, part.hour_start)
        ]

    def sources(self) -> list[str | None]:
        """The sources the parts belong to (their ``source=`` partition folder, None for a
        part outside one), in the order their first part is read."""
        return list(dict.fromkeys(part.source for part in self.parts))

    def for_source(self, source: str | None) -> TapeReader:
        """A reader of one source's parts only, with this reader's filter and batch size:
        each source's parts are in time order, so a source reads as one ordered stream."""
        reader = copy.copy(self)
        reader.parts = [part for part in self.parts if part.source == source]
        return reader

    def part_infos(self) -> Iterator[PartInfo]:
        for part in self.parts:
            yield read_part_info(part)

    def batches(
        self, *, columns: Sequence[str] | None = None, bodies: bool = True
    ) -> Iterator[pa.RecordBatch]:
        """Matching rows as record batches. ``bodies=False`` leaves body columns on disk."""
        wanted = list(columns) if columns is not None else list(COLUMNS)
        if not bodies:
            wanted = [c for c in wanted if c not in BODY_COLUMNS]
        unknown = [c for c in wanted if c not in COLUMNS]
        if unknown:
            raise ValueError(f"unknown tape columns: {', '.join(unknown)}")
        sample = self.filter.sample
        read_columns = wanted if sample is None or "id" in wanted else [*wanted, "id"]
        remaining = self.filter.limit
        expression = self.filter.expression()
        for part in self.parts:
            if remaining is not None and remaining <= 0:
                return
            read_part_info(part)
            for batch in self._part_batches(part, read_columns, expression):
                if sample is not None:
                    ids = batch.column("id").to_pylist()
                    mask = pa.array([sample_keep(i, sample) for i in ids], pa.bool_())
                    batch = batch.filter(mask)
                    if read_columns is not wanted:
                        batch = batch.select(wanted)
                if remaining is not None:
                    if batch.num_rows > remaining:
                        batch = batch.slice(0, remaining)
                    remaining -= batch.num_rows
                if batch.num_rows:
                    yield batch
                if remaining is not None and remaining <= 0:
                    return

    def _part_batches(
        self, part: PartFile, columns: list[str], expression: ds.Expression | None
    ) -> Iterator[pa.RecordBatch]:
        try:
            dataset = ds.dataset(
                part.path, schema=SCHEMA, format="parquet", filesystem=part.filesystem
            )
            yield from dataset.to_batches(
                columns=columns,
                filter=expression,
                batch_size=self.batch_size,
                batch_readahead=2,
                fragment_readahead=1,
            )
        except (pa.ArrowException, OSError) as exc:
            raise _damaged(part, exc) from None

    def exchanges(self, *, bodies: bool = True) -> Iterator[Exchange]:
        """Matching exchanges, rebuilt one batch at a time."""
        for batch in self.batches(bodies=bodies):
            yield from from_batch(batch)

    def __iter__(self) -> Iterator[Exchange]:
        return self.exchanges()

    def count(self) -> int:
        if self.filter.expression() is None and self.filter.sample is None:
            total = sum(info.rows for info in self.part_infos())
            return total if self.filter.limit is None else min(total, self.filter.limit)
        return sum(batch.num_rows for batch in self.batches(columns=["id"]))
