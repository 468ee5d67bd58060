"""Importers: captures made by other tools (HAR, mitmproxy dumps, GoReplay) as tapes,
and tapes as HAR.

Each reader turns one file into a stream of Exchanges (and Skipped records, with the
reason); ``import_file`` sanitizes them and writes them through a TapeWriter.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from shadowtape.errors import CaptureError
from shadowtape.importers.base import ImportSummary, Item, Skipped, write_items
from shadowtape.importers.export_har import export_har, write_har
from shadowtape.importers.gor import read_gor
from shadowtape.importers.har import read_har
from shadowtape.importers.mitm import read_mitm
from shadowtape.sanitize import Sanitizer
from shadowtape.tape import TapeWriter

Reader = Callable[..., Iterator[Item]]

#: Format name (as on the command line) -> reader.
READERS: dict[str, Reader] = {"har": read_har, "mitm": read_mitm, "gor": read_gor}


def import_file(
    fmt: str,
    path: str | os.PathLike[str],
    writer: TapeWriter,
    sanitizer: Sanitizer,
    *,
    source: str | None = None,
    resanitize: bool = False,
) -> ImportSummary:
    """Import one capture file into the writer's tapes; every exchange is sanitized.

    Entries of an unchanged shadowtape HAR export are already sanitized and are kept as
    they are, unless ``resanitize`` (for instance with stricter rules).
    """
    try:
        reader = READERS[fmt]
    except KeyError:
        valid = ", ".join(READERS)
        raise CaptureError(f"unknown import format {fmt!r}; valid formats: {valid}") from None
    summary = ImportSummary(os.fspath(path))
    items = reader(path, source=source)
    return write_items(items, writer, sanitizer, summary, trust_sealed=not resanitize)


__all__ = [
    "READERS",
    "CaptureError",
    "ImportSummary",
    "Skipped",
    "export_har",
    "import_file",
    "read_gor",
    "read_har",
    "read_mitm",
    "write_har",
]
