"""The ``concurrency`` probe: each endpoint's seeds alone, then K at once, then the same K
one at a time.

Per endpoint and per target (the candidate, and a live baseline), one seed at a time
(``alone``: each seed's reference answer), then the seeds K at once (``concurrent``: the
seeds cycled to fill K, in waves of K, so different requests overlap), then the same K
requests one at a time (``again``). A location at which answers at once differ from their
seed's reference significantly more often than the sequential answers do is a ``race`` on
that target (verdict.py). A candidate race at a location where the live baseline races too,
at a comparable rate, is the baseline's as well: reported, not gated. Answers at once that
say the target was overloaded (429, 503, a transport error) are not compared; they are
listed as ``overloaded``, with what could not be probed and why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from shadowtape.diff.compare import DEFAULT_SETTINGS, DiffSettings
from shadowtape.probe.outcome import Outcome, example, short
from shadowtape.probe.sample import MIN_SEEDS, EndpointSample, Seed
from shadowtape.probe.sender import TargetSender
from shadowtape.probe.unverified import no_seeds, unverified
from shadowtape.probe.verdict import Location, Tally, races, shared, side, suspects, tally
from shadowtape.replay.http.client import Reply

NAME = "concurrency"


@dataclass(slots=True)
class _Probed:
    """One target's answers on one endpoint: each answer at once with its seed's reference,
    and the tally of the differences per location."""

    role: str
    pairs: list[tuple[Seed, tuple[str, Reply], tuple[str, Reply]]]
    tally: Tally


async def run(
    samples: Sequence[EndpointSample],
    senders: Sequence[TargetSender],
    *,
    concurrency: int,
    sample_size: int,
    allow_mutating: bool,
    settings: DiffSettings = DEFAULT_SETTINGS,
) -> Outcome:
    outcome = Outcome.start(NAME, senders, sample=sample_size, concurrency=concurrency)
    probed_endpoints: list[tuple[EndpointSample, dict[str, _Probed]]] = []
    for entry in samples:
        why = _cannot_probe(entry, allow_mutating)
        if why is not None:
            outcome.unverified.append(why)
            continue
        live = outcome.begin(entry.endpoint, senders)
        if not live:
            continue
        found: dict[str, _Probed] = {}
        for sender in live:
            probed = await _probe(entry, sender, concurrency, settings)
            if probed is not None:
                found[sender.role] = probed
                if probed.tally.overloaded:
                    outcome.unverified.append(_overload(entry, probed, concurrency))
            outcome.check(sender)
        probed_endpoints.append((entry, found))
    tests = {
        role: sum(
            len(suspects(found[role].tally)) for _, found in probed_endpoints if role in found
        )
        for role in outcome.targets
    }
    for entry, found in probed_endpoints:
        baseline = found.get("baseline")
        for role, probed in found.items():
            groups: dict[bool, list[Location]] = {}
            for where in races(probed.tally, tests[role]):
                in_baseline = (
                    role == "candidate"
                    and baseline is not None
                    and shared(probed.tally, baseline.tally, where)
                )
                groups.setdefault(in_baseline, []).append(where)
            for in_baseline, places in groups.items():
                outcome.findings.append(_finding(entry, probed, places, concurrency, in_baseline))
    outcome.sent = {s.role: s.sent for s in senders}
    return outcome


def _cannot_probe(entry: EndpointSample, allow_mutating: bool) -> dict[str, object] | None:
    if len(entry.seeds) >= MIN_SEEDS:
        return None
    if not entry.seeds:
        return no_seeds(entry, allow_mutating)
    return unverified(
        entry.endpoint,
        "too_few_samples",
        f"{len(entry.seeds)} distinct request sent; a race needs {MIN_SEEDS} or more",
        len(entry.seeds),
    )


async def _probe(
    entry: EndpointSample, sender: TargetSender, concurrency: int, settings: DiffSettings
) -> _Probed | None:
    seeds = entry.seeds

    async def send(seed: Seed, stage: str) -> tuple[str, Reply]:
        return await sender.send(seed, probe=NAME, endpoint=entry.endpoint, stage=stage)

    alone = [await send(seed, "alone") for seed in seeds]
    if sender.check() is not None:  # failing alone: nothing to learn at once
        return None
    order = [i % len(seeds) for i in range(max(len(seeds), concurrency))]
    at_once: list[tuple[str, Reply]] = []
    for start in range(0, len(order), concurrency):
        wave = order[start : start + concurrency]
        at_once.extend(await asyncio.gather(*(send(seeds[i], "concurrent") for i in wave)))
    again = [await send(seeds[i], "again") for i in order]
    counted = tally(
        ((side(alone[i][1]), side(a[1])) for i, a in zip(order, again, strict=True)),
        ((side(alone[i][1]), side(a[1])) for i, a in zip(order, at_once, strict=True)),
        settings,
    )
    pairs = [(seeds[i], alone[i], a) for i, a in zip(order, at_once, strict=True)]
    return _Probed(sender.role, pairs, counted)


def _overload(entry: EndpointSample, probed: _Probed, concurrency: int) -> dict[str, object]:
    sent = len(probed.pairs)
    alone = probed.tally.overloaded_sequential
    return unverified(
        entry.endpoint,
        "overloaded",
        f"at {concurrency} at once the {probed.role} answered {probed.tally.overloaded} of "
        f"{sent} requests with 429, 503 or a transport error ({alone} of {sent} one at a "
        "time); those answers were not compared",
        probed.tally.overloaded,
    )


def _finding(
    entry: EndpointSample,
    probed: _Probed,
    places: Sequence[Location],
    concurrency: int,
    in_baseline: bool,
) -> dict[str, object]:
    """One finding for every racing location of one target on one endpoint (one cause,
    one finding), its example taken where answers at once differed most often."""
    where = max(places, key=lambda p: probed.tally.at[p].concurrent)
    count = probed.tally.at[where]
    assert count.example is not None  # a race has answers at once that differ
    index, diff = count.example
    seed, alone, concurrent = probed.pairs[index]
    role = probed.role
    compared, sequential = probed.tally.concurrent, probed.tally.sequential
    others = [_shown(probed, p) for p in places if p != where]
    also = f"; also at {', '.join(others)}" if others else ""
    message = (
        f"answered differently with {concurrency} requests at once than alone: "
        f"{diff.location} was {short(diff.baseline)} alone, {short(diff.candidate)} at once "
        f"({count.concurrent} of {compared} answers at once differed there, "
        f"{count.sequential} of {sequential} one at a time){also}"
    )
    if role == "baseline":
        message = f"the baseline races too: {message}"
    elif in_baseline:
        message += "; the baseline races there too, as often"
    return {
        "probe": NAME,
        "kind": "race",
        "target": role,
        "endpoint": entry.endpoint,
        "location": diff.location,
        "locations": [diff.location, *others],
        "message": message,
        "alone_value": diff.baseline,
        "concurrent_value": diff.candidate,
        "count": count.concurrent,
        "rate": round(probed.tally.rate(where), 4),
        "in_baseline": in_baseline,
        "exchange_ids": [alone[0], concurrent[0]],
        **example(seed, alone[1], concurrent[1]),
    }


def _shown(probed: _Probed, where: Location) -> str:
    """A racing location as its example names it (``$.name``)."""
    example = probed.tally.at[where].example
    return example[1].location if example is not None else str(where[1])
