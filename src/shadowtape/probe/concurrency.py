"""The ``concurrency`` probe: each endpoint's seeds alone, then K at once, then alone again.

Per endpoint and per target (the candidate, and a live baseline), one seed at a time
(``alone``), then the seeds K at once (``concurrent``: the seeds cycled to fill K, in
waves of K, so different requests overlap), then one at a time again (``again``). An
answer given at once that differs from its seed's alone answer at a location that was
stable alone (verdict.py) is a ``race`` on that target. A candidate race on an endpoint
where the live baseline races too is the baseline's as well, and is reported as such, not
gated. What could not be probed is listed with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from shadowtape.diff.compare import DEFAULT_SETTINGS, DiffSettings
from shadowtape.probe.sample import MIN_SEEDS, EndpointSample, Seed
from shadowtape.probe.sender import TargetSender, response_json
from shadowtape.probe.verdict import Race, races, side, unstable
from shadowtape.replay.http.client import Reply

NAME = "concurrency"
#: Example values in a finding are cut to this many characters.
VALUE_CHARS = 200


@dataclass(slots=True)
class _Group:
    """The races of one target and endpoint at one location."""

    race: Race
    seed: Seed
    alone: tuple[str, Reply]
    concurrent: tuple[str, Reply]
    count: int = 0


@dataclass(slots=True)
class Outcome:
    """What the probe did and found, in report.json's shape for a probe (plain JSON)."""

    concurrency: int
    sample: int
    targets: list[str]
    endpoints: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    findings: list[dict[str, object]] = field(default_factory=list)
    unverified: list[dict[str, object]] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "name": NAME,
            "targets": self.targets,
            "settings": {"sample": self.sample, "concurrency": self.concurrency},
            "endpoints": self.endpoints,
            "sent": self.sent,
            "findings": self.findings,
            "unverified": self.unverified,
            "stopped": self.stopped,
            "exchanges": "probes/exchanges.jsonl",
        }


async def run(
    samples: Sequence[EndpointSample],
    senders: Sequence[TargetSender],
    *,
    concurrency: int,
    sample_size: int,
    allow_mutating: bool,
    settings: DiffSettings = DEFAULT_SETTINGS,
) -> Outcome:
    outcome = Outcome(concurrency, sample_size, [s.role for s in senders])
    for entry in samples:
        why = _cannot_probe(entry, allow_mutating)
        if why is not None:
            outcome.unverified.append(why)
            continue
        live = [s for s in senders if s.stopped is None]
        if not live:
            outcome.unverified.append(
                _unverified(entry.endpoint, "target_failing", "the probe stopped early")
            )
            continue
        outcome.endpoints += 1
        found: dict[str, list[_Group]] = {}
        for sender in live:
            found[sender.role] = await _probe(entry, sender, concurrency, settings)
            stopped = sender.check()
            if stopped is not None and stopped not in outcome.stopped:
                outcome.stopped.append(stopped)
        baseline_raced = bool(found.get("baseline"))
        for role, groups in found.items():
            for group in groups:
                outcome.findings.append(
                    _finding(entry, role, group, len(entry.seeds), concurrency, baseline_raced)
                )
    outcome.sent = {s.role: s.sent for s in senders}
    return outcome


def _cannot_probe(entry: EndpointSample, allow_mutating: bool) -> dict[str, object] | None:
    if len(entry.seeds) >= MIN_SEEDS:
        return None
    mutating = entry.skipped.get("mutating", 0)
    if not entry.seeds and mutating and not allow_mutating:
        return _unverified(
            entry.endpoint,
            "mutating_not_allowed",
            "its requests are mutating and were not sent; --allow-mutating probes them",
            mutating,
        )
    if not entry.seeds:
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(entry.skipped.items()))
        return _unverified(
            entry.endpoint, "not_sent", f"the replay sent none of its requests ({skipped})"
        )
    return _unverified(
        entry.endpoint,
        "too_few_samples",
        f"{len(entry.seeds)} distinct request sent; a race needs {MIN_SEEDS} or more",
        len(entry.seeds),
    )


def _unverified(
    endpoint: str, reason: str, detail: str, count: int | None = None
) -> dict[str, object]:
    return {"reason": reason, "location": endpoint, "count": count, "detail": detail}


async def _probe(
    entry: EndpointSample, sender: TargetSender, concurrency: int, settings: DiffSettings
) -> list[_Group]:
    seeds = entry.seeds

    async def send(seed: Seed, stage: str) -> tuple[str, Reply]:
        return await sender.send(seed, probe=NAME, endpoint=entry.endpoint, stage=stage)

    alone = [await send(seed, "alone") for seed in seeds]
    if sender.check() is not None:  # failing alone: nothing to learn at once
        return []
    order = [i % len(seeds) for i in range(max(len(seeds), concurrency))]
    at_once: list[tuple[int, tuple[str, Reply]]] = []
    for start in range(0, len(order), concurrency):
        wave = order[start : start + concurrency]
        replies = await asyncio.gather(*(send(seeds[i], "concurrent") for i in wave))
        at_once.extend(zip(wave, replies, strict=True))
    again = [await send(seed, "again") for seed in seeds]
    pairs = ((side(a[1]), side(b[1])) for a, b in zip(alone, again, strict=True))
    varies = unstable(pairs, settings)
    groups: dict[tuple[str, str], _Group] = {}
    for index, answer in at_once:
        for race in races(side(alone[index][1]), side(answer[1]), varies, settings):
            group = groups.get(race.location)
            if group is None:
                group = groups[race.location] = _Group(race, seeds[index], alone[index], answer)
            group.count += 1
    return list(groups.values())


def _finding(
    entry: EndpointSample,
    role: str,
    group: _Group,
    seeds: int,
    concurrency: int,
    baseline_raced: bool,
) -> dict[str, object]:
    diff = group.race.difference
    sent = max(seeds, concurrency)
    in_baseline = role == "candidate" and baseline_raced
    message = (
        f"answered differently with {concurrency} requests at once than alone: "
        f"{diff.location} was {_short(diff.baseline)} alone, {_short(diff.candidate)} at once "
        f"({group.count} of {sent} concurrent answers)"
    )
    if role == "baseline":
        message = f"the baseline races too: {message}"
    elif in_baseline:
        message += "; the baseline races on this endpoint too"
    return {
        "probe": NAME,
        "kind": "race",
        "target": role,
        "endpoint": entry.endpoint,
        "location": diff.location,
        "message": message,
        "alone_value": diff.baseline,
        "concurrent_value": diff.candidate,
        "count": group.count,
        "rate": round(group.count / sent, 4),
        "in_baseline": in_baseline,
        "exchange_ids": [group.alone[0], group.concurrent[0]],
        "request": {
            "method": group.seed.method,
            "url": group.seed.url,
            "headers": [list(h) for h in group.seed.headers],
            "body": group.seed.body.decode("utf-8", errors="replace") or None,
        },
        "seed": group.seed.exchange_id,
        "alone": response_json(group.alone[1], 4096),
        "concurrent": response_json(group.concurrent[1], 4096),
    }


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"
