"""Progress while replaying: a rich bar on a terminal, plain periodic lines otherwise.

Both go to stderr, so stdout stays for the one line saying where the results went. Their
figures mean what run.json's do, and the last one shown is run.json's own: the errors are
its ``counts.errors``, the lag its ``schedule`` (p99 and maximum). Without a schedule
(--pace asap) no lag is shown: a request is due when a slot frees up, so none is late.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    done: int
    selected: int
    skipped: int
    #: Exchanges sent that a target gave no response to (refused, reset, timeout, ...).
    #: An error status is a response: the report judges it.
    errors: int
    #: How late the latest sends started, in milliseconds; None without a schedule.
    lag_ms: float | None
    total: int | None = None
    #: At the end of a scheduled run: the run's p99 and maximum lag, instead of the latest.
    lag_p99_ms: float | None = None
    lag_max_ms: float | None = None


def lag_text(snap: Snapshot) -> str:
    """The lag as shown, or "" when there is no schedule to be late against."""
    if snap.lag_p99_ms is not None and snap.lag_max_ms is not None:
        return f"lag p99 {snap.lag_p99_ms:.1f} ms, max {snap.lag_max_ms:.1f} ms"
    if snap.lag_ms is None:
        return ""
    return f"lag {snap.lag_ms:.1f} ms"


class ProgressView(Protocol):
    interval: float

    def update(self, snap: Snapshot) -> None: ...

    def close(self, snap: Snapshot) -> None: ...


class _Rate:
    """Requests/s over the last interval, and over the whole run for the last line (the
    last interval is only what was left of one, and reads low)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = self._last = clock()
        self._done = 0
        self.value = 0.0

    def tick(self, done: int) -> float:
        now = self._clock()
        if now - self._last > 0:
            self.value = (done - self._done) / (now - self._last)
        self._last, self._done = now, done
        return self.value

    def average(self, done: int) -> float:
        elapsed = self._clock() - self._start
        return done / elapsed if elapsed > 0 else 0.0


class PlainProgress:
    """One line every ``interval`` seconds, for CI logs."""

    def __init__(
        self,
        stream: TextIO | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self._rate = _Rate(clock)

    def _line(self, snap: Snapshot, rate: float, per: str = "req/s") -> str:
        of = f"/{snap.total}" if snap.total is not None else ""
        lag = lag_text(snap)
        return (
            f"shadowtape replay: {snap.done}{of} replayed ({rate:.0f} {per}), "
            f"{snap.errors} errors, {snap.skipped} skipped{f', {lag}' if lag else ''}"
        )

    def update(self, snap: Snapshot) -> None:
        print(self._line(snap, self._rate.tick(snap.done)), file=self.stream, flush=True)

    def close(self, snap: Snapshot) -> None:
        if snap.done or snap.skipped:  # a run that failed before it began: its error says it
            line = self._line(snap, self._rate.average(snap.done), "req/s on average")
            print(line, file=self.stream, flush=True)


class RichProgress:
    """A live bar with rate, errors and schedule lag (when there is a schedule)."""

    interval = 0.25

    def __init__(self, console: Console | None = None) -> None:
        self._rate = _Rate()
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "{task.fields[rate]:>6.0f} req/s  [red]{task.fields[errors]} errors[/]  "
                "{task.fields[skipped]} skipped  {task.fields[lag]}"
            ),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._progress.start()
        self._task: TaskID = self._progress.add_task(
            "replay", total=None, rate=0.0, errors=0, skipped=0, lag=""
        )

    def update(self, snap: Snapshot, rate: float | None = None) -> None:
        self._progress.update(
            self._task,
            completed=snap.done + snap.skipped,
            total=snap.total,
            rate=self._rate.tick(snap.done) if rate is None else rate,
            errors=snap.errors,
            skipped=snap.skipped,
            lag=lag_text(snap),
        )

    def close(self, snap: Snapshot) -> None:
        self.update(snap, rate=self._rate.average(snap.done))
        self._progress.stop()


class NoProgress:
    interval = 3600.0

    def update(self, snap: Snapshot) -> None:
        pass

    def close(self, snap: Snapshot) -> None:
        pass


def make_progress(mode: str = "auto", interval: float = 10.0) -> ProgressView:
    """``auto``: a bar when stderr is a terminal, lines otherwise; or ``bar``, ``lines``,
    ``off``."""
    if mode == "off":
        return NoProgress()
    if mode == "bar" or (mode == "auto" and sys.stderr.isatty()):
        return RichProgress()
    return PlainProgress(interval=interval)
