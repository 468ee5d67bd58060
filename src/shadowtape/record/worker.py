"""The recorder's worker: captures in, sanitized exchanges out to the tape writer.

``Pipeline`` is the only place a live capture becomes an Exchange (``capture.to_exchange``),
and it sanitizes it before anything else can see it; every capture ends in one of its
counters, which it shares with the proxy side (``handoff``). ``worker_main`` runs it in
the worker process, at a lower CPU priority than the proxy.

Each exchange gets ``Settings.budget`` seconds of sanitizing (``budget``): a body it has
no time for is dropped with a redaction, so one hostile exchange delays the ones behind it
by about the budget, never more. When the proxy asks it to stop (``stopping``), the
pipeline closes the parts written so far at once, and an exchange it reaches more than
``STOP_GRACE`` seconds later is written with its bodies dropped: it still finishes
within the proxy's shutdown wait, and a kill after that loses only what it had not written.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shadowtape.exchange import Exchange
from shadowtape.record.capture import Captured, to_exchange

log = logging.getLogger("shadowtape.recorder")

#: Slots of the counters a pipeline shares with the proxy side.
RECEIVED, WRITTEN, DROPPED, FAILED, PARTS, QUEUED = range(6)
SLOTS = 6
WORKER_NICE = 10
REFRESH_EVERY = 0.25
#: Seconds after a stop request during which bodies are still sanitized; the proxy waits
#: this long plus a margin for the parts to close (handoff.FINISH_TIMEOUT).
STOP_GRACE = 20.0


class Writer(Protocol):
    """What the pipeline needs of a TapeWriter (a test or a plugin may bring its own)."""

    def write(self, exchange: Exchange) -> bool: ...
    def close(self, timeout: float | None = None) -> bool: ...
    @property
    def stats(self) -> Any: ...


WriterFactory = Callable[..., Writer]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a pipeline needs; picklable, since a worker process receives it."""

    tapes: str
    source: str
    max_body: int
    key: bytes
    rules: str | None = None
    roll_rows: int = 1_000_000
    roll_bytes: int = 256 * 1024 * 1024
    roll_age: float = 60.0
    writer_queue: int = 100_000
    compression: str = "zstd"
    log_interval: float = 10.0
    #: Seconds of sanitizing per exchange before its remaining bodies are dropped.
    budget: float = 0.25
    stop_grace: float = STOP_GRACE
    #: A module-level callable (importable by the worker) building the writer.
    writer_factory: WriterFactory | None = field(default=None, compare=False)


class _Throttle:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last = -interval

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            return True
        return False


def _tape_writer(settings: Settings) -> Writer:
    from shadowtape.tape import TapeWriter

    return TapeWriter(
        settings.tapes,
        source=settings.source,
        queue_size=settings.writer_queue,
        max_rows=settings.roll_rows,
        max_bytes=settings.roll_bytes,
        max_age=settings.roll_age,
        compression=settings.compression,
        log_interval=settings.log_interval,
    )


