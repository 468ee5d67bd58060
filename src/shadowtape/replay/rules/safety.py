"""Which recorded requests may be sent at all, and why the others are skipped.

Every skipped exchange still gets a result row with its reason, and the reasons are
counted in run.json, so a report can say what it could not check. The rules are applied
a batch at a time (prepare/batchwire.py).
"""

from __future__ import annotations

from enum import StrEnum

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SkipReason(StrEnum):
    #: Not GET, HEAD or OPTIONS, and mutating methods were not allowed.
    MUTATING = "mutating"
    #: The recorded target is not a plain path (an absolute URL, "*"): it names a host.
    UNSAFE_HOST = "unsafe_host"
    #: Control characters or spaces in the method, path, query or a header.
    MALFORMED = "malformed"
    #: The request body was cut when recorded; sending it would be a different request.
    TRUNCATED_BODY = "truncated_body"


def is_safe_method(method: str) -> bool:
    # ASCII only: str.upper is Unicode-aware ("OPTION\u017f".upper() == "OPTIONS").
    return method.isascii() and method.upper() in SAFE_METHODS
