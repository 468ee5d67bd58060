"""What every importer shares: the item types readers yield, and the loop that sanitizes
exchanges and streams them into a TapeWriter.

A reader turns one capture file into a stream of ``Exchange`` or ``Skipped`` items, one
per record, so a file of any size imports in bounded memory. The loop here is the only
place that writes: every exchange goes through the Sanitizer first, so an importer cannot
put a raw credential on a tape by forgetting a step.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from shadowtape.errors import CaptureError, TapeError
from shadowtape.exchange import Exchange, Request
from shadowtape.importers.tape_ids import TapeIds
from shadowtape.sanitize import Sanitizer
from shadowtape.tape import TapeWriter


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record that is not imported, and why (a short reason, counted per file)."""

    reason: str
    #: Where it is in the file, e.g. "entry 12" or "record 7", for the first examples.
    where: str = ""


@dataclass(frozen=True, slots=True)
class Exported:
    """An exchange read back from a shadowtape HAR export, with the id it had on its tape
    (so it may be in the target tape already, see tape_ids.py).

    ``sealed`` when the entry is unchanged since the export: its values are pseudonyms
    already (see seal.py).
    """

    exchange: Exchange
    sealed: bool
    where: str = ""


Item = Exchange | Exported | Skipped

#: The skip reason for an exchange whose id the target tape holds.
ALREADY_IN_TAPE = "already in the tape (same exchange id)"


@dataclass(slots=True)
class ImportSummary:
    """What happened to one file."""

    path: str
    imported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    #: The first few places each skip reason occurred, to point a person at them.
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skip(self, item: Skipped) -> None:
        self.skipped[item.reason] += 1
        where = self.examples.setdefault(item.reason, [])
        if item.where and len(where) < 3:
            where.append(item.where)

    def describe(self) -> str:
        """One line: 'FILE: 12 exchanges imported, 2 skipped (2 not HTTP: tcp flow: flow 5, 6)'."""
        noun = "exchange" if self.imported == 1 else "exchanges"
        text = f"{self.path}: {self.imported} {noun} imported, {self.skipped_total} skipped"
        if self.skipped:
            reasons = []
            for reason, count in self.skipped.most_common():
                where = self.examples.get(reason) or []
                more = ", ..." if count > len(where) else ""
                at = f" ({', '.join(where)}{more})" if where else ""
                reasons.append(f"{count} {reason}{at}")
            text += ": " + "; ".join(reasons)
        return text


def unreadable(path: str | os.PathLike[str], exc: OSError) -> CaptureError:
    """The error for a capture file the system would not open or read."""
    return CaptureError(f"{os.fspath(path)}: cannot read this file ({exc.strerror or exc})")


def open_capture(path: str | os.PathLike[str]) -> BinaryIO:
    """A capture file opened to read (the caller closes it), or a CaptureError."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise unreadable(path, exc) from None


def dedupe(values: Iterable[str]) -> tuple[str, ...]:
    """Redaction locations once each, in first-seen order (a re-import adds them again)."""
    return tuple(dict.fromkeys(values))


def _scrub_redactions(exchange: Exchange, sanitizer: Sanitizer) -> Exchange:
    """Redactions restored from an export that is not trusted are text from the file:
    they go through the sanitizer too (as tags of an empty exchange) before they are kept."""
    if not exchange.redactions:
        return exchange
    probe = Exchange(
        request=Request("GET", "import.invalid"),
        tags={str(i): text for i, text in enumerate(exchange.redactions)},
    )
    scrubbed = sanitizer.sanitize(probe).tags
    return exchange.replace(
        redactions=tuple(scrubbed[str(i)] for i in range(len(exchange.redactions)))
    )


def write_items(
    items: Iterable[Item],
    writer: TapeWriter,
    sanitizer: Sanitizer,
    summary: ImportSummary,
    *,
    trust_sealed: bool = True,
) -> ImportSummary:
    """Sanitize each exchange and hand it to the writer; count skips. Flushes at the end.

    A sealed exchange is written as it is unless ``trust_sealed`` is False: its values are
    pseudonyms already, and sanitizing them again would change them. An exported exchange
    whose id the tape already holds is skipped: it is that same exchange again, and ids
    stay unique, so importing an export twice is harmless.
    """
    known = TapeIds(writer.root)
    for item in items:
        if isinstance(item, Skipped):
            summary.skip(item)
            continue
        if isinstance(item, Exported):
            if known.holds(item.exchange):
                summary.skip(Skipped(ALREADY_IN_TAPE, item.where))
                continue
            known.add(item.exchange)
            trusted = item.sealed and trust_sealed
            if trusted:
                clean = item.exchange
            else:
                clean = sanitizer.sanitize(_scrub_redactions(item.exchange, sanitizer))
        else:
            clean = sanitizer.sanitize(_scrub_redactions(item, sanitizer))
        if len(clean.redactions) != len(set(clean.redactions)):
            clean = clean.replace(redactions=dedupe(clean.redactions))
        if not writer.write(clean, block=True):
            raise TapeError(
                f"{writer.root}: the tape writer refused an exchange (closed or full); "
                "nothing after it was imported"
            )
        summary.imported += 1
    _flush(writer)
    return summary


def _flush(writer: TapeWriter) -> None:
    writer.flush()
    stats = writer.stats
    if stats.failed or stats.dropped:
        raise TapeError(
            f"{writer.root}: {stats.failed + stats.dropped} exchanges could not be written "
            "(see the warnings above); check the disk and permissions, then import again"
        )
