"""The Recorder: a mitmproxy addon that records each completed flow as a sanitized Exchange.

Run it in front of a service as a reverse proxy::

    mitmdump -s "$(python -m shadowtape.record.script)" --mode reverse:http://127.0.0.1:8080 \\
        --set shadowtape_tapes=/var/lib/shadowtape/tapes

The proxy never waits for the recorder: the ``response`` and ``error`` hooks only take
references to what the flow holds and queue them (``capture.capture``); large and
streaming bodies are streamed through with a capped copy kept (``stream``); decoding,
sanitizing and writing happen in a worker process (``worker``). When recording fails
(tape folder gone, disk full, worker dead, queue full) the traffic goes on, and the
failures are counted and logged once per interval.
"""

from __future__ import annotations

import difflib
import gc
import json
import logging
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from mitmproxy import ctx, exceptions

from shadowtape.errors import ConfigError, TapeError
from shadowtape.record import options, stream, values
from shadowtape.record.capture import capture
from shadowtape.record.handoff import Counters, Handoff, HandoffStats
from shadowtape.record.options import FILTER_OPTIONS, WORKER_OPTIONS
from shadowtape.record.worker import Settings, WriterFactory, default_key

log = logging.getLogger("shadowtape.recorder")

_RECORDED = "shadowtape_recorded"
_FROZEN = False
STATS_EVERY = 1.0


@dataclass(frozen=True, slots=True)
class RecorderStats(Counters):
    """Counters since the recorder started; ``hook_us`` is the mean in-hook cost per flow."""

    seen: int
    skipped: int
    hook_us: float
    #: The sender thread's CPU per handed-over flow (in the proxy's process, off its loop).
    sender_us: float = 0.0


class _BadOption(exceptions.OptionsError):
    """A wrong shadowtape_* value: the user's mistake, so its message is all mitmdump shows."""


class _OneLine(logging.Filter):
    """Log a _BadOption that mitmproxy's script loader reports as its message alone.

    mitmproxy loads scripts after it has read the command line, so an OptionsError from a
    script's ``configure`` does not get the one line mitmproxy prints for its own options:
    the loader logs it with a traceback. The record stays an error, so mitmdump still stops.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, _BadOption):
            record.msg, record.args, record.exc_info, record.exc_text = str(exc), (), None, None
        return True


_ONE_LINE = _OneLine()


def _bad(message: str) -> exceptions.OptionsError:
    """mitmproxy's OptionsError: refuses the value (and rolls back a change at run time)."""
    return _BadOption(message)  # type: ignore[no-untyped-call]


def _unknown(opts: Any) -> None:
    """A shadowtape_* name no option has is a typo, which mitmproxy would silently ignore."""
    typos = sorted(name for name in opts.deferred if name.startswith("shadowtape_"))
    if typos:
        known = [name for name in sorted(opts.keys()) if name.startswith("shadowtape_")]
        close = difflib.get_close_matches(typos[0], known, n=1)
        hint = f"did you mean {close[0]}?" if close else "see them with mitmdump --options"
        raise _bad(f"{typos[0]}: the recorder has no such option; {hint}")


