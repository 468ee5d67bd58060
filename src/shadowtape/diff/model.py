"""The words every differ speaks: a Difference, its Kind, and location patterns.

A Difference is one place where two responses disagree. Its ``location`` is exact
(``$.items[3].price``); ``pattern_of`` folds array indices to ``[*]`` so that the same
field is counted once per response, whatever its position in a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What kind of disagreement; the report uses the same words."""

    STATUS = "status"
    HEADER = "header"
    #: A header the baseline sent and the candidate did not, and the reverse.
    HEADER_MISSING = "header_missing"
    HEADER_EXTRA = "header_extra"
    BODY_MISSING = "body_missing"
    BODY_EXTRA = "body_extra"
    BODY_TYPE = "body_type"
    BODY_VALUE = "body_value"
    ARRAY_LENGTH = "array_length"
    ARRAY_ORDER = "array_order"
    TEXT = "text"
    DIGEST = "digest"
    NEW_ERROR = "new_error"
    SWALLOWED_ERROR = "swallowed_error"
    FIXED_ERROR = "fixed_error"
    LATENCY = "latency"
    #: A retried request (same Idempotency-Key) answered unlike production answered it.
    DUPLICATE_DELIVERY = "duplicate_delivery"
    #: A request's outbound calls that changed something, made a different number of times
    #: by the candidate than by the baseline (``diff.sidefx``).
    SIDE_EFFECT = "side_effect"


#: Kinds that are compared as one when deciding noise: a field that comes and goes between
#: two baselines is noise whether the candidate drops it or adds it. A header that comes and
#: goes has its own group: a header whose value varies does not excuse its absence.
_NOISE_GROUP = {
    Kind.BODY_MISSING: "presence",
    Kind.BODY_EXTRA: "presence",
    Kind.HEADER_MISSING: "header_presence",
    Kind.HEADER_EXTRA: "header_presence",
    Kind.NEW_ERROR: "status",
    Kind.SWALLOWED_ERROR: "status",
    Kind.FIXED_ERROR: "status",
    Kind.STATUS: "status",
}


def noise_group(kind: str) -> str:
    """The name under which A/A disagreements of this kind are counted."""
    return _NOISE_GROUP.get(kind, kind)  # type: ignore[call-overload, no-any-return]


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str
    location: str
    baseline: object = None
    candidate: object = None


_INDEX = re.compile(r"\[\d+\]")


def pattern_of(location: str) -> str:
    """``$.items[3].price`` -> ``$.items[*].price``: one key per field, not per position."""
    if "[" not in location:
        return location
    return _INDEX.sub("[*]", location)
