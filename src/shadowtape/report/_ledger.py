"""The ledger: which one bucket each selected exchange landed in (regressed, equal,
differs only by noise, unverified or skipped, with their reasons), per endpoint and in
total, and the run's redacted request locations, listed once beside it.

The differ keeps, per endpoint, how many exchanges showed each outcome (the keys they
differed at); once the noise model has decided which keys are findings, an outcome
with a finding key is ``regressed`` and one whose differences were all explained is
``noise``. An outcome the differ did not keep (it keeps OUTCOME_SLOTS per endpoint) is
counted as unverified ``unclassified`` rather than guessed. Buckets are counted from
the differ's own counts, so they sum to the selection by construction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from shadowtape.diff.analyze import OVERFLOW, Analysis, EndpointStats
from shadowtape.report._unverified import entry
from shadowtape.report.model import Ledger, Unverified

#: The ledger's word for exchanges whose outcome was not kept (past the differ's
#: OUTCOME_SLOTS): compared, but which bucket they belong in is not known.
UNCLASSIFIED = "unclassified"
_REDACTED = (
    "the replayed request carried a pseudonym here; responses that depend on the real "
    "value cannot be verified"
)


def endpoint_ledger(
    ep: EndpointStats,
    finding_keys: set[tuple[str, str]],
    promoted: set[tuple[str, str]],
    *,
    has_findings: bool,
) -> Ledger:
    """The endpoint's ledger: `finding_keys` are the (pattern, kind) that became findings,
    `promoted` those whose volatile-looking differences were counted as ordinary ones."""
    regressed = equal = noise = unclassified = 0
    for outcome, n in ep.outcomes.items():
        if not outcome:
            equal += n
        elif outcome == OVERFLOW:
            unclassified += n
        elif any(
            (pattern, kind) in finding_keys
            and (how == "count" or (how == "volatile" and (pattern, kind) in promoted))
            for pattern, kind, how in outcome
        ):
            regressed += n
        else:
            noise += n
    return Ledger(
        selected=ep.requests,
        regressed=regressed,
        equal=equal,
        noise=noise,
        unverified=dict(sorted((ep.not_compared + Counter({UNCLASSIFIED: unclassified})).items())),
        skipped=dict(sorted(ep.skipped.items())),
    )


def total_ledger(ledgers: Iterable[Ledger | None]) -> Ledger:
    """The run's ledger: the endpoints' summed."""
    unverified: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    selected = regressed = equal = noise = 0
    for one in ledgers:
        if one is None:
            continue
        selected += one.selected
        regressed += one.regressed
        equal += one.equal
        noise += one.noise
        unverified.update(one.unverified)
        skipped.update(one.skipped)
    return Ledger(
        selected=selected,
        regressed=regressed,
        equal=equal,
        noise=noise,
        unverified=dict(sorted(unverified.items())),
        skipped=dict(sorted(skipped.items())),
    )


def request_redactions(analysis: Analysis) -> tuple[Unverified, ...]:
    """Each redacted request location once for the run: the exchanges that carried it,
    out of the replayed ones (a location counts once per exchange, so at most 100%)."""
    counts: Counter[str] = Counter()
    for ep in analysis.endpoints.values():
        counts.update(ep.request_redactions)
    replayed = sum(ep.replayed for ep in analysis.endpoints.values())
    return tuple(
        entry("redacted", loc, n, _REDACTED, of=replayed) for loc, n in sorted(counts.items())
    )
