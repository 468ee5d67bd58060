"""The ``duplicates`` probe: each sampled mutating request delivered twice, on each target.

Per seed (a POST, PUT, PATCH or DELETE the replay sent) and per target, two pairs: the
request twice in a row (``first``, ``second``), then a fresh copy twice at once
(``at_once``). A seed with an ``Idempotency-Key`` keeps one, made fresh per pair (the
recorded key with a suffix, a new UUID for a UUID key) and the same on every target, so
each pair is its key's first two deliveries there; a seed without one is sent as recorded.
What the second delivery did is read as the differ reads a recorded retry
(diff/retries.py: status, same resource, replay marker), and its body is compared with
the differ, ignoring the locations at which the two targets' *first* deliveries of the
endpoint differ (ids, timestamps). A candidate whose second delivery in a row does
something else than the live baseline's is a ``duplicate_delivery`` finding. At once,
which delivery wins and whether the other is told "in progress" (409) or gets the replay
is timing, on both targets: a pair at once is flagged only when the candidate's made a
second resource (both 2xx, two ids) and the baseline's did not; when both pairs read
alike, their duplicates' bodies are compared as in a row. With a recorded baseline a
seed with a key is still judged alone: a second delivery (in a row or at once) answered
2xx like the first but with another resource id is a finding marked not compared; every
other seed is unverified (``needs_live_baseline``). When both builds were launched with
a deps proxy, the outbound calls each delivery caused are compared too (``probe.calls``):
a second delivery in a row that makes a call that changes something (a second
``POST /charges``) on one build and not on the other is a ``duplicate_delivery``; at once,
both deliveries' calls together.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

import orjson

from shadowtape.diff.compare import DEFAULT_SETTINGS, DiffSettings, Side, compare
from shadowtape.diff.retries import idempotency_key, resource_id, retry_answer
from shadowtape.ids import new_id
from shadowtape.probe.calls import BuildCalls
from shadowtape.probe.outcome import Outcome, example, short
from shadowtape.probe.sample import EndpointSample, Seed
from shadowtape.probe.sender import TargetSender
from shadowtape.probe.unverified import mutating_not_allowed, not_sent, stopped_early, unverified
from shadowtape.probe.verdict import Location, location_of, side
from shadowtape.replay.http.client import Reply

NAME = "duplicates"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IN_A_ROW = "in a row"
AT_ONCE = "at once"

Sent = tuple[str, Reply]


@dataclass(frozen=True, slots=True)
class Pair:
    """Two deliveries of one request to one target."""

    mode: str
    first: Sent
    second: Sent


def is_mutating(seed: Seed) -> bool:
    return seed.method.upper() in MUTATING


async def run(
    samples: Sequence[EndpointSample],
    senders: Sequence[TargetSender],
    *,
    sample_size: int,
    allow_mutating: bool,
    settings: DiffSettings = DEFAULT_SETTINGS,
    calls: BuildCalls | None = None,
) -> Outcome:
    outcome = Outcome.start(NAME, senders, sample=sample_size)
    live_baseline = any(s.role == "baseline" for s in senders)
    for entry in samples:
        seeds = [s for s in entry.seeds if is_mutating(s)] if allow_mutating else []
        why = _cannot_probe(entry, seeds, allow_mutating)
        if why is None and not live_baseline:
            keyed = [s for s in seeds if idempotency_key(s.headers) is not None]
            if len(keyed) < len(seeds):
                why = unverified(
                    entry.endpoint,
                    "needs_live_baseline",
                    "what a second delivery should do without an Idempotency-Key needs a "
                    "live baseline to compare with",
                    len(seeds) - len(keyed),
                )
            seeds = keyed
        if why is not None:
            outcome.unverified.append(why)
        if not seeds:
            continue
        live = [s for s in senders if s.stopped is None]
        if not live or (live_baseline and len(live) < len(senders)):
            outcome.unverified.append(stopped_early(entry.endpoint))
            continue
        outcome.endpoints += 1
        pairs: dict[str, list[list[Pair]]] = {}
        keys = [_fresh_keys(seed) for seed in seeds]
        for sender in live:
            pairs[sender.role] = [
                await _deliver(entry.endpoint, seed, sender, key)
                for seed, key in zip(seeds, keys, strict=True)
            ]
            outcome.check(sender)
        if live_baseline:
            found = _compared(entry, seeds, pairs["baseline"], pairs["candidate"], settings)
            if calls is not None:
                found += _outbound(entry, seeds, pairs["baseline"], pairs["candidate"], calls)
        else:
            found = _alone(entry, seeds, pairs["candidate"])
        outcome.findings.extend(found)
    outcome.sent = {s.role: s.sent for s in senders}
    return outcome


def _cannot_probe(
    entry: EndpointSample, seeds: list[Seed], allow_mutating: bool
) -> dict[str, object] | None:
    if seeds:
        return None
    # An endpoint is named by its method: its requests are all mutating or none is.
    if entry.endpoint.split(" ", 1)[0].upper() not in MUTATING:
        return unverified(
            entry.endpoint,
            "no_mutating_requests",
            "a second delivery matters for POST, PUT, PATCH and DELETE only",
        )
    if not allow_mutating:
        return mutating_not_allowed(entry, entry.skipped.get("mutating", 0) or None)
    return not_sent(entry)


def _fresh_keys(seed: Seed) -> tuple[Seed, Seed]:
    """The seed for the pair in a row and the one at once: each with its own fresh
    Idempotency-Key when the seed has one (the same on every target), else as recorded."""
    key = idempotency_key(seed.headers)
    if key is None:
        return seed, seed
    return _with_key(seed, _fresh(key)), _with_key(seed, _fresh(key))


def _fresh(key: str) -> str:
    try:
        uuid.UUID(key)
    except ValueError:
        return f"{key}-probe-{new_id()}"
    return str(uuid.uuid4())


def _with_key(seed: Seed, key: str) -> Seed:
    headers = tuple(
        (name, key if name.lower() == "idempotency-key" else value) for name, value in seed.headers
    )
    return replace(seed, headers=headers)


async def _deliver(
    endpoint: str, seed: Seed, sender: TargetSender, keys: tuple[Seed, Seed]
) -> list[Pair]:
    """The seed twice in a row, then (a fresh copy) twice at once, to one target."""
    in_a_row, at_once = keys

    async def send(copy: Seed, stage: str) -> Sent:
        return await sender.send(copy, probe=NAME, endpoint=endpoint, stage=stage)

    first = await send(in_a_row, "first")
    second = await send(in_a_row, "second")
    both = await asyncio.gather(send(at_once, "at_once"), send(at_once, "at_once"))
    return [Pair(IN_A_ROW, first, second), Pair(AT_ONCE, both[0], both[1])]


def _ordered(pair: Pair) -> tuple[Sent, Sent]:
    """The pair's deliveries, the one read as first before the other. In a row, as sent.
    At once neither is first: the one that looks like the original (2xx, no replay
    marker) is put first, so the other is read as the duplicate on every target alike."""
    if pair.mode == IN_A_ROW:
        return pair.first, pair.second
    one, two = pair.first, pair.second
    if _rank(side(two[1])) < _rank(side(one[1])):
        return two, one
    if _rank(side(one[1])) == _rank(side(two[1])):
        a, b = side(one[1]), side(two[1])
        if _sorting(retry_answer(b, a)) < _sorting(retry_answer(a, b)):
            return two, one
    return one, two


def _rank(answer: Side) -> tuple[int, int, str]:
    marked = retry_answer(answer, answer)["replay_marker"] is not None
    return (0 if _ok(answer) else 1, 1 if marked else 0, str(answer.outcome()))


def _sorting(reading: dict[str, object]) -> bytes:
    return orjson.dumps(reading, option=orjson.OPT_SORT_KEYS)


def _what(pair: Pair) -> dict[str, object]:
    """What the second delivery did (diff/retries.py's reading of a retry); for a pair sent
    at once, the one not read as first (``_ordered``)."""
    first, second = _ordered(pair)
    reading = retry_answer(side(first[1]), side(second[1]))
    if resource_id(side(second[1])) is None:
        reading["same_resource"] = None  # an answer naming no resource made no new one
    return reading


def _two_resources(pair: Pair) -> bool:
    """Both deliveries answered 2xx, each with its own resource id: a second resource."""
    a, b = side(pair.first[1]), side(pair.second[1])
    made = resource_id(a), resource_id(b)
    return _ok(a) and _ok(b) and None not in made and made[0] != made[1]


def _pair_words(pair: Pair) -> str:
    """Both answers of a pair in words: "201 with id 'ch_1' and 409"."""
    return " and ".join(_answer_words(side(s[1])) for s in _ordered(pair))


def _answer_words(answer: Side) -> str:
    made = resource_id(answer) if _ok(answer) else None
    return f"{answer.outcome()}" + (f" with id {short(made)}" if made is not None else "")


def _compared(
    entry: EndpointSample,
    seeds: list[Seed],
    base: list[list[Pair]],
    cand: list[list[Pair]],
    settings: DiffSettings,
) -> list[dict[str, object]]:
    # Where the two targets' first deliveries differ, the second ones may too.
    varies: set[Location] = set()
    for b_pairs, c_pairs in zip(base, cand, strict=True):
        for b, c in zip(b_pairs, c_pairs, strict=True):
            b_first, c_first = side(_ordered(b)[0][1]), side(_ordered(c)[0][1])
            if b.mode == AT_ONCE and b_first.outcome() != c_first.outcome():
                continue  # which delivery won is timing: not a reference for the ids
            first = compare(b_first, c_first, settings).differences
            varies.update(location_of(d) for d in first)
    groups: dict[tuple[str, str], dict[str, object]] = {}
    for seed, b_pairs, c_pairs in zip(seeds, base, cand, strict=True):
        for b, c in zip(b_pairs, c_pairs, strict=True):
            b_did, c_did = _what(b), _what(c)
            if b.mode == AT_ONCE and _two_resources(c) and not _two_resources(b):
                _add(groups, (b.mode, "second delivery"), entry, seed, b, c, b_did, c_did)
                continue
            if b_did != c_did:
                if b.mode == AT_ONCE:
                    # Which delivery wins, and whether the other is told "in progress" or
                    # gets the replay, is timing on both targets: only a second resource
                    # (above) tells a candidate apart.
                    continue
                _add(groups, (b.mode, "second delivery"), entry, seed, b, c, b_did, c_did)
                continue
            second = compare(side(_ordered(b)[1][1]), side(_ordered(c)[1][1]), settings).differences
            for diff in second:
                if location_of(diff) in varies:
                    continue
                where = (b.mode, diff.location)
                _add(groups, where, entry, seed, b, c, diff.baseline, diff.candidate)
    return list(groups.values())


def _add(
    groups: dict[tuple[str, str], dict[str, object]],
    where: tuple[str, str],
    entry: EndpointSample,
    seed: Seed,
    b: Pair,
    c: Pair,
    b_value: object,
    c_value: object,
) -> None:
    found = groups.get(where)
    if found is not None:
        found["count"] = int(str(found["count"])) + 1
        return
    mode, location = where
    if location == "second delivery" and mode == AT_ONCE:
        # Only a second resource is flagged at once (``_compared``): both pairs told whole.
        said = f"baseline {_pair_words(b)}, candidate {_pair_words(c)}"
        verb = "created a second resource"
    elif location == "second delivery":
        said = f"baseline {_say(b_value)}, candidate {_say(c_value)}"
        verb = _verb(c_value, b_value)
    else:
        b_text, c_text = short(b_value), short(c_value)
        said = f"{location} was {b_text} on the baseline, {c_text} on the candidate"
        verb = "was answered differently"
    (b_first, b_second), (c_first, c_second) = _ordered(b), _ordered(c)
    groups[where] = _finding(
        entry,
        seed,
        location=f"{mode}: {location}",
        message=f"the second {seed.method} {_delivered(mode)} {verb}: {said}",
        values=(b_value, c_value),
        ids={
            "baseline first": b_first[0],
            "baseline second": b_second[0],
            "candidate first": c_first[0],
            "candidate second": c_second[0],
        },
        answers=(c_first[1], c_second[1]),
        compared=True,
    )


def _outbound(
    entry: EndpointSample,
    seeds: list[Seed],
    base: list[list[Pair]],
    cand: list[list[Pair]],
    calls: BuildCalls,
) -> list[dict[str, object]]:
    """Second deliveries whose outbound calls that change something differ between the
    builds: in a row, the second delivery's calls; at once, both deliveries' together."""
    groups: dict[tuple[str, str], dict[str, object]] = {}
    for seed, b_pairs, c_pairs in zip(seeds, base, cand, strict=True):
        for b, c in zip(b_pairs, c_pairs, strict=True):
            b_made = calls.effects("baseline", _caused(b))
            c_made = calls.effects("candidate", _caused(c))
            if b_made is None or c_made is None:
                return []  # no calls logs, or no trace context: nothing to compare
            for name in sorted(b_made.keys() | c_made.keys()):
                if b_made[name] == c_made[name]:
                    continue
                known = groups.get((b.mode, name))
                if known is not None:
                    known["count"] = int(str(known["count"])) + 1
                    continue
                said = (
                    f"{name}: {_calls(b_made[name])} on the baseline, "
                    f"{c_made[name]} on the candidate"
                )
                who = (
                    f"the second {seed.method} in a row"
                    if b.mode == IN_A_ROW
                    else f"two {seed.method}s sent at once"
                )
                (b_first, b_second), (c_first, c_second) = _ordered(b), _ordered(c)
                groups[(b.mode, name)] = _finding(
                    entry,
                    seed,
                    location=f"{b.mode}: {name}",
                    message=f"{who} made other outbound calls: {said}",
                    values=(b_made[name], c_made[name]),
                    ids={
                        "baseline first": b_first[0],
                        "baseline second": b_second[0],
                        "candidate first": c_first[0],
                        "candidate second": c_second[0],
                    },
                    answers=(c_first[1], c_second[1]),
                    compared=True,
                )
    return list(groups.values())


def _caused(pair: Pair) -> list[Reply]:
    """The deliveries whose calls are compared: in a row the second, at once both."""
    return [pair.second[1]] if pair.mode == IN_A_ROW else [pair.first[1], pair.second[1]]


def _calls(n: int) -> str:
    return f"{n} call" if n == 1 else f"{n} calls"


def _alone(
    entry: EndpointSample, seeds: list[Seed], cand: list[list[Pair]]
) -> list[dict[str, object]]:
    """Without a live baseline: two deliveries of one Idempotency-Key (in a row or at once)
    both answered 2xx with different resource ids created a second resource, whatever the
    baseline would have done."""
    found: dict[str, dict[str, object]] = {}
    for seed, pairs in zip(seeds, cand, strict=True):
        for pair in pairs:
            first, second = side(pair.first[1]), side(pair.second[1])
            made = resource_id(first), resource_id(second)
            if not (_ok(first) and _ok(second) and None not in made and made[0] != made[1]):
                continue
            known = found.get(pair.mode)
            if known is not None:
                known["count"] = int(str(known["count"])) + 1
                continue
            found[pair.mode] = _finding(
                entry,
                seed,
                location=f"{pair.mode}: second delivery",
                message=(
                    f"the second {seed.method} {_delivered(pair.mode)}, with the same "
                    "Idempotency-Key, created a second resource (not compared: no live "
                    f"baseline): {first.status} with id {short(made[0])}, "
                    f"{second.status} with id {short(made[1])}"
                ),
                values=(None, _what(pair)),
                ids={"candidate first": pair.first[0], "candidate second": pair.second[0]},
                answers=(pair.first[1], pair.second[1]),
                compared=False,
            )
    return list(found.values())


def _ok(answer: Side) -> bool:
    return answer.error_kind is None and answer.status is not None and 200 <= answer.status < 300


def _finding(
    entry: EndpointSample,
    seed: Seed,
    *,
    location: str,
    message: str,
    values: tuple[object, object],
    ids: dict[str, str],
    answers: tuple[Reply, Reply],
    compared: bool,
) -> dict[str, object]:
    return {
        "probe": NAME,
        "kind": "duplicate_delivery",
        "target": "candidate",
        "endpoint": entry.endpoint,
        "location": location,
        "message": message,
        "baseline_value": values[0],
        "candidate_value": values[1],
        "count": 1,
        "compared": compared,
        "exchange_ids": list(ids.values()),
        "exchange_labels": list(ids),
        # The candidate's two deliveries, in the fields the report shows a probe's answers.
        **example(seed, answers[0], answers[1]),
    }


def _say(value: object) -> str:
    """A second delivery's reading in words: "200 with the same id (idempotent-replayed: true)"."""
    if not isinstance(value, dict):
        return short(value)
    same, status = value.get("same_resource"), value.get("status")
    resource = {True: "the same id", False: "a new id", None: "no id"}
    text = f"{status} with {resource.get(same, 'no id')}"
    if not (isinstance(status, int) and 200 <= status < 300):
        text = str(status)  # an error answer made no resource, whatever its body holds
    marker = value.get("replay_marker")
    return f"{text} ({marker})" if marker else text


def _verb(candidate: object, baseline: object) -> str:
    if (
        isinstance(candidate, dict)
        and isinstance(baseline, dict)
        and candidate.get("same_resource") is False
        and baseline.get("same_resource") is not False
        and isinstance(status := candidate.get("status"), int)
        and 200 <= status < 300
    ):
        return "created a second resource"
    return "was answered differently"


def _delivered(mode: str) -> str:
    return "in a row" if mode == IN_A_ROW else "sent at once with the first"
