"""Why a probe could not verify an endpoint, in probes.json's shape, with the reasons
every probe gives (the others are the probe's own)."""

from __future__ import annotations

from shadowtape.probe.sample import EndpointSample


def unverified(
    endpoint: str, reason: str, detail: str, count: int | None = None
) -> dict[str, object]:
    """Why ``endpoint`` could not be probed, in probes.json's shape."""
    return {"reason": reason, "location": endpoint, "count": count, "detail": detail}


def stopped_early(endpoint: str) -> dict[str, object]:
    return unverified(endpoint, "target_failing", "the probe stopped early")


def mutating_not_allowed(entry: EndpointSample, count: int | None) -> dict[str, object]:
    return unverified(
        entry.endpoint,
        "mutating_not_allowed",
        "its requests are mutating and were not sent; --allow-mutating probes them",
        count,
    )


def no_seeds(entry: EndpointSample, allow_mutating: bool = False) -> dict[str, object]:
    """Why an endpoint with nothing to send was not probed: its requests were mutating and
    not allowed, or the replay sent none of them."""
    mutating = entry.skipped.get("mutating", 0)
    if mutating and not allow_mutating:
        return mutating_not_allowed(entry, mutating)
    return not_sent(entry)


def not_sent(entry: EndpointSample) -> dict[str, object]:
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(entry.skipped.items()))
    return unverified(
        entry.endpoint, "not_sent", f"the replay sent none of its requests ({skipped})"
    )
