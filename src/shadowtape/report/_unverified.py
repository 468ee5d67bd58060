"""The report's caveats (``Endpoint.unverified``) that do not come from one compared
location: measured noise, skipped mutating requests, truncated or binary bodies, dead targets and
too few A/A pairs, each with a sentence saying why (redacted request fields are the
run's, listed once: ``_ledger``).
"""

from __future__ import annotations

from shadowtape.diff.analyze import AnalysisSettings, EndpointStats
from shadowtape.diff.volatile import same_but_volatile_text, shape
from shadowtape.report.model import Unverified


def entry(reason: str, location: str, count: int, detail: str, *, of: int = 0) -> Unverified:
    """An entry whose rate is `count` out of `of`, rounded as report.json holds rates;
    no rate when `of` is 0 (or not given: a count of pairs or of requests not sent)."""
    rate = round(count / of, 4) if of else None
    return Unverified(reason=reason, location=location, count=count, rate=rate, detail=detail)


def shape_word(value: object) -> str:
    """How a volatile value is named in its entry's sentence ("UUID", "random token")."""
    if isinstance(value, str) and shape(value) is None and same_but_volatile_text(value, value):
        return "text line holding a timestamp, id or token"
    word = shape(value) or "generated value"
    for prefix in ("token", "hex"):
        if word.startswith(prefix):
            return "random token" if prefix == "token" else "hex token"
    return {"epoch": "epoch time", "ulid": "ULID", "uuid": "UUID"}.get(word, word)


def noise_entries(ep: EndpointStats, hidden: dict[tuple[str, str], int]) -> list[Unverified]:
    """One entry per location the A/A pairs disagree on, with the candidate differences
    it set aside (`hidden`, by location and noise group)."""
    sources = " and ".join(sorted(ep.noise_sources)) or "A/A pairs"
    out: list[Unverified] = []
    for pattern, group, n, pairs in ep.noise.locations():
        count = hidden.get((pattern, group), 0)
        rate = n / pairs
        cand = f"; baseline and candidate in {count} of {ep.compared}" if ep.compared else ""
        out.append(
            Unverified(
                reason="noise",
                location=pattern,
                count=count,
                rate=round(rate, 4),
                kind=group,
                pairs=pairs,
                detail=f"varies on its own: {n} of {pairs} A/A pairs disagree here "
                f"({sources}){cand}",
            )
        )
    return out


def other_unverified(ep: EndpointStats, settings: AnalysisSettings) -> list[Unverified]:
    """Skipped mutating requests, the per-row notes and too few A/A pairs to measure noise."""
    out: list[Unverified] = []
    mutating = ep.skipped.get("mutating", 0)
    if mutating:
        detail = "not replayed: the method changes state and mutating requests were not allowed"
        out.append(entry("skipped_mutating", "request", mutating, detail, of=ep.requests))
    for note, detail in (
        ("truncated_body", "a body was cut at the capture limit, so the bodies were not compared"),
        ("binary_body", "binary bodies are compared by size and digest only"),
        ("missing_response", "a baseline or candidate response is missing from the results"),
        (
            "baseline_failed",
            "the live baseline did not answer (refused, reset, timeout or protocol error), "
            "so these requests were not compared: is it running?",
        ),
        (
            "secondary_failed",
            "the secondary did not answer (refused, reset, timeout or protocol error), so "
            "these requests measured no noise: is it running?",
        ),
        (
            "retry_untracked",
            "a retried request (same Idempotency-Key) whose first answer was no longer "
            "remembered, so the retry was not checked",
        ),
    ):
        if ep.notes.get(note):
            reason = note if note != "missing_response" else "too_few_samples"
            location = _NOTE_LOCATIONS.get(note, "body")
            out.append(entry(reason, location, ep.notes[note], detail, of=ep.replayed))
    if ep.compared and ep.noise.pairs < settings.noise.min_pairs:
        detail = (
            f"noise measured on only {ep.noise.pairs} A/A pairs (want "
            f"{settings.noise.min_pairs}); differences that vary on their own may be flagged"
        )
        out.append(entry("too_few_samples", "noise", ep.noise.pairs, detail))
    return out


_NOTE_LOCATIONS = {
    "missing_response": "response",
    "baseline_failed": "baseline",
    "secondary_failed": "secondary",
    "retry_untracked": "retry",
}