class Recorder:
    """Records completed flows (responses and errors) to tapes, sanitized, off the loop."""

    def __init__(self, *, writer_factory: WriterFactory | None = None) -> None:
        self.writer_factory = writer_factory
        self.handoff: Handoff | None = None
        self.filter: values.Selection | None = None
        self._raw_cap = 4 * 1024 * 1024
        self._max_body = 1024 * 1024
        self._key: bytes | None = None
        self._seen = 0
        self._skipped = 0
        self._capture_failed = 0
        self._hook_ns = 0
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self._reported = (0, 0)
        self._last_report = time.monotonic()

    # -- mitmproxy lifecycle ------------------------------------------------------------------

    def load(self, loader: Any) -> None:
        logging.getLogger("mitmproxy.addons.script").addFilter(_ONE_LINE)
        options.declare(loader)

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        first = self.filter is None
        if first:
            _unknown(opts)
        # Every value is checked before anything is built: a refused one starts no worker.
        try:
            selection = values.selection(opts) if updated & FILTER_OPTIONS or first else None
            limits = values.limits(opts) if updated & WORKER_OPTIONS else None
        except ConfigError as exc:
            raise _bad(str(exc)) from None
        settings = self._settings(limits) if limits is not None else None
        if selection is not None:
            self.filter = selection
        if limits is not None:
            self._close_handoff()
            if settings is not None:
                self.handoff = Handoff(settings, mode=limits.worker, queue_size=limits.queue)
                log.info(
                    "shadowtape: recording to %s as source %r (%s worker)",
                    settings.tapes,
                    settings.source,
                    limits.worker,
                )
        if self.handoff is not None or opts.shadowtape_stats_file:
            self._start_ticker()

    def _settings(self, limits: values.Limits) -> Settings | None:
        opts = ctx.options
        tapes = opts.shadowtape_tapes
        if not tapes:
            return None
        _check_tapes(tapes)
        self._raw_cap = max(4 * limits.max_body, 4 * 1024 * 1024)
        self._max_body = limits.max_body
        if self._key is None:
            self._key, random_key = default_key()
            if random_key:
                log.warning(
                    "SHADOWTAPE_SANITIZE_KEY is not set: pseudonyms use a random key for this "
                    "recorder process, so they will not match across restarts or replicas; "
                    "set the variable to the same secret everywhere you record"
                )
        return Settings(
            tapes=tapes,
            source=opts.shadowtape_source or socket.gethostname(),
            max_body=limits.max_body,
            key=self._key,
            rules=limits.rules,
            roll_rows=limits.roll_rows,
            roll_bytes=limits.roll_bytes,
            roll_age=float(limits.roll_age),
            log_interval=float(limits.log_interval),
            compression=limits.compression,
            budget=limits.budget,
            writer_factory=self.writer_factory,
        )

    def running(self) -> None:
        """Once mitmdump is up: move every object made so far out of the garbage collector.

        Importing this addon's dependencies adds hundreds of thousands of objects that
        live as long as the process, and every full collection, run on the proxy's event
        loop, would walk them again (benchmarks/README.md, "Recorder", has the cost).
        ``gc.freeze()`` (after one last collection) spares the proxy that.
        """
        global _FROZEN
        if not _FROZEN:
            gc.collect()
            gc.freeze()
            _FROZEN = True

    def done(self) -> None:
        self._close_handoff()
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(5)
            self._ticker = None
        self._tick(final=True)

    # -- the hooks: the only code on the proxy's path -----------------------------------------

    def requestheaders(self, flow: Any) -> None:
        if self.handoff is None:
            return
        started = time.perf_counter_ns()
        try:
            stream.plan_request(flow.request, self._max_body, self._raw_cap)
        except Exception as exc:  # recording never breaks a flow
            self._plan_failed(exc)
        self._hook_ns += time.perf_counter_ns() - started

    def responseheaders(self, flow: Any) -> None:
        if self.handoff is None:
            return
        started = time.perf_counter_ns()
        try:
            stream.plan_response(flow, self._max_body, self._raw_cap)
        except Exception as exc:  # recording never breaks a flow
            self._plan_failed(exc)
        self._hook_ns += time.perf_counter_ns() - started

    def _plan_failed(self, exc: Exception) -> None:
        self._capture_failed += 1
        if self._capture_failed == 1:
            log.warning("shadowtape: cannot stream a body: %s", exc)

    def response(self, flow: Any) -> None:
        self._record(flow)

    def error(self, flow: Any) -> None:
        if flow.metadata.get(_RECORDED):
            return  # already recorded with its response
        self._record(flow)

    def _record(self, flow: Any) -> None:
        handoff = self.handoff
        if handoff is None:
            return
        started = time.perf_counter_ns()
        self._seen += 1
        try:
            # Marked even when skipped, so a later error hook does not decide again.
            flow.metadata[_RECORDED] = True
            if self.filter is not None and not self.filter.wants(flow):
                self._skipped += 1
            else:
                handoff.put(capture(flow, self._raw_cap))
        except Exception as exc:  # recording never breaks a flow
            self._capture_failed += 1
            if self._capture_failed == 1:
                log.warning("shadowtape: cannot capture a flow: %s", exc)
        self._hook_ns += time.perf_counter_ns() - started

    # -- counters, reporting ------------------------------------------------------------------

    @property
    def stats(self) -> RecorderStats:
        h = self.handoff.stats if self.handoff is not None else self._last_handoff
        return RecorderStats(
            seen=self._seen,
            skipped=self._skipped,
            handed=h.handed,
            written=h.written,
            dropped=h.dropped,
            failed=h.failed + self._capture_failed,
            parts=h.parts,
            queued=h.queued,
            restarts=h.restarts,
            hook_us=self._hook_ns / self._seen / 1000 if self._seen else 0.0,
            sender_us=h.sender_cpu / h.handed * 1e6 if h.handed else 0.0,
        )

    _last_handoff = HandoffStats(0, 0, 0, 0, 0, 0, 0)

    def _close_handoff(self) -> None:
        handoff = self.handoff
        if handoff is None:
            return
        if not handoff.close():
            log.warning("shadowtape: the recorder's worker did not finish in time")
        self._last_handoff = handoff.stats
        self.handoff = None

    def _start_ticker(self) -> None:
        if self._ticker is not None and self._ticker.is_alive():
            return
        self._stop.clear()
        self._ticker = threading.Thread(
            target=self._tick_loop, name="shadowtape-stats", daemon=True
        )
        self._ticker.start()

    def _tick_loop(self) -> None:
        while not self._stop.wait(STATS_EVERY):
            self._tick(final=False)

    def _tick(self, *, final: bool) -> None:
        try:
            stats = self.stats
            self._report_failures(stats, final)
            path = ctx.options.shadowtape_stats_file
            if path:
                _write_json(path, asdict(stats) | {"final": final})
        except Exception as exc:  # reporting never breaks recording
            log.debug("shadowtape: stats tick failed: %s", exc)

    def _report_failures(self, stats: RecorderStats, final: bool) -> None:
        interval = float(ctx.options.shadowtape_log_interval)
        now = time.monotonic()
        if not final and now - self._last_report < interval:
            return
        dropped, failed = stats.dropped, stats.failed
        new_dropped, new_failed = dropped - self._reported[0], failed - self._reported[1]
        if new_dropped or new_failed:
            log.warning(
                "shadowtape: %d exchanges dropped (queue full) and %d failed (tape or worker "
                "errors) in the last %.0f s; totals %d dropped, %d failed, %d written; "
                "proxied traffic is not affected",
                new_dropped,
                new_failed,
                now - self._last_report,
                dropped,
                failed,
                stats.written,
            )
        self._reported = (dropped, failed)
        self._last_report = now


