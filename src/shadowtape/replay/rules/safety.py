"""Which recorded requests may be sent at all, and why the others are skipped.

Every skipped exchange still gets a result row with its reason, and the reasons are
counted in run.json, so a report can say what it could not check.
"""

from __future__ import annotations

from enum import StrEnum

from shadowtape.exchange import Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BAD_CHARS = frozenset(" \t\r\n\x00\x7f")


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


def skip_reason(request: Request, *, allow_mutating: bool) -> SkipReason | None:
    """Why this request must not be sent, or None when it may be."""
    return skip_reason_of(
        request.method,
        request.path,
        request.query,
        request.headers,
        request.body,
        request.body_size,
        request.body_truncated,
        allow_mutating=allow_mutating,
        host=request.host,
    )


def skip_reason_of(
    method: str,
    path: str,
    query: str,
    headers: tuple[tuple[str, str], ...],
    body: bytes,
    body_size: int,
    body_truncated: bool,
    *,
    allow_mutating: bool,
    host: str = "",
) -> SkipReason | None:
    """``skip_reason`` on the parts of a request (the replayer's jobs hold no Request).
    The recorded ``host`` goes on the wire with --keep-host when no Host header was
    recorded, so it is checked like the path."""
    # A method is a token: ASCII letters only. str.isalpha and str.upper are Unicode-aware
    # (they passed "OPTION\u017f", with a long s, as OPTIONS); batchwire.py checks alike.
    if not (method.isascii() and method.isalpha()):
        return SkipReason.MALFORMED
    method = method.upper()
    if method not in SAFE_METHODS and not allow_mutating:
        return SkipReason.MUTATING
    if method == "CONNECT" or not path.startswith("/"):
        return SkipReason.UNSAFE_HOST
    if (
        _BAD_CHARS.intersection(path)
        or _BAD_CHARS.intersection(query)
        or _BAD_CHARS.intersection(host)
    ):
        return SkipReason.MALFORMED
    for name, value in headers:
        if "\r" in value or "\n" in value or "\x00" in value or _BAD_CHARS.intersection(name):
            return SkipReason.MALFORMED
    if body_truncated and body_size > len(body):
        return SkipReason.TRUNCATED_BODY
    return None
