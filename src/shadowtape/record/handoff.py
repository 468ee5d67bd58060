"""The recorder's hand-off: captures leave the proxy's event loop here and never come back.

The proxy side (``Handoff.put``) appends to a bounded deque and returns: it never blocks
and never raises; when the deque is full the capture is dropped and counted. A sender
thread batches the deque every 100 milliseconds and passes each batch to a
``worker.Pipeline`` (sanitize, then ``TapeWriter``), either

- in a worker **process** (default): the batch is pickled onto an in-memory pipe, so
  decoding, sanitizing, Arrow conversion and Parquet writing run on another core and do
  not compete with the proxy for its GIL. Raw values cross only the pipe, never disk.
  A worker that dies is counted, logged and restarted; a stuck one only fills the pipe,
  after which captures are dropped and counted; or
- on the sender **thread** itself (``mode="thread"``): no second process, but every
  microsecond of sanitizing is taken from the proxy's GIL (benchmarks/bench_recorder.py
  compares the two).

Every capture handed over ends in exactly one counter: written, dropped or failed (or
still queued). ``close`` tells the worker to stop at once (it closes its parts and starts
its grace, see ``worker``), then sends what is queued and waits ``FINISH_TIMEOUT``; a
worker still busy then is killed, and what it had not written is counted as failed.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, MutableSequence
from dataclasses import dataclass

from shadowtape.record.capture import Captured
from shadowtape.record.worker import (
    DROPPED,
    FAILED,
    PARTS,
    QUEUED,
    RECEIVED,
    SLOTS,
    STOP_GRACE,
    WRITTEN,
    Pipeline,
    Settings,
    worker_main,
)

log = logging.getLogger("shadowtape.recorder")

BATCH_WAIT = 0.1
ALIVE_EVERY = 0.5
BATCH_MAX = 512
RESTART_BACKOFF = 5.0
#: How long closing waits for the worker: its stop grace, then time to close its parts.
FINISH_TIMEOUT = STOP_GRACE + 5.0


@dataclass(frozen=True, slots=True)
class Counters:
    """Where the captures handed over went, since the recorder started (all workers,
    including dead ones); the recorder's own stats extend them."""

    handed: int
    written: int
    dropped: int
    failed: int
    parts: int
    queued: int
    restarts: int


@dataclass(frozen=True, slots=True)
class HandoffStats(Counters):
    """The counters, and what the sender thread cost."""

    #: CPU seconds the sender thread has used (in the proxy's process, off its loop).
    sender_cpu: float = 0.0


@contextlib.contextmanager
def _clean_sys_path() -> Iterator[None]:
    """Hide shadowtape's own folder from the spawned worker's sys.path.

    mitmproxy puts a script's folder on sys.path while loading it, and a spawned process
    copies sys.path; with record/script.py that folder is this package, whose modules
    would then shadow any module of the same bare name (``options``, ``worker``, ...).
    """
    package = os.path.dirname(os.path.abspath(__file__))
    saved = sys.path[:]
    cleaned = [p for p in saved if os.path.abspath(p or os.curdir) != package]
    if len(cleaned) == len(saved):
        yield
        return
    sys.path[:] = cleaned
    try:
        yield
    finally:
        sys.path[:] = saved


class _ProcessBackend:
    """One worker process behind a one-way pipe; replaced when it dies."""

    def __init__(self, settings: Settings) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.counters: MutableSequence[int] = ctx.Array("q", SLOTS, lock=False)
        self.stopping = ctx.Event()
        reader, self.conn = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=worker_main,
            args=(reader, settings, self.counters, self.stopping),
            name="shadowtape-recorder-worker",
            daemon=True,
        )
        with _clean_sys_path():
            self.process.start()
        reader.close()
        self.sent = 0

    def send(self, batch: list[Captured]) -> None:
        # As plain tuples: pickling a NamedTuple costs about four times as much.
        plain = [tuple(captured) for captured in batch]
        self.conn.send_bytes(pickle.dumps(plain, protocol=pickle.HIGHEST_PROTOCOL))
        self.sent += len(batch)

    def alive(self) -> bool:
        return self.process.is_alive()

    def lost(self) -> int:
        """Captures sent to this worker that no counter accounts for (after it died)."""
        c = self.counters
        return max(0, self.sent - c[WRITTEN] - c[DROPPED] - c[FAILED])

    def finish(self, timeout: float) -> bool:
        with contextlib.suppress(OSError):
            self.conn.send_bytes(b"")
        with contextlib.suppress(OSError):
            self.conn.close()
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
            return False
        return True

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)


class _ThreadBackend:
    """The pipeline on the sender thread, in the proxy's process."""

    def __init__(self, settings: Settings) -> None:
        self.counters: MutableSequence[int] = [0] * SLOTS
        self.stopping = threading.Event()
        self.pipeline = Pipeline(settings, self.counters, stopping=self.stopping)
        self.sent = 0

    def send(self, batch: list[Captured]) -> None:
        self.sent += len(batch)
        self.counters[RECEIVED] += len(batch)
        self.pipeline.handle(batch)

    def alive(self) -> bool:
        return True

    def lost(self) -> int:
        return 0

    def finish(self, timeout: float) -> bool:
        self.pipeline.close(timeout)
        return True

    def kill(self) -> None:
        self.pipeline.close(0)


