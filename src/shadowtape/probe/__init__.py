"""Probes: provoke, on recorded requests, the gaps production has not hit yet.

Probes run after the plain replay, on seeds taken from what it sent, to the same targets
with the same safety rules, and write ``probes/probes.json`` (what each probe sent, found
and could not verify) and ``probes/exchanges.jsonl`` (every probe exchange) into the run
folder; the report reads them from there (report/_probes.py).

    options.py      what a probe run is asked to do (ProbeOptions), the probe names
    sample.py       the seeds: up to N sent requests per endpoint, templated as the report does
    sender.py       sending a seed to one target, the exchange log, stopping a failing target
    verdict.py      an answer at once unlike the answer alone, beyond the endpoint's noise
    outcome.py      what every probe reports (Outcome) and the example a finding carries
    unverified.py   why a probe could not verify an endpoint, the reasons every probe gives
    concurrency.py  the concurrency probe: alone, K at once, alone again; ``race`` findings
    duplicates.py   the duplicates probe: mutating requests twice; ``duplicate_delivery``
    calls.py        the outbound calls a probe request caused on a launched build
    mutants.py      a seed with one parameter moved to an edge its recording has not reached
    shapes.py       the shapes probe: mutants to the candidate and the live baseline; ``shape``
    scale.py        the scale probe: sizes x1, x4, x16; ``superlinear`` and ``new_error`` findings
    faults.py       the faults probe: each dependency failing in turn; ``swallowed_error``
    handling.py     how a build handled a failing dependency, against the live baseline
    deps_link.py    a build's deps proxy: the fault switch and the calls each request caused
    sizing.py       the parameters that size the work (limit, count, body arrays), resized
    growth.py       the log-log fit of latency on size, with its confidence interval

``run_probes(run_dir, options)`` is the entry point (``shadowtape replay --probe`` calls it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TypedDict

import orjson

from shadowtape.diff.compare import DiffSettings
from shadowtape.probe import concurrency, duplicates, faults, scale, shapes
from shadowtape.probe.calls import BuildCalls
from shadowtape.probe.deps_link import DepsLink
from shadowtape.probe.options import Probe, ProbeOptions, parse_probes
from shadowtape.probe.outcome import Outcome
from shadowtape.probe.sample import EndpointSample, sample
from shadowtape.probe.sender import ExchangeLog, TargetSender
from shadowtape.replay.http.client import ReplayClient, Sender
from shadowtape.replay.http.inprocess import AppClient
from shadowtape.replay.timing.loop import loop_factory
from shadowtape.results.deps import deps_proxies

__all__ = ["Probe", "ProbeOptions", "parse_probes", "run_probes"]

#: The probes' folder in a run folder, and its summary file.
FOLDER = "probes"
SUMMARY = "probes.json"


def run_probes(run_dir: Path, options: ProbeOptions) -> Path:
    """Run ``options.probes`` against the targets of the run in ``run_dir``; the path of
    the probes.json written."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(run_probes_async(run_dir, options))


async def run_probes_async(run_dir: Path, options: ProbeOptions) -> Path:
    folder = run_dir / FOLDER
    samples = sample(
        [run_dir],
        per_endpoint=options.sample,
        allow_mutating=options.allow_mutating,
        routes=options.routes,
    )
    log = ExchangeLog(folder)
    results: list[dict[str, object]] = []
    try:
        async with AsyncExitStack() as stack:
            senders = []
            for role, url in options.targets.items():
                client: Sender
                if role in options.apps:
                    client = AppClient(options.apps[role], timeout=options.timeout)
                else:
                    client = ReplayClient(
                        max_connections=options.concurrency,
                        timeout=options.timeout,
                        verify_tls=options.verify_tls,
                    )
                await stack.enter_async_context(client)
                senders.append(
                    TargetSender(
                        role,
                        url,
                        client,
                        log,
                        keep_host=options.keep_host,
                        headers=options.headers,
                        traceparent=options.traceparent,
                    )
                )
            deps = options.deps or deps_proxies(run_dir)
            links = {role: DepsLink(role, files) for role, files in deps.items()}
            for probe, start in _runs(samples, senders, options, links, run_dir).items():
                if probe in options.probes:
                    results.append((await start()).to_json())
    finally:
        log.close()
    path = folder / SUMMARY
    path.write_bytes(orjson.dumps({"probes": results}, option=orjson.OPT_INDENT_2))
    return path


class _Shared(TypedDict):
    """The settings every probe but ``scale`` is run with."""

    sample_size: int
    allow_mutating: bool
    settings: DiffSettings


def _runs(
    samples: Sequence[EndpointSample],
    senders: Sequence[TargetSender],
    options: ProbeOptions,
    links: Mapping[str, DepsLink],
    run_dir: Path,
) -> dict[Probe, Callable[[], Awaitable[Outcome]]]:
    """Each probe's run, in the order they run and are reported."""
    shared = _Shared(
        sample_size=options.sample, allow_mutating=options.allow_mutating, settings=options.diff
    )
    return {
        Probe.CONCURRENCY: lambda: concurrency.run(
            samples, senders, concurrency=options.concurrency, **shared
        ),
        Probe.DUPLICATES: lambda: duplicates.run(
            samples, senders, calls=BuildCalls(run_dir), **shared
        ),
        Probe.SHAPES: lambda: shapes.run(samples, senders, cap=options.shapes, **shared),
        Probe.SCALE: lambda: scale.run(
            samples, senders, scale_max=options.scale_max, sample_size=options.sample
        ),
        Probe.FAULTS: lambda: faults.run(
            samples,
            senders,
            links=links,
            timeout=options.timeout,
            sample_size=options.sample,
            allow_mutating=options.allow_mutating,
        ),
    }
