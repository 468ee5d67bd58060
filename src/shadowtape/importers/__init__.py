"""Importers: captures made by other tools (HAR, mitmproxy dumps, GoReplay) as tapes,
and tapes as HAR.

Each reader turns one file into a stream of Exchanges (and Skipped records, with the
reason); ``import_file`` sanitizes them and writes them through a TapeWriter.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

from shadowtape.errors import CaptureError
from shadowtape.importers.base import ImportSummary, Item, Skipped, unreadable, write_items
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
    sanitizer: Sanitizer | Callable[[], Sanitizer],
    *,
    source: str | None = None,
    resanitize: bool = False,
    max_decompressed: int | None = None,
) -> ImportSummary:
    """Import one capture file into the writer's tapes; every exchange is sanitized.

    Entries of an unchanged shadowtape HAR export are already sanitized and are kept as
    they are, unless ``resanitize`` (for instance with stricter rules). ``sanitizer`` may
    be a function that makes one: it is called once the file is known to be a capture,
    so what making it logs (no key set) never precedes an error about the file. A file
    with nothing in it is a CaptureError: most likely a capture that never got written.
    ``max_decompressed``: what a compressed HAR (har, and mitm's .zhar) may decompress to
    (default ``har.MAX_DECOMPRESSED``).
    """
    try:
        reader = READERS[fmt]
    except KeyError:
        valid = ", ".join(READERS)
        raise CaptureError(f"unknown import format {fmt!r}; valid formats: {valid}") from None
    label = os.fspath(path)
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise unreadable(label, exc) from None
    if size == 0:
        raise CaptureError(f"{label}: empty file (0 bytes), nothing to import; {_CHECK}")
    limits = {"max_decompressed": max_decompressed} if max_decompressed is not None else {}
    items = reader(path, source=source, **(limits if fmt != "gor" else {}))
    first = next(items, None)  # the reader checks that this is a capture here
    if first is None:
        raise CaptureError(f"{label}: holds no requests, nothing to import; {_CHECK}")
    if not isinstance(sanitizer, Sanitizer):
        sanitizer = sanitizer()
    summary = ImportSummary(label)
    return write_items(
        itertools.chain([first], items), writer, sanitizer, summary, trust_sealed=not resanitize
    )


_CHECK = "check that it is the capture you meant and that it was written to the end"


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
