"""The ``scale`` probe: each endpoint's seeds at their recorded sizes, x4 and x16.

Per endpoint, per size parameter (sizing.py) and per target, up to ``SEEDS`` seeds are
sent at the recorded size, x4 and x16 (each capped by ``--probe-scale-max``),
``REPEATS`` times in turn, and latency is fitted against size in log-log space
(growth.py). The fit uses the two amplified rounds, where the work the size asks for
outweighs each request's fixed overhead (which flattens slopes at small sizes), unless the
cap leaves them less than 2x apart. A candidate is ``superlinear`` when its slope is steeper
than the live baseline's by more than ``SLOPE_GAP`` at the 95% lower bound *and* it is
materially slower at the largest size (``MATERIAL_MS`` and ``MATERIAL_RATIO``); without a
live baseline, when its slope is ``ALONE_SLOPE`` or more and above 1 at the lower bound
(marked as not compared). An answer that fails (5xx, reset, timeout) at a size where the
baseline answered, or, without one, where the candidate answered the recorded size, is a
``new_error``. Failed answers are left out of the fit, and so are repetitions the host
slowed down (far slower than the fastest of the same request and size).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from shadowtape.probe.growth import Fit, fit, steeper_by
from shadowtape.probe.outcome import Outcome, example
from shadowtape.probe.sample import EndpointSample, Seed
from shadowtape.probe.sender import TargetSender, failed
from shadowtape.probe.sizing import SizeParameter, find_parameters, resize, size_of
from shadowtape.probe.unverified import no_seeds, unverified
from shadowtape.replay.http.client import Reply

NAME = "scale"
FACTORS = (1, 4, 16)
REPEATS = 3
#: Seeds per size parameter, and size parameters per endpoint.
SEEDS = 5
PARAMETERS = 3
SLOPE_GAP = 0.25
ALONE_SLOPE = 1.5
MATERIAL_MS = 20.0
MATERIAL_RATIO = 1.5
SPIKE = 1.5
SPIKE_MS = 1.0


@dataclass(frozen=True, slots=True)
class _Point:
    seed: int
    round: int
    size: int
    exchange_id: str
    reply: Reply

    @property
    def ms(self) -> float:
        return (self.reply.ended - self.reply.sent) * 1000


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one size parameter of an endpoint is probed with."""

    endpoint: str
    parameter: SizeParameter
    seeds: list[Seed]
    #: Per seed, its size in each round (capped).
    sizes: list[tuple[int, ...]]
    #: The rounds the fit uses.
    fitted: tuple[int, ...]

    @property
    def largest(self) -> int:
        return max(max(s) for s in self.sizes)

    def at(self, size: int) -> str:
        if self.parameter.kind == "query":
            return f"{self.parameter.name}={size}"
        return f"{size} items in {self.parameter.label}"


async def run(
    samples: Sequence[EndpointSample],
    senders: Sequence[TargetSender],
    *,
    scale_max: int,
    sample_size: int,
) -> Outcome:
    outcome = Outcome.start(NAME, senders, sample=sample_size, scale_max=scale_max, repeats=REPEATS)
    before = {s.role: s.sent for s in senders}
    for entry in samples:
        plans, why = _plans(entry, scale_max)
        if why is not None:
            outcome.unverified.append(why)
        if not plans:
            continue
        live = outcome.begin(entry.endpoint, senders)
        if not live:
            continue
        for plan in plans:
            measured = {s.role: await _measure(plan, s) for s in live if s.stopped is None}
            for sender in live:
                outcome.check(sender)
            outcome.findings.extend(_judge(plan, measured))
    outcome.sent = {s.role: s.sent - before[s.role] for s in senders}
    return outcome