def _check_tapes(tapes: str) -> None:
    """Reject a tape location that is wrong by construction; a missing folder is created.

    A folder that exists but cannot be written is logged, not refused: a sidecar that
    refused to start would take the service down with it.
    """
    if "://" in tapes:
        # Only here: pyarrow is otherwise kept out of the proxy's process (see running()).
        from shadowtape.tape.location import resolve_root

        try:
            resolve_root(tapes)
        except TapeError as exc:
            raise _bad(f"shadowtape_tapes: {exc}") from None
        return
    if os.path.exists(tapes) and not os.path.isdir(tapes):
        raise _bad(f"shadowtape_tapes: {tapes} is a file, not a folder")
    try:
        os.makedirs(tapes, exist_ok=True)
    except OSError as exc:
        log.warning(
            "shadowtape: cannot create the tape folder %s (%s); recording will fail "
            "until it can be written",
            tapes,
            exc.strerror or exc,
        )
        return
    if not os.access(tapes, os.W_OK):
        log.warning(
            "shadowtape: the tape folder %s is not writable; recording will fail until it is", tapes
        )


def _write_json(path: str, data: dict[str, object]) -> None:
    temp = f"{path}.tmp"
    with open(temp, "w") as handle:
        json.dump(data, handle)
    os.replace(temp, path)
