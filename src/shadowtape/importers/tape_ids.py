"""The exchange ids a tape folder already holds, so that an import never writes one twice.

Only an exchange that brings its own id can already be in a tape: a shadowtape HAR export
keeps each exchange's tape id, so importing the same export twice, or an export back into
the tape it came from, would repeat ids the tape format promises are unique. Other
captures get new ids and are never looked up. Ids are read an hour at a time, the hour
the exchange was recorded in (its partition, pruned by path), only when such an exchange
arrives; memory holds the ids of the last few hours touched (an export is in time
order, so an hour left behind is seldom needed again, and is read again if it is).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import pyarrow.fs as pafs

from shadowtape.exchange import Exchange
from shadowtape.tape import TapeFilter, TapeReader
from shadowtape.tape.location import resolve_root

#: Hours whose ids are kept at once: a busy tape holds a million exchanges an hour.
HOURS_KEPT = 4


class TapeIds:
    """Which ids a tape folder holds, including those added while it is written to."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._hours: OrderedDict[datetime, set[str]] = OrderedDict()

    def holds(self, exchange: Exchange) -> bool:
        return exchange.id in self._hour(exchange.recorded_at)

    def add(self, exchange: Exchange) -> None:
        """Remember an id being written, before its part is closed and readable."""
        self._hour(exchange.recorded_at).add(exchange.id)

    def _hour(self, at: datetime) -> set[str]:
        start = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        ids = self._hours.get(start)
        if ids is None:
            ids = self._hours[start] = self._read(start)
            if len(self._hours) > HOURS_KEPT:
                self._hours.popitem(last=False)
        else:
            self._hours.move_to_end(start)
        return ids

    def _read(self, start: datetime) -> set[str]:
        fs, path = resolve_root(self.root)
        if fs.get_file_info(path).type == pafs.FileType.NotFound:
            return set()  # a new tape folder
        window = TapeFilter(since=start, until=start + timedelta(hours=1))
        reader = TapeReader(self.root, filter=window)
        return {
            i for batch in reader.batches(columns=["id"]) for i in batch.column("id").to_pylist()
        }