def _plans(entry: EndpointSample, scale_max: int) -> tuple[list[_Plan], dict[str, object] | None]:
    """The endpoint's size parameters to probe, or why it cannot be probed."""
    if not entry.seeds:
        return [], no_seeds(entry)
    parameters = find_parameters(entry.seeds)
    if not parameters:
        detail = "no numeric size parameter (limit, count, ...) or JSON array in its requests"
        return [], unverified(entry.endpoint, "no_size_parameter", detail)
    plans: list[_Plan] = []
    capped: list[str] = []
    for parameter in parameters[:PARAMETERS]:
        seeds = [s for s in entry.seeds if size_of(s, parameter) >= 1][:SEEDS]
        sizes = [tuple(min(size_of(s, parameter) * f, scale_max) for f in FACTORS) for s in seeds]
        fitted = next((r for r in ((1, 2), (0, 1, 2)) if _spread(sizes, r) >= 2), None)
        if fitted is None:
            capped.append(parameter.label)
            continue
        plans.append(_Plan(entry.endpoint, parameter, seeds, sizes, fitted))
    if capped:
        detail = f"{', '.join(capped)} already at --probe-scale-max {scale_max}"
        return plans, unverified(entry.endpoint, "size_at_cap", detail)
    return plans, None


def _spread(sizes: Sequence[tuple[int, ...]], rounds: tuple[int, ...]) -> float:
    chosen = [s[r] for s in sizes for r in rounds]
    return max(chosen) / min(chosen)


async def _measure(plan: _Plan, sender: TargetSender) -> list[_Point]:
    """Every seed at every size, ``REPEATS`` times in turn (sizes interleaved, so a drift
    in the target's speed does not look like growth)."""
    points: list[_Point] = []
    for _ in range(REPEATS):
        for index, seed in enumerate(plan.seeds):
            for round_, size in enumerate(plan.sizes[index]):
                sized = resize(seed, plan.parameter, size)
                exchange_id, reply = await sender.send(
                    sized, probe=NAME, endpoint=plan.endpoint, stage=f"x{FACTORS[round_]}"
                )
                points.append(_Point(index, round_, size, exchange_id, reply))
        if sender.check() is not None:
            break
    return points


def _timed(points: Sequence[_Point]) -> list[_Point]:
    """The answers whose latency measures the work: not failed, and not slowed by the host.
    Interference only ever adds time, so a repetition far slower than the fastest of the
    same request and size (``SPIKE`` times, plus ``SPIKE_MS``) is left out."""
    fastest: dict[tuple[int, int], float] = {}
    good = [p for p in points if not failed(p.reply)]
    for p in good:
        key = (p.seed, p.round)
        fastest[key] = min(fastest.get(key, p.ms), p.ms)
    return [p for p in good if p.ms <= SPIKE * fastest[(p.seed, p.round)] + SPIKE_MS]


def _fit(plan: _Plan, points: Sequence[_Point]) -> Fit | None:
    return fit([(p.size, p.ms / 1000) for p in _timed(points) if p.round in plan.fitted])


def _median_ms(points: Sequence[_Point], size: int) -> float | None:
    found = [p.ms for p in _timed(points) if p.size == size]
    return statistics.median(found) if found else None


def _judge(plan: _Plan, measured: dict[str, list[_Point]]) -> list[dict[str, object]]:
    candidate = measured.get("candidate")
    if not candidate:
        return []
    baseline = measured.get("baseline")
    found = _new_errors(plan, candidate, baseline)
    superlinear = _superlinear(plan, candidate, baseline)
    if superlinear is not None:
        found.insert(0, superlinear)
    return found


