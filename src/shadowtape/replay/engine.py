"""The replay run: reads the selection, paces it, sends it, and writes every result.

One dispatcher walks the tape in recorded order: it skips what safety rules out (a row
with the reason), waits until the next request is due, takes one of ``concurrency``
slots and starts the request; requests that share state wait for the earlier ones that
``--ordering`` names (by default those that had finished, in the recording, before they
started). While it waits it does the run's chores a few tens of microseconds at a time
(collection, taking prepared jobs from the feed). Threads do only what runs mostly
without the GIL: reading and preparing batches (prepare/), and writing results
(shadowtape.results). Stopping (Ctrl-C, SIGTERM) halts the dispatcher, lets requests in
flight finish for a moment, cancels the rest, and leaves every result so far on disk,
run.json saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shadowtape.errors import ReplayError, ShadowtapeError, TargetDownError, os_error_line
from shadowtape.ids import new_id
from shadowtape.replay.http.client import ReplayClient, Reply, Sender
from shadowtape.replay.prepare.jobs import Job
from shadowtape.replay.prepare.stream import Feed, Selection
from shadowtape.replay.progress import NoProgress, ProgressView, Snapshot
from shadowtape.replay.rules.inflight import InFlight
from shadowtape.replay.rules.options import Ordering, Pace, ReplayOptions
from shadowtape.replay.rules.ordering import Sequencer
from shadowtape.replay.rules.schedule import LagStats, Schedule
from shadowtape.replay.timing.collector import Collector
from shadowtape.replay.timing.slots import Slots
from shadowtape.replay.timing.timer import DueTimer
from shadowtape.replay.watch import TargetWatch
from shadowtape.results.rows import ResultRows
from shadowtape.results.schema import RESULTS_VERSION
from shadowtape.results.writer import ResultsWriter, write_run_json

log = logging.getLogger("shadowtape.replay")

#: Finished rows handed to the writer thread at a time...
HAND_OVER_ROWS = 512
#: ...or when they hold this many body bytes, to bound memory.
GROUP_BYTES = 16 * 1024 * 1024
#: Chores are done only while the next send is at least this far off (a chore takes
#: tens of microseconds; at 0.2 ms, a replay at 6,000 requests/s never had a gap, and
#: all of its chores were forced, in longer steps: p99 latency 4 ms instead of 1.3).
CHORE_GAP_S = 0.0001
#: Skips let the loop turn once in this many exchanges selected (a long run of skips
#: never waits, and would otherwise hold the loop).
SKIP_YIELD = 256
#: Seconds between forced writes, so results on disk are never older than this.
FLUSH_EVERY = 1.0
#: Seconds requests in flight get to finish after a stop.
STOP_GRACE = 1.0
#: Sends planned closer together than this (a timer's step) are waited for by yielding.
SPIN_GAP_S = 0.001
#: Behind schedule, the dispatcher lets the loop turn at least this often (seconds), so
#: that replies are read between sends that are all due at once.
BURST_S = 0.0002
#: The interpreter's switch interval while a run goes (the default is 5 ms). The reader
#: and writer threads run a little Python between their Arrow calls; when the loop wakes
#: meanwhile, it waits for the GIL up to this long. Restored when the run ends.
SWITCH_INTERVAL = 0.0002


#: Starts a task eagerly (Python 3.12+): it runs to its first wait at once, so a request
#: leaves now, not on the loop's next turn.
_EAGER: Any = getattr(asyncio, "eager_task_factory", None)


def _start(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    if _EAGER is None:
        return loop.create_task(coro)
    task: asyncio.Task[None] = _EAGER(loop, coro)
    return task


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Run:
    """One replay into one run folder."""

    def __init__(
        self,
        jobs: Selection,
        options: ReplayOptions,
        run_dir: Path,
        *,
        tapes: Sequence[str],
        progress: ProgressView | None = None,
        senders: Mapping[str, Callable[[], Sender]] | None = None,
    ) -> None:
        self.options = options
        #: Role -> what makes its client, for a target that is not a URL (an in-process
        #: app, replay/http/inprocess.py); the others get the lean client.
        self.senders = senders or {}
        self.run_dir = run_dir
        self.tapes = [str(t) for t in tapes]
        self.progress = progress or NoProgress()
        #: The targets by role, as the selection's reader threads prepare requests for them.
        self.targets = jobs.plan.targets
        self.candidate = self.targets["candidate"]
        self.baseline = self.targets.get("baseline")
        self.secondary = self.targets.get("secondary")
        self.run_id = new_id()
        self.feed = Feed(jobs)
        self.rows = ResultRows(self.run_id, options.live_baseline)
        #: How late the replayer itself started sends: the pace it could keep...
        self.lag = LagStats()
        #: ...apart from sends held for an earlier request that shares their state, which
        #: wait for the target, not for the replayer.
        self.waits = LagStats(warn=False)
        #: Requests in flight in the recording (recorded us) and in the replay (monotonic
        #: s), over the exchanges sent.
        self.recorded_flight = InFlight()
        self.replay_flight = InFlight()
        #: Sends have due times (not --pace asap): read per request, so kept here.
        self._paced = options.paced
        self.skipped: Counter[str] = Counter()
        self.selected = 0
        self.replayed = 0
        self.errors = 0
        #: A target that answers none of its first requests stops the run (replay/watch.py).
        self.watch = TargetWatch(
            {role: target.origin for role, target in self.targets.items()},
            options.abort_after,
            self._abandon,
        )
        self.interrupted = False
        self.started_at = datetime.now(UTC)
        self.last_lag_us = 0
        self._writer: ResultsWriter | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: What ended the dispatcher early, other than a stop or a write failure.
        self.broken: Exception | None = None
        #: Cancels the requests still in flight, STOP_GRACE after the first stop.
        self._grace: asyncio.TimerHandle | None = None
        self._feed: asyncio.Task[None] | None = None
        self.collector = Collector()
        self._stops = 0
        #: Why results can no longer be written (a full disk): the run stops, and says so.
        self.failure: ReplayError | None = None

    # -- run.json ---------------------------------------------------------------------------

    def run_info(self, finished: bool) -> dict[str, Any]:
        o, f = self.options, self.options.filter
        return {
            "results_version": RESULTS_VERSION,
            "run_id": self.run_id,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(datetime.now(UTC)) if finished else None,
            "tapes": self.tapes,
            "candidate": str(self.candidate),
            "baseline": str(self.baseline) if self.baseline else "recorded",
            "secondary": str(self.secondary) if self.secondary else None,
            "settings": {
                "pace": "rate" if o.rate is not None else (o.pace or Pace.RECORDED).value,
                "speed": o.speed if o.rate is None and o.pace is not Pace.ASAP else None,
                "rate": o.rate,
                "concurrency": o.concurrency,
                "ordering": o.ordering.value,
                "timeout": o.timeout,
                "allow_mutating": o.allow_mutating,
                "keep_host": o.keep_host,
                "headers": [name for name, _ in o.headers],
                "repeat_sample": o.repeat_sample if not o.live_baseline else None,
                "body_cap": o.body_cap,
                "verify_tls": o.verify_tls,
                "traceparent": o.traceparent,
                "filters": {
                    "methods": list(f.methods),
                    "hosts": list(f.hosts),
                    "path": f.path,
                    "statuses": [list(r) for r in f.statuses],
                    "since": _iso(f.since) if f.since else None,
                    "until": _iso(f.until) if f.until else None,
                    "sources": list(f.sources),
                    "ids": list(f.ids),
                    "sample": f.sample,
                    "limit": f.limit,
                },
            },
            "counts": {
                "selected": self.selected,
                "replayed": self.replayed,
                "skipped": sum(self.skipped.values()),
                "errors": self.errors,
            },
            "skipped": dict(sorted(self.skipped.items())),
            "in_flight": {
                "recorded_mean": self.recorded_flight.mean(),
                "achieved_mean": self.replay_flight.mean(),
            },
            # With --pace asap nothing is due at a set time, so nothing can be late.
            "schedule": self._schedule() if self._paced else None,
            "interrupted": self.interrupted,
            "error": self._error_line(),
            "shard": str(o.shard) if o.shard else None,
        }

    # -- the run ----------------------------------------------------------------------------

    async def run(self, *, handle_signals: bool = True) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_run_json(self.run_dir, self.run_info(finished=False))
        self._writer = ResultsWriter(self.run_dir)
        loop = asyncio.get_running_loop()
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, SWITCH_INTERVAL))
        self.collector.start()
        # The handlers there were before the run are put back after it (a caller's, such
        # as shadowtape.builds' that stops the launched builds on SIGTERM).
        signals: dict[signal.Signals, Any] = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous = signal.getsignal(sig)
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self.stop)
                    signals[sig] = previous
        try:
            async with AsyncExitStack() as stack:
                clients: dict[str, Sender] = {}
                for role in self.targets:
                    make = self.senders.get(role)
                    clients[role] = await stack.enter_async_context(
                        make()
                        if make is not None
                        else ReplayClient(
                            max_connections=self.options.concurrency,
                            timeout=self.options.timeout,
                            body_cap=self.options.body_cap,
                            verify_tls=self.options.verify_tls,
                        )
                    )
                ticker = asyncio.create_task(self._tick())
                self._feed = asyncio.create_task(self._dispatch(clients))
                try:
                    try:
                        await self._feed
                    except asyncio.CancelledError:
                        if not self.interrupted and self.failure is None and self.broken is None:
                            raise
                    except Exception as exc:
                        # A tape that turns out damaged mid-run (or a bug): the requests
                        # already sent still get their rows, then the error is told.
                        self.broken = exc
                    await self._drain()
                    if self.broken is None and not self.interrupted:
                        self.broken = self.watch.at_end()
                finally:
                    ticker.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await ticker
        finally:
            sys.setswitchinterval(switch)
            self.collector.stop()
            for sig, previous in signals.items():
                loop.remove_signal_handler(sig)
                if previous is not None:
                    signal.signal(sig, previous)
            self.feed.stop()
            self._hand_over()
            try:
                self._writer.close()
            except ReplayError as exc:
                self.failure = self.failure or exc
            try:
                write_run_json(self.run_dir, self.run_info(finished=True))
            except OSError:
                if self.failure is None:
                    raise
            self.progress.close(self._snapshot(final=True))
            if self.lag.fell_behind and self._paced:
                log.warning(
                    "the replay fell behind schedule (p99 lag %.1f ms, max %.1f ms): latency "
                    "figures include the wait; lower --speed/--rate or shard the replay",
                    self.lag.percentile(0.99) / 1000,
                    self.lag.max_us / 1000,
                )
            if self._paced and self.waits.fell_behind and self.waits.count * 100 >= self.replayed:
                log.warning(
                    "%d requests waited for an earlier one that shares their state (session, "
                    "client, idempotency key; p99 %.1f ms, max %.1f ms): the target answered "
                    "those earlier requests more slowly than the scheduled gaps between them, "
                    "and the later ones' latency figures include the wait",
                    self.waits.count,
                    self.waits.percentile(0.99) / 1000,
                    self.waits.max_us / 1000,
                )
        if self.failure is not None:
            raise self.failure
        if self.broken is not None:
            raise self.broken

    def _schedule(self) -> dict[str, Any]:
        p99, most = self.waits.figures_ms()
        return {
            **self.lag.summary(),
            "order_waits": self.waits.count,
            "p99_order_wait_ms": p99,
            "max_order_wait_ms": most,
        }

    def _error_line(self) -> str | None:
        error = self.failure or self.broken
        if error is None:
            return None
        if isinstance(error, ShadowtapeError):
            return str(error)
        if isinstance(error, OSError) and error.strerror:
            return os_error_line(error)
        return f"internal error: {type(error).__name__}: {error}"

    def stop(self) -> None:
        """Stop dispatching; requests in flight get STOP_GRACE to finish, or none at a
        second stop."""
        self._stops += 1
        self.interrupted = True
        if self._feed is not None and not self._feed.done():
            self._feed.cancel()
        if self._stops > 1:
            self._cancel_all()
        else:
            self._give_grace()

    def _give_grace(self) -> None:
        if self._grace is None:
            self._grace = asyncio.get_running_loop().call_later(STOP_GRACE, self._cancel_all)

    def _cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def _drain(self) -> None:
        """Wait for the requests in flight: all of them after a whole run, STOP_GRACE
        after a stop or an error (from the stop, or from now), none when results cannot
        be written."""
        if self.failure is not None:
            self._cancel_all()
        elif self.broken is not None:
            self._give_grace()
        try:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            if self._grace is not None:
                self._grace.cancel()

    def _hand_over(self) -> None:
        """Give the finished rows to the writer thread: a swap of buffers."""
        if not len(self.rows) or self._writer is None or self.failure is not None:
            return
        try:
            self._writer.put(self.rows.take())
        except ReplayError as exc:
            self._fail(exc)

    def _fail(self, exc: ReplayError) -> None:
        """Results cannot be written any more: stop sending, and end the run with this."""
        if self.failure is None:
            self.failure = exc
            if self._feed is not None and not self._feed.done():
                self._feed.cancel()
            else:  # already waiting for the last replies: they can no longer be kept
                self._cancel_all()

    def _chore(self) -> bool:
        """One short step of the run's background work; False when there is none."""
        return self.collector.step() or self.feed.pump()

    def _snapshot(self, final: bool = False) -> Snapshot:
        """What progress shows: lag only against a schedule (with --pace asap a request
        is due when a slot frees up), and at the end the run's figures, run.json's."""
        if not self._paced:
            lag, p99, peak = None, None, None
        elif final:
            lag, (p99, peak) = None, self.lag.figures_ms()
        else:
            lag, p99, peak = self.last_lag_us / 1000, None, None
        return Snapshot(
            done=self.replayed,
            selected=self.selected,
            skipped=sum(self.skipped.values()),
            errors=self.errors,
            lag_ms=lag,
            lag_p99_ms=p99,
            lag_max_ms=peak,
        )

    async def _tick(self) -> None:
        last_flush = last_view = time.monotonic()
        while True:
            await asyncio.sleep(min(FLUSH_EVERY, self.progress.interval))
            now = time.monotonic()
            if now - last_flush >= FLUSH_EVERY:
                self._hand_over()
                last_flush = now
            if now - last_view >= self.progress.interval:
                self.progress.update(self._snapshot())
                last_view = now

    async def _dispatch(self, clients: dict[str, Sender]) -> None:
        options = self.options
        schedule = Schedule(
            pace=options.pace or Pace.RECORDED, speed=options.speed, rate=options.rate
        )
        slots = Slots(options.concurrency)
        loop = asyncio.get_running_loop()
        timer = DueTimer(loop)
        try:
            await self._dispatch_with(clients, schedule, slots, loop, timer)
        finally:
            timer.close()

    async def _dispatch_with(
        self,
        clients: dict[str, Sender],
        schedule: Schedule,
        slots: Slots,
        loop: asyncio.AbstractEventLoop,
        timer: DueTimer,
    ) -> None:
        ordering = self.options.ordering
        sequencer = Sequencer(ordering) if ordering is not Ordering.NONE else None
        wall0, mono0 = time.time(), time.monotonic()
        last_due = -1.0
        feed = self.feed
        turn = time.monotonic()  # when the dispatcher last let the loop turn
        # The schedule starts with the first exchange, once the feed has read ahead and
        # each target has a connection open (connecting is not what is being paced).
        await asyncio.gather(
            feed.fill(),
            *(clients[role].connect_ahead(target.origin) for role, target in self.targets.items()),
        )
        while True:
            job = feed.take()
            if job is None:
                # The read-ahead ran dry (the loop never had a gap): take one now.
                job = await feed.next()
                if job is None:
                    break
            if job.skip is not None:
                self.selected += 1
                self.skipped[job.skip] += 1
                self._add(job, job.skip)
                if self.selected % SKIP_YIELD == 0:
                    await asyncio.sleep(0)  # a long run of skips still lets the loop turn
                continue
            due = schedule.due(job.at_us)
            if due is not None:
                # The gap before a send is when the chores get done, a slice at a time,
                # with the replies that came in meanwhile handled in between.
                while due - time.monotonic() > CHORE_GAP_S and self._chore():
                    await asyncio.sleep(0)
                    turn = time.monotonic()
                if timer.precise:
                    if due > time.monotonic():
                        await timer.until(due)
                        turn = time.monotonic()
                else:
                    # The loop's timers wake up to 1 ms late (epoll counts in
                    # milliseconds), so sends closer together than that are waited
                    # for by yielding: at such rates the loop is busy anyway.
                    wait = due - time.monotonic()
                    if due - last_due < SPIN_GAP_S and wait < SPIN_GAP_S:
                        while time.monotonic() < due:
                            await asyncio.sleep(0)
                            turn = time.monotonic()
                    elif wait > 0:
                        await asyncio.sleep(wait)
                        turn = time.monotonic()
                    last_due = due
            if not slots.take_now():
                # Every slot is busy (--pace asap, or a slow target): do a chore while
                # the replies come in.
                self._chore()
                if not slots.take_now():
                    await slots.take()
                    turn = time.monotonic()
            elif due is not None and time.monotonic() - turn > BURST_S:
                # Behind schedule every send is due at once: the replies that came in
                # meanwhile are read now and then, not after the whole burst has left.
                # (With --pace asap the slots pace the sends, and waiting for one turns.)
                await asyncio.sleep(0)
                turn = time.monotonic()
            # Counted only now: an exchange still waiting at a stop was not reached.
            self.selected += 1
            if due is None:
                due = time.monotonic()
            keys = job.keys
            if keys and sequencer is not None:
                before, mine = sequencer.enter(keys, job.at_us, job.end_us)
            else:
                before, mine = [], None
            scheduled_us = round((wall0 + (due - mono0)) * 1e6)
            # Started eagerly: the request goes out now, not on the loop's next turn.
            task = _start(loop, self._one(job, clients, due, scheduled_us, before))
            self._tasks.add(task)

            def done(t: asyncio.Task[None], keys: list[str] = keys, mine: Any = mine) -> None:
                self._tasks.discard(t)
                if mine is not None and sequencer is not None:
                    sequencer.leave(keys, mine)
                slots.give()

            task.add_done_callback(done)

    async def _one(
        self,
        job: Job,
        clients: dict[str, Sender],
        due: float,
        scheduled_us: int,
        before: list[asyncio.Future[None]],
    ) -> None:
        try:
            # The replayer's own lateness is counted before any wait for an earlier request
            # that shares state: that one waits for the target. lag_us has both.
            late_us = max(0, round((time.monotonic() - due) * 1e6)) if before else 0
            for earlier in before:
                await earlier
            started = time.monotonic()
            lag_us = max(0, round((started - due) * 1e6))
            if before:
                self.waits.add(lag_us - late_us)
            else:
                late_us = lag_us
            self.last_lag_us = late_us
            if self._paced:
                self.lag.add(late_us)
            replies = await self._send(job, clients)
            self.replay_flight.add(started, time.monotonic())
            self.recorded_flight.add(job.at_us, job.end_us)
        except asyncio.CancelledError:
            self.skipped["interrupted"] += 1
            self._add(job, "interrupted")
            raise
        self.replayed += 1
        for reply in replies.values():
            if reply.error_kind is not None:
                self.errors += 1
                break
        if self.watch.watching:
            self.watch.observe(replies)
        self._add(job, None, scheduled_us, lag_us, due, replies)

    def _abandon(self, error: TargetDownError) -> None:
        """A target answers nothing: stop dispatching, as a stop does, and end with this."""
        if self.broken is None and self.failure is None:
            self.broken = error
            if self._feed is not None and not self._feed.done():
                self._feed.cancel()

    async def _send(self, job: Job, clients: dict[str, Sender]) -> dict[str, Reply]:
        wires, method = job.wires, job.method
        if len(wires) > 1:  # a live baseline (and secondary): sent at the same moment
            answers = await asyncio.gather(
                *(clients[role].fetch_wire(*wire, method) for role, wire in wires.items())
            )
            return dict(zip(wires, answers, strict=True))
        candidate = clients["candidate"]
        key, data = wires["candidate"]
        replies = {"candidate": await candidate.fetch_wire(key, data, method)}
        if job.repeat:
            replies["repeat"] = await candidate.fetch_wire(key, data, method)
        return replies

    def _add(
        self,
        job: Job,
        skip_reason: str | None,
        scheduled_us: int | None = None,
        lag_us: int | None = None,
        due: float | None = None,
        replies: dict[str, Reply] | None = None,
    ) -> None:
        rows = self.rows
        rows.add(job, skip_reason, scheduled_us, lag_us, due, replies)
        if len(rows) >= HAND_OVER_ROWS or rows.body_bytes >= GROUP_BYTES:
            self._hand_over()
        self.collector.step(force=True)
