"""The ``faults`` probe: each dependency an endpoint calls failing in turn (503, timeout,
reset), on the candidate and the live baseline alike; ``swallowed_error`` and ``new_error``.

It needs a live baseline and a deps proxy in front of each build (builds launched with
``--candidate-cmd`` and ``--baseline-cmd``), else it sends nothing and says why. Per
endpoint:

1. Which dependencies it calls: up to ``DISCOVER`` of its seeds, each sent alone to each
   build (one request in flight per build; each carries a fresh ``traceparent`` unless
   ``--no-traceparent``), and the calls each build's proxy logged for it (deps_link.py).
   A seed both builds answer normally (no 5xx, no transport error) is usable; the
   others are never sent under a fault.
2. For each dependency (host and port) and each fault, the rule is set on both proxies,
   scoped to that host:port; the first ``SEEDS`` usable seeds that called it are sent to
   both builds at once, one seed at a time; the rule is cleared (always, also on an error
   or Ctrl-C). A timeout holds the call ``HOLD_MARGIN`` seconds past the probe's request
   timeout, so a build without a client timeout of its own shows as hanging.
3. Each pair is judged (handling.py). A finding needs the same gap on every seed sent, at
   least ``MIN_SEEDS`` of them (the round stops at the first seed without it), the same
   gap again when the first ``MIN_SEEDS`` are sent once more under the fault, and both
   builds answering every one of them normally once the fault is cleared: a flaky build
   (one 5xx in three fails no round), or one the round left broken, is not blamed on
   the fault.

Answers under a fault do not count towards stopping a failing target (failing is what
was asked of them); the sends without a fault do.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from shadowtape.errors import ReplayError
from shadowtape.probe.deps_link import Dependency, DepsLink, caused, dependency, shown
from shadowtape.probe.handling import Gap, answer, failed, gap
from shadowtape.probe.outcome import Outcome, example
from shadowtape.probe.sample import EndpointSample, Seed
from shadowtape.probe.sender import TargetSender
from shadowtape.probe.unverified import no_seeds, stopped_early, unverified
from shadowtape.replay.http.client import Reply
from shadowtape.replay.rules.safety import is_safe_method

NAME = "faults"
#: Seeds per endpoint sent alone to learn its dependencies.
DISCOVER = 5
#: Seeds sent under each fault of each dependency: enough to confirm, few enough to stay
#: fast (a hanging build costs the probe's timeout per seed).
SEEDS = 3
#: A finding needs the same gap on at least this many seeds.
MIN_SEEDS = 2
#: Seconds a timeout fault holds a call past the probe's request timeout.
HOLD_MARGIN = 2.0
#: A candidate's success body quoted in a message is cut to this many characters.
QUOTED = 80

Answer = tuple[str, Reply]


def fault_rules(hold: float) -> tuple[tuple[str, str], ...]:
    """(label, the rule's fault field) of each fault, in the order they are tried."""
    return (("503", "status=503"), ("timeout", f"timeout={hold:g}s"), ("reset", "reset"))


@dataclass(slots=True)
class _Found:
    """One seed sent alone: each build's answer, and the dependencies either called."""

    seed: Seed
    answers: dict[str, Answer]
    #: Dependency -> the first call to it (``GET /stock/1``).
    called: dict[Dependency, str] = field(default_factory=dict)
    #: Dependency -> the builds that called it.
    callers: dict[Dependency, set[str]] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return not any(failed(reply) for _, reply in self.answers.values())


@dataclass(slots=True)
class _Sent:
    found: _Found
    baseline: Answer
    candidate: Answer
    gap: Gap | None


async def run(
    samples: Sequence[EndpointSample],
    senders: Sequence[TargetSender],
    *,
    links: Mapping[str, DepsLink],
    timeout: float,
    sample_size: int,
    allow_mutating: bool,
) -> Outcome:
    hold = timeout + HOLD_MARGIN
    outcome = Outcome.start(
        NAME, senders, sample=sample_size, seeds=SEEDS, hold_ms=int(hold * 1000)
    )
    roles = {s.role: s for s in senders}
    baseline = roles.get("baseline")
    why = _cannot_run(baseline, links)
    if why is not None or baseline is None:  # (no baseline is a reason: for mypy)
        reason, detail = why or ("needs_live_baseline", "")
        outcome.unverified.append(unverified("every endpoint", reason, detail, len(samples)))
        outcome.sent = {s.role: 0 for s in senders}
        return outcome
    prober = _Prober(roles["candidate"], baseline, links, outcome, timeout, hold)
    try:
        for entry in samples:
            await prober.endpoint(entry, allow_mutating)
    finally:
        for link in links.values():  # each round clears its own; this is the backstop
            with suppress(ReplayError):
                link.clear()
    outcome.sent = dict(prober.sent)
    return outcome


def _cannot_run(
    baseline: TargetSender | None, links: Mapping[str, DepsLink]
) -> tuple[str, str] | None:
    if baseline is None:
        return (
            "needs_live_baseline",
            "how a build should handle a failing dependency is the live baseline's answer; "
            "the recording has none (give --baseline-cmd)",
        )
    missing = [role for role in ("candidate", "baseline") if role not in links]
    if missing:
        return (
            "no_deps_proxy",
            f"no deps proxy in front of the {' and the '.join(missing)}: launch the builds "
            "with --candidate-cmd and --baseline-cmd so each gets one",
        )
    return None


class _Prober:
    """The probe's state across endpoints: both builds, their proxies, requests sent."""

    def __init__(
        self,
        candidate: TargetSender,
        baseline: TargetSender,
        links: Mapping[str, DepsLink],
        outcome: Outcome,
        timeout: float,
        hold: float,
    ) -> None:
        self.builds = {"baseline": baseline, "candidate": candidate}
        self.links = {role: links[role] for role in self.builds}
        self.outcome = outcome
        self.timeout = timeout
        self.faults = fault_rules(hold)
        self.sent: Counter[str] = Counter({role: 0 for role in self.builds})

    def stopped(self) -> bool:
        return any(sender.stopped for sender in self.builds.values())

    async def endpoint(self, entry: EndpointSample, allow_mutating: bool) -> None:
        name, out = entry.endpoint, self.outcome
        seeds = [s for s in entry.seeds if allow_mutating or is_safe_method(s.method)]
        if not seeds:
            out.unverified.append(no_seeds(entry, allow_mutating))
            return
        if self.stopped():
            out.unverified.append(stopped_early(name))
            return
        found = [await self._discover(name, seed) for seed in seeds[:DISCOVER]]
        for sender in self.builds.values():
            out.check(sender)
        usable = [f for f in found if f.usable]
        deps = sorted({dep for f in found for dep in f.called})
        if not deps:
            out.unverified.append(
                unverified(
                    name,
                    "no_dependency_calls",
                    f"no outbound call went through the deps proxy for any of its requests "
                    f"sent alone ({len(found)})",
                    len(found),
                )
            )
            return
        if not usable:
            out.unverified.append(
                unverified(
                    name,
                    "failing_without_fault",
                    f"no request of those sent alone ({len(found)}) was answered without a "
                    "5xx or transport error by both builds",
                    len(found),
                )
            )
            return
        out.endpoints += 1
        for dep in deps:
            calling = [f for f in usable if dep in f.called]
            if len(calling) < MIN_SEEDS:
                out.unverified.append(
                    unverified(
                        f"{name} → {dep.label}",
                        "too_few_samples",
                        f"requests that called it and both builds answered normally: "
                        f"{len(calling)}; a finding needs {MIN_SEEDS} or more",
                        len(calling),
                    )
                )
                continue
            for label, fault in self.faults:
                if self.stopped():
                    out.unverified.append(stopped_early(f"{name} → {dep.label}"))
                    break
                await self._round(name, dep, label, fault, calling[:SEEDS])
        for sender in self.builds.values():
            out.check(sender)

    async def _send(
        self, role: str, seed: Seed, endpoint: str, stage: str, rule: str | None
    ) -> Answer:
        self.sent[role] += 1
        return await self.builds[role].send(
            seed,
            probe=NAME,
            endpoint=endpoint,
            stage=stage,
            counted=rule is None,
            note={"fault": rule} if rule else None,
        )

    async def _both(
        self, seed: Seed, endpoint: str, stage: str, rule: str | None = None
    ) -> dict[str, Answer]:
        """``seed`` to both builds at once (one request in flight on each)."""
        roles = list(self.builds)
        sent = await asyncio.gather(
            *(self._send(role, seed, endpoint, stage, rule) for role in roles)
        )
        return dict(zip(roles, sent, strict=True))

    async def _discover(self, endpoint: str, seed: Seed) -> _Found:
        for link in self.links.values():
            link.skip()
        answers = await self._both(seed, endpoint, "discover")
        found = _Found(seed, answers)
        for role, link in self.links.items():
            for call in caused(link.since(), answers[role][1].trace_id):
                dep = dependency(call)
                if dep is not None:
                    found.called.setdefault(dep, shown(call))
                    found.callers.setdefault(dep, set()).add(role)
        return found

    async def _round(
        self, endpoint: str, dep: Dependency, label: str, fault: str, seeds: Sequence[_Found]
    ) -> None:
        rule = dep.rule(fault)
        sent: list[_Sent] = []
        again: list[_Sent] = []
        try:
            for link in self.links.values():
                link.set([rule])
            sent = await self._under(rule, endpoint, seeds, "fault")
            if _consistent(sent):
                confirm = [s.found for s in sent[:MIN_SEEDS]]
                again = await self._under(rule, endpoint, confirm, "fault_again")
        finally:
            for link in self.links.values():
                link.clear()
        verdict = await self._verdict(endpoint, sent, again)
        if verdict is None:
            gap_seen = sent[0].gap
            assert gap_seen is not None
            verdict = gap_seen.kind + (" (hung)" if gap_seen is Gap.HANG else "")
            self.outcome.findings.append(self._finding(endpoint, dep, label, rule, sent))
        every = [*sent, *again]
        self.outcome.rounds.append(
            {
                "endpoint": endpoint,
                "dependency": dep.label,
                "calls": seeds[0].called[dep],
                "fault": label,
                "rule": rule,
                "sent": len(every),
                "baseline": _answers([s.baseline[1] for s in every], self.timeout),
                "candidate": _answers([s.candidate[1] for s in every], self.timeout),
                "verdict": verdict,
            }
        )

    async def _under(
        self, rule: str, endpoint: str, seeds: Sequence[_Found], stage: str
    ) -> list[_Sent]:
        """``seeds`` to both builds while ``rule`` is on, one at a time, judged; stops at
        the first without the first one's gap (the gap cannot hold on every seed then)."""
        sent: list[_Sent] = []
        for found in seeds:
            answers = await self._both(found.seed, endpoint, stage, rule)
            base, cand = answers["baseline"], answers["candidate"]
            sent.append(
                _Sent(found, base, cand, gap(base[1], cand[1], found.answers["baseline"][1]))
            )
            if sent[-1].gap is None or sent[-1].gap is not sent[0].gap:
                break
        return sent

    async def _verdict(self, endpoint: str, sent: list[_Sent], again: list[_Sent]) -> str | None:
        """Why a round is no finding, or None when it is one: the same gap on every seed
        (``MIN_SEEDS`` or more), again when asked again, and both builds answering every
        seed normally once the fault is cleared."""
        if not sent or sent[0].gap is None:
            return "handled alike"
        if not _consistent(sent):
            same = sum(s.gap is sent[0].gap for s in sent)
            return f"not confirmed: {same} of {len(sent)} requests showed it"
        if not _consistent(again) or again[0].gap is not sent[0].gap:
            return "not confirmed: it did not repeat when asked again"
        broken: set[str] = set()
        for s in sent:
            answers = await self._both(s.found.seed, endpoint, "recovered")
            broken |= {role for role, (_, reply) in answers.items() if failed(reply)}
        if broken:
            roles = " and the ".join(sorted(broken))
            return f"not confirmed: the {roles} failed without the fault"
        return None

    def _finding(
        self, endpoint: str, dep: Dependency, label: str, rule: str, sent: Sequence[_Sent]
    ) -> dict[str, object]:
        first = sent[0]
        assert first.gap is not None
        base, cand = first.baseline[1], first.candidate[1]
        said_base, said_cand = answer(base, self.timeout), answer(cand, self.timeout)
        asked = first.found.called[dep]
        head = f"{dep.label} {label} ({asked})"
        count = len(sent)
        if first.gap is Gap.HANG:
            message = f"{head}: the candidate hung ({said_cand}), the baseline answered {said_base}"
        else:
            quoted = _quoted(cand) if first.gap is Gap.SWALLOWED else ""
            message = f"{head}: candidate {said_cand}{quoted}, baseline {said_base}"
        message += f" (on {count} of {count} requests)"
        alone = {role for s in sent for role in s.found.callers[dep]}
        if len(alone) == 1:
            message += f"; only the {alone.pop()} called it, without the fault"
        return {
            "probe": NAME,
            "kind": first.gap.kind,
            "target": "candidate",
            "endpoint": endpoint,
            "location": f"{dep.label} {label}",
            "message": message,
            "alone_value": said_base,
            "concurrent_value": said_cand,
            "count": count,
            "rate": 1.0,
            "in_baseline": False,
            "exchange_ids": [first.baseline[0], first.candidate[0]],
            "exchange_labels": ["baseline under the fault", "candidate under the fault"],
            **example(first.found.seed, base, cand),
            "dependency": dep.label,
            "fault": label,
            "rule": rule,
            "calls": asked,
            "hung": first.gap is Gap.HANG,
        }


def _consistent(sent: Sequence[_Sent]) -> bool:
    """The same gap on every seed sent, and enough of them."""
    first = sent[0].gap if sent else None
    return first is not None and len(sent) >= MIN_SEEDS and all(s.gap is first for s in sent)


def _answers(replies: Sequence[Reply], timeout: float) -> str:
    """``503 x3`` or ``503, 200``: what a build answered under a fault, in order."""
    said = [answer(r, timeout) for r in replies]
    if said and len(set(said)) == 1:
        return f"{said[0]} x{len(said)}" if len(said) > 1 else said[0]
    return ", ".join(said)


def _quoted(reply: Reply) -> str:
    body = (reply.body or b"").decode("utf-8", errors="replace").strip()
    if not body:
        return ""
    return " " + (body if len(body) <= QUOTED else body[: QUOTED - 1] + "…")