def _superlinear(
    plan: _Plan, candidate: list[_Point], baseline: list[_Point] | None
) -> dict[str, object] | None:
    cand = _fit(plan, candidate)
    top = plan.largest
    cand_ms = _median_ms(candidate, top)
    if cand is None or cand_ms is None:
        return None
    base = _fit(plan, baseline) if baseline else None
    base_ms = _median_ms(baseline, top) if baseline else None
    label = plan.parameter.label
    if base is not None and base_ms is not None and baseline:
        low = steeper_by(cand, base)
        material = cand_ms - base_ms > MATERIAL_MS and cand_ms > MATERIAL_RATIO * base_ms
        if not (low > SLOPE_GAP and material):
            return None
        message = (
            f"latency ~ n^{cand.slope:.1f} against the baseline's n^{base.slope:.1f} in "
            f"`{label}`; {cand_ms:.0f} ms at {plan.at(top)} ({base_ms:.0f} ms on the baseline)"
        )
        reference = _example(baseline, top)
        compared = True
    else:
        if not (cand.slope >= ALONE_SLOPE and cand.low > 1.0 and cand_ms > MATERIAL_MS):
            return None
        message = (
            f"latency ~ n^{cand.slope:.1f} (95% interval n^{cand.low:.1f} to n^{cand.high:.1f}) "
            f"in `{label}`; {cand_ms:.0f} ms at {plan.at(top)}; not compared: no live baseline"
        )
        reference = _example(candidate, min(plan.sizes[0]))
        compared = False
    amplified = _example(candidate, top)
    return _finding(
        plan,
        "superlinear",
        message,
        reference,
        amplified,
        reference_value=_growth(base, base_ms) if compared else None,
        amplified_value=_growth(cand, cand_ms),
        count=None,
    )


def _growth(f: Fit | None, ms: float | None) -> dict[str, object] | None:
    if f is None:
        return None
    return {**f.to_json(), "ms_at_largest": round(ms, 3) if ms is not None else None}


def _example(points: Sequence[_Point], size: int) -> _Point:
    """An answer at ``size``: a good one if there is one."""
    at = [p for p in points if p.size == size]
    return next((p for p in at if not failed(p.reply)), at[0] if at else points[0])


def _new_errors(
    plan: _Plan, candidate: list[_Point], baseline: list[_Point] | None
) -> list[dict[str, object]]:
    """Sizes where the candidate failed and the reference answered: one finding per
    parameter, the largest such size as the example."""
    failing: list[tuple[_Point, _Point]] = []
    for point in candidate:
        if not failed(point.reply):
            continue
        if baseline is not None:
            same = [p for p in baseline if p.seed == point.seed and p.size == point.size]
        else:
            same = [p for p in candidate if p.seed == point.seed and p.round == 0]
            if point.round == 0:
                continue
        if same and not any(failed(p.reply) for p in same):
            failing.append((same[0], point))
    if not failing:
        return []
    reference, bad = max(failing, key=lambda pair: pair[1].size)
    factor = f"x{FACTORS[bad.round]}"
    answer = bad.reply.status if bad.reply.status is not None else "no answer"
    if baseline is not None:
        tail = f"the baseline answered {reference.reply.status}"
    else:
        size = plan.sizes[reference.seed][0]
        tail = f"it answered {reference.reply.status} at {plan.at(size)}; not compared"
    message = (
        f"{answer} at {plan.at(bad.size)} ({factor} the recorded size) on the candidate; {tail}"
        f" ({len(failing)} of {len(candidate)} probe requests)"
    )
    return [
        _finding(
            plan,
            "new_error",
            message,
            reference,
            bad,
            reference_value=reference.reply.status,
            amplified_value=bad.reply.status,
            count=len(failing),
        )
    ]


def _finding(
    plan: _Plan,
    kind: str,
    message: str,
    reference: _Point,
    amplified: _Point,
    *,
    reference_value: object,
    amplified_value: object,
    count: int | None,
) -> dict[str, object]:
    seed = resize(plan.seeds[amplified.seed], plan.parameter, amplified.size)
    return {
        "probe": NAME,
        "kind": kind,
        "target": "candidate",
        "endpoint": plan.endpoint,
        "location": plan.parameter.label,
        "message": message,
        "alone_value": reference_value,
        "concurrent_value": amplified_value,
        "count": count,
        "in_baseline": False,
        "exchange_ids": [reference.exchange_id, amplified.exchange_id],
        **example(seed, reference.reply, amplified.reply),
    }
