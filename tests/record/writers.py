"""Writer factories that fail on purpose, for the recorder's unit and end-to-end tests.

A real disk cannot be made to throw or stall on demand. The end-to-end tests name a
factory in SHADOWTAPE_TEST_WRITER (tests/e2e/record_faulty_addon.py), and the recorder's
worker process imports it from here (the tests put the repository on PYTHONPATH).
"""

from __future__ import annotations

import time
from typing import Any

from shadowtape.exchange import Exchange
from shadowtape.tape import TapeWriter


class ThrowingWriter:
    """Stands in for a writer with a bug: every write raises."""

    class stats:
        written = dropped = failed = parts = queued = 0

    def write(self, exchange: Exchange) -> bool:
        raise RuntimeError("injected writer failure (disk on fire)")

    def close(self, timeout: float | None = None) -> bool:
        return True


def throwing_writer(settings: Any) -> ThrowingWriter:
    return ThrowingWriter()


def slow_writer(settings: Any) -> TapeWriter:
    """A real TapeWriter behind a worker that cannot keep up (a stalled disk)."""
    writer = TapeWriter(settings.tapes, source=settings.source, max_age=settings.roll_age)
    original = writer.write

    def write(exchange: Exchange) -> bool:
        time.sleep(0.05)
        return original(exchange)

    writer.write = write  # type: ignore[method-assign]
    return writer
