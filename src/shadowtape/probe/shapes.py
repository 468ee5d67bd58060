"""The ``shapes`` probe: each endpoint's seeds with one parameter moved to an edge, sent to
the candidate and the live baseline, the baseline's answer the reference.

Per endpoint, the mutants (mutants.py, at most ``cap``) are made from the sampled seeds.
Noise first: each seed a mutant comes from is sent twice to each target, and a location
(as verdict.py names it) that differs between the two answers, or between the two targets'
answers to the unmutated seed (the plain replay's finding, not a shape's), is not counted.
Then each mutant goes to the baseline and the candidate. A candidate that fails (5xx,
reset, timeout) where the baseline answered, or answers differently at a counted location,
is a ``shape`` finding on the mutated parameter; a difference is confirmed by asking the
baseline once more, so a value the baseline varies on its own (an error's request id) is
not taken for one. A candidate failure is confirmed by sending the mutant twice more: it
counts only if every one fails, and not when the unmutated seed fails on the candidate too
(both of its noise sends, or 2 of 3 asked again then): a transient 5xx or reset is no
shape. Both failing is not a finding, nor a candidate answering where the
baseline failed. Without a live baseline nothing is sent (``needs_live_baseline``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import orjson

from shadowtape.diff.compare import DEFAULT_SETTINGS, DiffSettings, Side, compare
from shadowtape.diff.model import Difference, Kind
from shadowtape.probe.mutants import Mutant, Parameter, mutants
from shadowtape.probe.outcome import VALUE_CHARS, Outcome, example, short
from shadowtape.probe.sample import EndpointSample, Seed
from shadowtape.probe.sender import TargetSender
from shadowtape.probe.unverified import no_seeds, stopped_early, unverified
from shadowtape.probe.verdict import Location, location_of, side, unstable
from shadowtape.replay.http.client import Reply
from shadowtape.replay.rules.safety import is_safe_method

NAME = "shapes"
#: Other values of a parameter named in a finding's message.
MORE_SHOWN = 4
#: A candidate failure is asked again this many times, and is a finding when it fails at
#: least ``FAILS_NEEDED`` times of the ``1 + CONFIRM``. 2 of 3 still flags ~1 endpoint in
#: 100 of a candidate with 1% transient 503s (measured); 3 of 3 none, and a failure that
#: depends on the input (what a shape is) repeats anyway.
CONFIRM = 2
FAILS_NEEDED = 3
#: Each seed is sent this many times to each target before its mutants (the noise round).
SEED_TRIES = 2

Answer = tuple[str, Reply]


@dataclass(slots=True)
class _Group:
    """The mutants of one parameter the candidate answered unlike the baseline."""

    mutant: Mutant
    gap: Difference
    baseline: Answer
    candidate: Answer
    shown: list[str] = field(default_factory=list)


async def run(
    samples: Sequence[EndpointSample],
    senders: Sequence[TargetSender],
    *,
    cap: int,
    sample_size: int,
    allow_mutating: bool,
    settings: DiffSettings = DEFAULT_SETTINGS,
) -> Outcome:
    outcome = Outcome.start(NAME, senders, sample=sample_size, shapes=cap, mutants=0)
    before = {s.role: s.sent for s in senders}
    roles = {s.role: s for s in senders}
    candidate, baseline = roles["candidate"], roles.get("baseline")
    if baseline is None:
        outcome.unverified.append(
            unverified(
                "every endpoint",
                "needs_live_baseline",
                "a mutant's reference answer is the live baseline's; the recording has none "
                "(give --baseline URL)",
                len(samples),
            )
        )
        outcome.sent = {s.role: 0 for s in senders}
        return outcome
    made_total = 0
    for entry in samples:
        seeds = [s for s in entry.seeds if allow_mutating or is_safe_method(s.method)]
        why = None if seeds else no_seeds(entry, allow_mutating)
        if why is None and (candidate.stopped or baseline.stopped):
            why = stopped_early(entry.endpoint)
        made = mutants(entry.endpoint, seeds, cap) if why is None else []
        if why is None and not made:
            why = unverified(
                entry.endpoint,
                "no_parameters",
                "nothing to mutate: no query or path parameter and no JSON body field",
            )
        if why is not None:
            outcome.unverified.append(why)
            continue
        outcome.endpoints += 1
        made_total += len(made)
        groups, tried = await _probe(entry.endpoint, made, candidate, baseline, settings)
        outcome.findings += [_finding(entry.endpoint, g, tried[p]) for p, g in groups.items()]
        for sender in (candidate, baseline):
            outcome.check(sender)
    outcome.settings["mutants"] = made_total
    outcome.sent = {s.role: s.sent - before[s.role] for s in senders}
    return outcome


async def _probe(
    endpoint: str,
    made: Sequence[Mutant],
    candidate: TargetSender,
    baseline: TargetSender,
    settings: DiffSettings,
) -> tuple[dict[Parameter, _Group], dict[Parameter, int]]:
    async def send(sender: TargetSender, seed: Seed, stage: str) -> Answer:
        return await sender.send(seed, probe=NAME, endpoint=endpoint, stage=stage)

    varies: set[Location] = set()
    # How often the candidate failed (5xx, reset, timeout) each seed unmutated: failing it
    # always, or again when asked, its failing a mutant says nothing of the parameter.
    fails: dict[Seed, int] = {}
    for seed in dict.fromkeys(m.origin for m in made):
        first: dict[str, Side] = {}
        for sender in (baseline, candidate):
            one, two = await send(sender, seed, "seed"), await send(sender, seed, "seed_again")
            a, b = side(one[1]), side(two[1])
            if a.failed == b.failed:
                varies |= unstable([(a, b)], settings)
            # A transient failure is not how the answer varies: the other answer is kept.
            first[sender.role] = b if a.failed and not b.failed else a
            if sender is candidate:
                fails[seed] = int(a.failed) + int(b.failed)
        diffs = compare(first["baseline"], first["candidate"], settings)
        varies |= {location_of(d) for d in diffs.differences}
    groups: dict[Parameter, _Group] = {}
    tried: dict[Parameter, int] = {}
    for mutant in made:
        if candidate.check() is not None or baseline.check() is not None:
            break
        base = await send(baseline, mutant.seed, "mutant")
        cand = await send(candidate, mutant.seed, "mutant")
        tried[mutant.parameter] = tried.get(mutant.parameter, 0) + 1
        if side(cand[1]).failed and not side(base[1]).failed:
            if fails.get(mutant.origin, 0) >= SEED_TRIES:
                continue
            cand = await _failing(cand, partial(send, candidate, mutant.seed, "mutant_again"))
            if side(cand[1]).failed:
                # The unmutated request asked again, as the mutant was: failing as often,
                # the candidate is failing at the moment, not on the mutated parameter.
                plain = [await send(candidate, mutant.origin, "seed_again") for _ in range(3)]
                if sum(side(p[1]).failed for p in plain) >= 2:
                    fails[mutant.origin] = SEED_TRIES
                    continue
        gap = _gap(side(base[1]), side(cand[1]), varies, settings)
        if gap is not None and gap.kind != Kind.NEW_ERROR:
            again = await send(baseline, mutant.seed, "mutant_again")
            varies |= unstable([(side(base[1]), side(again[1]))], settings)
            gap = _gap(side(base[1]), side(cand[1]), varies, settings)
        if gap is None:
            continue
        group = groups.get(mutant.parameter)
        if group is None:
            group = groups[mutant.parameter] = _Group(mutant, gap, base, cand)
        group.shown.append(mutant.shown)
    return groups, tried


async def _failing(failed: Answer, resend: Callable[[], Awaitable[Answer]]) -> Answer:
    """A candidate failure confirmed: the mutant sent ``CONFIRM`` times more, the failure
    kept if it repeats (``FAILS_NEEDED`` of all), else the first answer that did not fail
    (a transient 5xx or reset is no shape)."""
    fails, answered = 1, None
    for tries in range(CONFIRM):
        if fails + CONFIRM - tries < FAILS_NEEDED:
            break  # cannot reach FAILS_NEEDED any more
        again = await resend()
        if side(again[1]).failed:
            fails += 1
        else:
            answered = answered or again
        if fails >= FAILS_NEEDED:
            return failed
    return answered or failed


def _gap(
    baseline: Side, candidate: Side, varies: set[Location], settings: DiffSettings
) -> Difference | None:
    """How the candidate's answer to a mutant falls short of the baseline's, if it does."""
    if baseline.failed:
        return None  # both failing alike, or the candidate answering better
    if candidate.failed:
        return Difference(Kind.NEW_ERROR, "status", baseline.outcome(), candidate.outcome())
    for diff in compare(baseline, candidate, settings).differences:
        if location_of(diff) not in varies:
            return diff
    return None


def _finding(endpoint: str, group: _Group, tried: int) -> dict[str, object]:
    mutant, gap = group.mutant, group.gap
    base, cand = group.baseline[1], group.candidate[1]
    head = f"{mutant.shown}, {mutant.why}"
    if gap.location == "status":
        message = f"{head}: {_answer(cand)} on the candidate, {_answer(base)} on the baseline"
    else:
        message = (
            f"{head}: {gap.location} was {short(gap.candidate)} on the candidate, "
            f"{short(gap.baseline)} on the baseline"
        )
    count = len(group.shown)
    if count > 1:
        more = ", ".join(group.shown[1 : 1 + MORE_SHOWN])
        message += f" ({count} of {tried} edge values of {mutant.parameter.label}; also {more})"
    seed = mutant.seed
    return {
        "probe": NAME,
        "kind": "shape",
        "target": "candidate",
        "endpoint": endpoint,
        "location": mutant.parameter.label,
        "message": message,
        # The reference (the baseline's answer to the mutant), and the candidate's.
        "alone_value": _cut(gap.baseline),
        "concurrent_value": _cut(gap.candidate),
        "count": count,
        "rate": round(count / tried, 4),
        "in_baseline": False,
        "exchange_ids": [group.baseline[0], group.candidate[0]],
        **example(seed, base, cand),
        "parameter": mutant.parameter.label,
        "value": mutant.shown,
        "mutation": mutant.why,
    }


def _answer(reply: Reply) -> str:
    """``500``, ``reset``, ``200 with an empty list``."""
    if reply.error_kind is not None:
        return reply.error_kind.value
    try:
        doc = orjson.loads(reply.body or b"")
    except orjson.JSONDecodeError:
        return str(reply.status)
    if isinstance(doc, dict):
        doc = next((v for v in doc.values() if isinstance(v, list)), doc)
    if isinstance(doc, list):
        return f"{reply.status} with " + (f"a list of {len(doc)}" if doc else "an empty list")
    return str(reply.status)


def _cut(value: object) -> object:
    if isinstance(value, str) and len(value) > VALUE_CHARS:
        return value[: VALUE_CHARS - 1] + "…"
    return value
