"""Tapes: the Parquet store of exchanges (schema, writer, reader, filters)."""

from __future__ import annotations

from shadowtape.tape.filters import TapeFilter, parse_statuses
from shadowtape.tape.reader import PartInfo, TapeReader, read_part_info
from shadowtape.tape.schema import SCHEMA, SCHEMA_VERSION, from_batch, to_batch
from shadowtape.tape.writer import TapeWriter, WriterStats

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "PartInfo",
    "TapeFilter",
    "TapeReader",
    "TapeWriter",
    "WriterStats",
    "from_batch",
    "parse_statuses",
    "read_part_info",
    "to_batch",
]
