"""The duplicate-delivery check: a retried request must be answered as production did.

Requests that repeat an ``Idempotency-Key`` are the client's retries. Production answered
the retry with the stored result (the same resource, often with a marker such as
``Idempotent-Replayed: true``); a candidate that ignores the key charges twice and
answers with a new resource. Such pairs are never noise: each retry is compared with the
first request of its key, on each side, by what a retry's answer means (status, whether
it names the same resource, the replay marker), and a difference is a
``duplicate_delivery``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shadowtape.diff.compare import Side
from shadowtape.diff.json import NotJSON, parse
from shadowtape.diff.model import Difference, Kind

#: Keys remembered at most; a retry comes soon after its first request.
MAX_KEYS = 50_000
_KEY_HEADER = "idempotency-key"


def idempotency_key(headers: Sequence[tuple[str, str]] | None) -> str | None:
    for name, value in headers or ():
        if name.lower() == _KEY_HEADER and value:
            return value
    return None


def _marker(side: Side) -> str | None:
    for name, value in side.headers:
        low = name.lower()
        if low != _KEY_HEADER and ("replayed" in low or "idempot" in low):
            return f"{low}: {value.strip().lower()}"
    return None


def resource_id(side: Side) -> str | None:
    """The answer's resource: its JSON ``id``, else its ``Location``."""
    try:
        doc = parse(side.body)
    except NotJSON:
        doc = None
    if isinstance(doc, dict) and doc.get("id") is not None:
        return str(doc["id"])
    for name, value in side.headers:
        if name.lower() == "location":
            return value
    return None


@dataclass(slots=True)
class Retries:
    """The first answers per (endpoint, key), on both sides."""

    first: dict[tuple[str, str], tuple[Side, Side]] = field(default_factory=dict)

    def check(self, endpoint: str, key: str, base: Side, cand: Side) -> Difference | None:
        """For a retry, the difference between how each side answered it; the first
        request of a key is remembered and gives None."""
        earlier = self.first.get((endpoint, key))
        if earlier is None:
            if len(self.first) < MAX_KEYS:
                self.first[(endpoint, key)] = (base, cand)
            return None
        b, c = retry_answer(earlier[0], base), retry_answer(earlier[1], cand)
        if b == c:
            return None
        return Difference(Kind.DUPLICATE_DELIVERY, "retry", b, c)


def retry_answer(first: Side, retry: Side) -> dict[str, object]:
    """What a retry's answer says: its status, whether it is the first answer's resource,
    and its replay marker."""
    first_id, retry_id = resource_id(first), resource_id(retry)
    same = None if first_id is None and retry_id is None else first_id == retry_id
    return {"status": retry.outcome(), "same_resource": same, "replay_marker": _marker(retry)}
