"""Shapes of values that change on their own: UUIDs, timestamps, epoch times, random tokens.

When a value differs but has the same volatile shape on both sides, the difference cannot
be told from the field simply being regenerated, so it is reported as not verifiable
rather than as a regression.
"""

from __future__ import annotations

import itertools
import re

_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_HTTP_DATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$"
)
_TOKEN = re.compile(r"^[A-Za-z0-9_\-+/=.~]{16,}$")
_HEX = re.compile(r"^[0-9a-fA-F]{16,}$")


def shape(value: object) -> str | None:
    """The volatile shape of a value, or None when it looks like ordinary data."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        v = abs(value)
        if 1e9 <= v < 1e10 or 1e12 <= v < 1e13 or 1e15 <= v < 1e16:
            return "epoch"
        return None
    if not isinstance(value, str):
        return None
    if _UUID.match(value):
        return "uuid"
    if _ULID.match(value):
        return "ulid"
    if _ISO.match(value) or _HTTP_DATE.match(value):
        return "timestamp"
    if _HEX.match(value):
        return f"hex{len(value)}"
    if _TOKEN.match(value) and _mixed(value):
        return f"token{len(value)}"
    return None


def _class(c: str) -> int:
    return 0 if c.isdigit() else 1 if c.islower() else 2 if c.isupper() else 3


def _mixed(value: str) -> bool:
    """Random-looking: letters with digits, or case that flips like noise, not like words."""
    classes = [_class(c) for c in value]
    kinds = set(classes)
    if 0 in kinds and (1 in kinds or 2 in kinds):
        return True
    if not {1, 2} <= kinds:
        return False
    flips = sum(1 for x, y in itertools.pairwise(classes) if x != y)
    return flips * 3 >= len(value)


_IN_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT"
    r"|\b[0-9a-fA-F]{16,}\b|\b\d{10,16}\b"
)


def same_but_volatile_text(a: object, b: object) -> bool:
    """Two lines of text that are equal once UUIDs, timestamps, long hex and epoch numbers
    are masked: a text body's clock or request id, not a changed sentence."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    masked_a, n = _IN_TEXT.subn("\x00", a)
    return n > 0 and masked_a == _IN_TEXT.sub("\x00", b)


def both_volatile(a: object, b: object) -> bool:
    """True when two differing values share one volatile shape.

    A random token now and then looks like a word (no digit, few case flips); when the
    other side is clearly a token of the same length and alphabet, both are tokens.
    """
    sa, sb = shape(a), shape(b)
    if sa is not None and sa == sb:
        return True
    if isinstance(a, str) and isinstance(b, str) and len(a) == len(b):
        token = (sa or "").startswith("token") or (sb or "").startswith("token")
        return token and bool(_TOKEN.match(a)) and bool(_TOKEN.match(b))
    return False