class Pipeline:
    """Capture -> Exchange -> sanitized Exchange -> writer; counts every outcome."""

    def __init__(
        self,
        settings: Settings,
        counters: MutableSequence[int],
        *,
        stopping: Any = None,
        timer: bool = False,
    ) -> None:
        """``stopping``: an Event the proxy sets to ask for a stop; ``timer``: interrupt a
        body step at its deadline (only on a process's main thread, see ``budget``)."""
        # Here, not at the top: the proxy's process imports this module, not the sanitizer.
        from shadowtape.record.budget import TimerDeadline
        from shadowtape.sanitize import Sanitizer
        from shadowtape.sanitize.sanitizer import Deadline

        self.settings = settings
        self.counters = counters
        if settings.rules:
            self.sanitizer = Sanitizer.from_file(settings.rules, key=settings.key)
        else:
            self.sanitizer = Sanitizer(key=settings.key)
        self.writer: Writer | None = None
        self._failed = 0
        self._throttle = _Throttle(settings.log_interval)
        self._writer_throttle = _Throttle(settings.log_interval)
        self._refreshed = 0.0
        self._deadline = TimerDeadline if timer else Deadline
        self._stop_by = math.inf
        self._open_writer()
        if stopping is not None:
            threading.Thread(
                target=self._on_stop, args=(stopping,), name="shadowtape-stop", daemon=True
            ).start()

    def _on_stop(self, stopping: Any) -> None:
        """On a stop request: start the grace, and close what is written so far."""
        stopping.wait()
        self._stop_by = time.monotonic() + self.settings.stop_grace
        # A writer of a test or a plugin may have no flush: it is closed at the end anyway.
        flush = getattr(self.writer, "flush", None)
        if flush is not None:
            with contextlib.suppress(Exception):
                flush(self.settings.stop_grace)
        self.refresh()

    def _open_writer(self) -> None:
        factory = self.settings.writer_factory or _tape_writer
        try:
            self.writer = factory(self.settings)
        except Exception as exc:
            self.writer = None
            if self._writer_throttle.ready():
                log.warning("cannot open the tape writer for %s: %s", self.settings.tapes, exc)

    def handle(self, batch: list[Captured]) -> None:
        settings = self.settings
        for captured in batch:
            if self.writer is None:
                self._open_writer()
                if self.writer is None:
                    self._fail("no tape writer")
                    continue
            try:
                raw = to_exchange(captured, source=settings.source, max_body=settings.max_body)
                # The only place an Exchange is made, and it is sanitized before anything
                # else can see it.
                at = min(time.monotonic() + settings.budget, self._stop_by)
                clean = self.sanitizer.sanitize(raw, deadline=self._deadline(at))
                self.writer.write(clean)
            except Exception as exc:
                self._fail(f"{type(exc).__name__}: {exc}")
        # Reading the writer's stats walks its queue: not after every batch when behind.
        if time.monotonic() - self._refreshed >= REFRESH_EVERY:
            self.refresh()

    def _fail(self, reason: str) -> None:
        self._failed += 1
        if self._throttle.ready():
            log.warning("cannot record an exchange (%s); failed so far: %d", reason, self._failed)

    def refresh(self) -> None:
        self._refreshed = time.monotonic()
        counters = self.counters
        counters[FAILED] = self._failed
        if self.writer is None:
            return
        try:
            stats = self.writer.stats
            counters[WRITTEN] = int(stats.written)
            counters[DROPPED] = int(stats.dropped)
            counters[FAILED] = self._failed + int(stats.failed)
            counters[PARTS] = int(stats.parts)
            counters[QUEUED] = int(stats.queued)
        except Exception:
            pass

    def close(self, timeout: float | None) -> None:
        if self.writer is not None:
            try:
                self.writer.close(timeout)
            except Exception as exc:
                log.warning("closing the tape writer failed: %s", exc)
        self.refresh()


def worker_main(
    conn: Any, settings: Settings, counters: MutableSequence[int], stopping: Any = None
) -> None:
    """The worker process: batches in from the pipe, parts out to the tapes.

    It runs at a lower CPU priority than the proxy, ignores SIGINT (a Ctrl-C in a
    terminal reaches the whole process group; the proxy decides when recording ends) and
    finishes on the empty sentinel or on EOF, which is also what it sees when the proxy
    is killed, so it still closes its parts then.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Recording yields the CPU to the proxy (and to whatever shares its machine): the
    # worker's bursts (a row group converted and compressed at once) must not delay traffic.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICE)
    logging.basicConfig(
        level=logging.WARNING, format="shadowtape recorder worker: %(levelname)s: %(message)s"
    )
    from shadowtape.record import budget

    pipeline = Pipeline(settings, counters, stopping=stopping, timer=budget.arm())
    while True:
        try:
            if not conn.poll(0.5):
                pipeline.refresh()
                continue
            data = conn.recv_bytes()
        except (EOFError, OSError):
            break
        if not data:
            break
        batch = [Captured._make(fields) for fields in pickle.loads(data)]
        counters[RECEIVED] += len(batch)
        pipeline.handle(batch)
    pipeline.close(timeout=None)


def default_key() -> tuple[bytes, bool]:
    """The sanitizing key: SHADOWTAPE_SANITIZE_KEY, else one random key for this process.

    Made once on the proxy side and handed to every worker, so a restarted worker keeps
    producing the same pseudonyms. The flag says whether the key is random.
    """
    env = os.environ.get("SHADOWTAPE_SANITIZE_KEY")
    if env:
        return env.encode("utf-8"), False
    return os.urandom(32), True