class Handoff:
    """The proxy's side: ``put`` never blocks; a sender thread feeds the pipeline."""

    def __init__(
        self,
        settings: Settings,
        *,
        mode: str = "process",
        queue_size: int = 10_000,
    ) -> None:
        if mode not in ("process", "thread"):
            raise ValueError(f"unknown worker mode {mode!r}; valid modes: process, thread")
        self.settings = settings
        self.mode = mode
        self._queue: deque[Captured] = deque()
        self._queue_size = queue_size
        self._wake = threading.Event()
        self._closing = False
        self._handed = 0
        self._dropped = 0
        self._failed = 0
        # Totals of workers that are gone, so counters never go backwards.
        self._past = [0] * SLOTS
        self._restarts = 0
        self._sender_cpu = 0.0
        self._checked = 0.0
        self._last_start = 0.0
        self._backend: _ProcessBackend | _ThreadBackend | None = None
        self._backend_lock = threading.Lock()
        self._start_backend()
        self._thread = threading.Thread(target=self._run, name="shadowtape-handoff", daemon=True)
        self._thread.start()

    # -- the proxy's side ---------------------------------------------------------------------

    def put(self, captured: Captured) -> bool:
        """Queue one capture; False (and counted) when the queue is full or closed."""
        queue = self._queue
        if self._closing or len(queue) >= self._queue_size:
            self._dropped += 1
            return False
        queue.append(captured)
        self._handed += 1
        if len(queue) >= BATCH_MAX:
            self._wake.set()
        return True

    @property
    def stats(self) -> HandoffStats:
        counters = self._backend.counters if self._backend is not None else [0] * SLOTS
        past = self._past
        return HandoffStats(
            handed=self._handed,
            written=past[WRITTEN] + counters[WRITTEN],
            dropped=self._dropped + past[DROPPED] + counters[DROPPED],
            failed=self._failed + past[FAILED] + counters[FAILED],
            parts=past[PARTS] + counters[PARTS],
            queued=len(self._queue) + counters[QUEUED] + self._in_flight(),
            restarts=self._restarts,
            sender_cpu=self._sender_cpu,
        )

    def _in_flight(self) -> int:
        backend = self._backend
        if isinstance(backend, _ProcessBackend):
            c = backend.counters
            return max(0, backend.sent - c[RECEIVED])
        return 0

    def close(self, timeout: float = FINISH_TIMEOUT + 5.0) -> bool:
        """Send everything queued, let the pipeline close its parts, stop. True when clean."""
        self._closing = True
        backend = self._backend
        if backend is not None:
            backend.stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the sender thread --------------------------------------------------------------------

    def _start_backend(self) -> None:
        self._last_start = time.monotonic()
        try:
            if self.mode == "process":
                self._backend = _ProcessBackend(self.settings)
            else:
                self._backend = _ThreadBackend(self.settings)
        except Exception as exc:
            self._backend = None
            log.warning("cannot start the recorder's %s worker: %s", self.mode, exc)

    def _retire_backend(self, reason: str) -> None:
        backend = self._backend
        if backend is None:
            return
        lost = backend.lost()
        for slot in (WRITTEN, DROPPED, FAILED, PARTS):
            self._past[slot] += backend.counters[slot]
        self._failed += lost
        self._backend = None
        backend.kill()
        log.warning("the recorder's worker %s; %d exchanges lost with it; restarting", reason, lost)

    def _run(self) -> None:
        while True:
            self._wake.wait(BATCH_WAIT)
            self._wake.clear()
            closing = self._closing
            self._drain()
            self._sender_cpu = time.thread_time()
            if closing and not self._queue:
                break
        self._finish()
        self._sender_cpu = time.thread_time()

    def _drain(self) -> None:
        queue = self._queue
        while queue:
            batch: list[Captured] = []
            while queue and len(batch) < BATCH_MAX:
                batch.append(queue.popleft())
            self._send(batch)
        backend = self._backend
        now = time.monotonic()
        if backend is not None and now - self._checked >= ALIVE_EVERY:
            self._checked = now
            if not backend.alive():
                self._retire_backend("died")
        if self._backend is None and time.monotonic() - self._last_start >= RESTART_BACKOFF:
            self._restarts += 1
            self._start_backend()

    def _send(self, batch: list[Captured]) -> None:
        backend = self._backend
        if backend is None:
            self._failed += len(batch)
            return
        try:
            backend.send(batch)
        except Exception as exc:
            self._failed += len(batch)
            self._retire_backend(f"cannot take exchanges ({type(exc).__name__}: {exc})")

    def _finish(self) -> None:
        backend = self._backend
        if backend is None:
            return
        backend.stopping.set()
        clean = backend.finish(timeout=FINISH_TIMEOUT)
        if not clean:
            self._retire_backend("did not finish in time")
        else:
            self._failed += backend.lost()
