"""The duplicate-delivery check: a retried request must be answered as production did.

Requests that repeat an ``Idempotency-Key`` are the client's retries. Production answered
the retry with the stored result (the same resource, often marked replayed, as by
``Idempotent-Replayed: true``); a candidate that ignores the key charges twice and
answers with a new resource. Such pairs are never noise: each retry is compared with the
first request of its key, on each side, by what a retry's answer means (status, whether
it names the same resource, whether it is marked replayed), and a difference is a
``duplicate_delivery``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shadowtape.diff.compare import Side
from shadowtape.diff.json import NotJSON, parse
from shadowtape.diff.model import Difference, Kind

#: Keys remembered at most (three small values per side each); a retry comes soon after
#: its first request.
MAX_KEYS = 50_000
_KEY_HEADER = "idempotency-key"


def idempotency_key(headers: Sequence[tuple[str, str]] | None) -> str | None:
    for name, value in headers or ():
        if name.lower() == _KEY_HEADER and value:
            return value
    return None


_TRUE = frozenset({"true", "1", "yes", "on"})


def replayed(side: Side) -> bool:
    """Whether the answer says it was replayed: a header whose name holds ``replayed``
    (``Idempotent-Replayed``) or ``idempotent-replay``, with a truthy value. One flag,
    not a header's text: other idempotency headers (an expiry time, a cache status) are
    the ordinary header diff's, and their order or values never make a retry differ."""
    for name, value in side.headers:
        low = name.lower()
        if ("replayed" in low or "idempotent-replay" in low) and value.strip().lower() in _TRUE:
            return True
    return False


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


#: What is remembered of a first answer: its outcome, resource id and replay flag.
Answer = tuple[object, str | None, bool]
#: check()'s word for a retry whose first answer was forgotten: it goes unchecked.
UNTRACKED = "retry_untracked"
_SEEN_BITS = 1 << 23  # 1 MiB: which forgotten keys were seen, for UNTRACKED


def answer_of(side: Side) -> Answer:
    return (side.outcome(), resource_id(side), replayed(side))


@dataclass(slots=True)
class Retries:
    """The first answers per (endpoint, key), on both sides: the newest MAX_KEYS keys,
    the oldest forgotten first. A retry of a forgotten key cannot be checked and is
    reported as such (a fixed-size bit set remembers which keys were forgotten; a
    collision there can only overstate that caveat, never hide a difference)."""

    first: dict[tuple[str, str], tuple[Answer, Answer]] = field(default_factory=dict)
    forgotten: bytearray = field(default_factory=lambda: bytearray(_SEEN_BITS // 8))

    def check(self, endpoint: str, key: str, base: Side, cand: Side) -> Difference | str | None:
        """For a retry, the difference between how each side answered it (None when
        alike); the first request of a key is remembered and gives None; a retry whose
        first answer was forgotten gives UNTRACKED."""
        earlier = self.first.get((endpoint, key))
        if earlier is None:
            if self._was_forgotten((endpoint, key)):
                return UNTRACKED
            if len(self.first) >= MAX_KEYS:
                oldest = next(iter(self.first))
                del self.first[oldest]
                self._forget(oldest)
            self.first[(endpoint, key)] = (answer_of(base), answer_of(cand))
            return None
        b, c = _reading(earlier[0], answer_of(base)), _reading(earlier[1], answer_of(cand))
        if b == c:
            return None
        return Difference(Kind.DUPLICATE_DELIVERY, "retry", b, c)

    def _forget(self, key: tuple[str, str]) -> None:
        bit = hash(key) % _SEEN_BITS
        self.forgotten[bit >> 3] |= 1 << (bit & 7)

    def _was_forgotten(self, key: tuple[str, str]) -> bool:
        bit = hash(key) % _SEEN_BITS
        return bool(self.forgotten[bit >> 3] & (1 << (bit & 7)))


def retry_answer(first: Side, retry: Side) -> dict[str, object]:
    """What a retry's answer says: its status, whether it is the first answer's resource,
    and whether it is marked replayed (``replay_marker``: ``"replayed"`` or None)."""
    return _reading(answer_of(first), answer_of(retry))


def _reading(first: Answer, retry: Answer) -> dict[str, object]:
    first_id, retry_id = first[1], retry[1]
    same = None if first_id is None and retry_id is None else first_id == retry_id
    marker = "replayed" if retry[2] else None
    return {"status": retry[0], "same_resource": same, "replay_marker": marker}
