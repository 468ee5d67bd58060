"""Shadow replay: send recorded requests to a candidate (and a live baseline), safely,
at production pacing, and write one result row per exchange.

``replay(...)`` is the Python entry point (the ``shadowtape replay`` command calls it;
``shadowtape.replay(...)`` calls it too: this module is callable); a target is a URL, or
an ASGI or WSGI app replayed in-process (http/inprocess.py);
``read_results(run_dirs)`` streams what a run wrote (shadowtape.results; the format is in
docs/results-format.md). A request goes rules -> prepare -> engine -> http -> results.

    engine.py             the run: dispatches in recorded order, paces, stops, writes run.json
    progress.py           progress on stderr (a bar on a terminal, plain lines otherwise)
    watch.py              a target that answers none of its first requests stops the run
    rules/options.py      what a run is asked to do (ReplayOptions, Pace, Shard), validated
    rules/targets.py      targets and the only place an outgoing URL and Host are built
    rules/safety.py       which requests may be sent, and the skip reasons of the others
    rules/ordering.py     requests that share state: kept in the order the recording
                          shows (--ordering), and in one shard
    rules/schedule.py     when each request is due, and how late the replayer ran
    rules/tracing.py      the fresh W3C traceparent each request carries, per target
    rules/inflight.py     mean requests in flight, recorded and achieved
    prepare/stream.py     the selection: tapes read per source, merged, sharded, fed to the loop
    prepare/jobs.py       a batch of requests prepared to send (Plan, Prepared, Job)
    prepare/batchwire.py  skip reasons and request bytes of a whole batch, in Arrow
    prepare/batchkeys.py  state keys of a whole batch, in Arrow
    http/client.py        the lean HTTP/1.1 client and its connection pool; error kinds
    http/inprocess.py     the client for an ASGI or WSGI app target, through httpx's transports
    http/heads.py         a response head as it arrives: its end, framing, persistence
    timing/loop.py        the event loop (uvloop where installed)
    timing/timer.py       waking when a send is due, to tens of microseconds
    timing/slots.py       the in-flight limit, cheap on the hot path
    timing/collector.py   garbage collection in the gaps between sends

Nothing here is imported by shadowtape.results, shadowtape.diff or shadowtape.report.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from shadowtape.builds import BESIDE, LOGS
from shadowtape.errors import ConfigError
from shadowtape.ids import new_id
from shadowtape.replay.engine import Run
from shadowtape.replay.http.client import Sender
from shadowtape.replay.http.inprocess import APP_URL, App, AppClient
from shadowtape.replay.prepare.jobs import Plan
from shadowtape.replay.prepare.stream import selected
from shadowtape.replay.progress import make_progress
from shadowtape.replay.rules.options import (
    DEFAULT_ABORT_AFTER,
    Ordering,
    Pace,
    ReplayOptions,
    Shard,
)
from shadowtape.replay.rules.targets import parse_header
from shadowtape.replay.timing.loop import loop_factory
from shadowtape.results.reader import read_results, read_run
from shadowtape.tape import TapeFilter

__all__ = [
    "App",
    "Ordering",
    "Pace",
    "ReplayOptions",
    "Shard",
    "read_results",
    "read_run",
    "replay",
    "replay_async",
    "run_folder",
]

#: Where runs go when no --out is given.
RUNS_ROOT = Path("shadowtape-runs")


def run_folder(out: str | os.PathLike[str] | None, shard: Shard | None = None) -> Path:
    """The run folder: ``out`` (which must be new or empty, but for the launched builds'
    logs and their deps proxies' files), or a new timestamped folder under
    ./shadowtape-runs/."""
    if out is not None:
        path = Path(out)
        if path.exists() and (
            not path.is_dir() or any(entry.name not in (LOGS, BESIDE) for entry in path.iterdir())
        ):
            raise ConfigError(
                f"--out {path}: already exists and is not an empty folder; give a new folder "
                "so two runs never mix"
            )
        return path
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = f"-shard{shard.index}of{shard.count}" if shard else ""
    return RUNS_ROOT / f"{stamp}-{new_id()[-6:].lower()}{suffix}"


async def replay_async(
    tapes: Sequence[str | os.PathLike[str]],
    options: ReplayOptions,
    *,
    out: str | os.PathLike[str] | None = None,
    progress: str = "off",
    progress_interval: float = 10.0,
    handle_signals: bool = False,
    apps: Mapping[str, App] | None = None,
) -> Path:
    """``replay`` for callers already inside an event loop. ``apps``: role -> the
    in-process app that role's target stands for (its URL in ``options`` is APP_URL)."""
    names = [os.fspath(t) for t in tapes]
    if not names:
        raise ConfigError("no tapes given: name one or more tape files or folders")
    jobs = selected(names, options.filter, options.shard, Plan.of(options))
    run_dir = run_folder(out, options.shard)
    run = Run(
        jobs,
        options,
        run_dir,
        tapes=names,
        progress=make_progress(progress, progress_interval),
        senders=_senders(apps or {}, options),
    )
    await run.run(handle_signals=handle_signals)
    return run_dir


def _senders(apps: Mapping[str, App], options: ReplayOptions) -> dict[str, Callable[[], Sender]]:
    return {
        role: functools.partial(AppClient, app, timeout=options.timeout, body_cap=options.body_cap)
        for role, app in apps.items()
    }


def _target(role: str, value: str | App | None, apps: dict[str, App]) -> str | None:
    """A target's URL; an app is noted in ``apps`` and sent to at APP_URL."""
    if value is None or isinstance(value, str):
        return value
    apps[role] = value
    return APP_URL


def replay(
    tapes: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    candidate: str | App,
    baseline: str | App = "recorded",
    secondary: str | App | None = None,
    out: str | os.PathLike[str] | None = None,
    pace: str | Pace | None = None,
    speed: float = 1.0,
    rate: float | None = None,
    concurrency: int = 64,
    ordering: str | Ordering = Ordering.RECORDED,
    timeout: float = 30.0,
    allow_mutating: bool = False,
    keep_host: bool = False,
    headers: Iterable[str | tuple[str, str]] = (),
    filter: TapeFilter | None = None,
    shard: str | Shard | None = None,
    repeat_sample: float = 0.1,
    verify_tls: bool = True,
    abort_after: int = DEFAULT_ABORT_AFTER,
    traceparent: bool = True,
    progress: str = "off",
    progress_interval: float = 10.0,
    handle_signals: bool = True,
) -> Path:
    """Replay the selected exchanges of ``tapes``; return the run folder.

    ``candidate``, ``baseline`` and ``secondary`` are URLs, or ASGI or WSGI apps, which
    are replayed in-process (through httpx's transports: no server, no socket). The
    baseline "recorded" compares with the recorded responses.

    ``headers`` are 'Name: value' strings ($VAR expanded from the environment) or pairs.
    ``pace`` left at None keeps the recorded gaps, unless ``rate`` replaces them (a pace
    given with ``rate``, "recorded" included, is a contradiction). ``speed`` applies to
    the recorded pace only (not with ``rate`` or ``pace="asap"``), ``repeat_sample`` to
    the recorded baseline only: a value that would do nothing is a ConfigError, like any
    other bad option.
    ``ordering`` says which requests that share state (a session, a client, an
    idempotency key) wait for one another: "recorded" (the default) those that did not
    overlap in the recording, "strict" all of them, in recorded order, "none" none.
    A target that answers none of its first ``abort_after`` requests
    (refused, reset, timed out) stops the run with a TargetDownError; 0 never stops.
    ``traceparent`` sends a W3C traceparent with a fresh trace id on every request to
    every target (in place of the recorded one, its trace flags kept).
    ``progress`` is "auto", "bar", "lines" or "off". With ``handle_signals``, Ctrl-C and
    SIGTERM stop the run cleanly (the results so far are kept, run.json says
    ``interrupted``), when called from the main thread.
    """
    if isinstance(tapes, str | os.PathLike):
        tapes = [tapes]
    pairs = tuple(parse_header(h) if isinstance(h, str) else (h[0], h[1]) for h in headers)
    apps: dict[str, App] = {}
    options = ReplayOptions(
        candidate=_target("candidate", candidate, apps) or "",
        baseline=_target("baseline", baseline, apps) or "recorded",
        secondary=_target("secondary", secondary, apps),
        pace=Pace.parse(pace) if isinstance(pace, str) else pace,
        speed=speed,
        rate=rate,
        concurrency=concurrency,
        ordering=Ordering.parse(ordering) if isinstance(ordering, str) else ordering,
        timeout=timeout,
        allow_mutating=allow_mutating,
        keep_host=keep_host,
        headers=pairs,
        filter=filter or TapeFilter(),
        shard=Shard.parse(shard) if isinstance(shard, str) else shard,
        repeat_sample=repeat_sample,
        verify_tls=verify_tls,
        abort_after=abort_after,
        traceparent=traceparent,
    )
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(
            replay_async(
                tapes,
                options,
                out=out,
                progress=progress,
                progress_interval=progress_interval,
                handle_signals=handle_signals,
                apps=apps,
            )
        )


class _CallableModule(types.ModuleType):
    """``shadowtape.replay(...)`` is this module's ``replay``: importing a submodule sets
    the package's attribute of that name to the module, so the module itself is made
    callable (a module may change its class: Python data model, "Customizing module
    attribute access")."""

    __call__ = staticmethod(replay)


sys.modules[__name__].__class__ = _CallableModule
