"""Exchange ids: ULIDs, so that ids sort by the time they were made.

26 characters of Crockford base32: 48 bits of Unix milliseconds, then 80 bits that are
random for the first id in a millisecond and incremented after it, so ids made by one
process are strictly increasing even within a millisecond.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(at_ms: int | None = None) -> str:
    """Return a new ULID; `at_ms` sets its time part (Unix milliseconds)."""
    global _last_ms, _last_rand
    ms = time.time_ns() // 1_000_000 if at_ms is None else at_ms
    with _lock:
        if ms == _last_ms:
            _last_rand = (_last_rand + 1) & ((1 << 80) - 1)
        else:
            _last_ms = ms
            _last_rand = int.from_bytes(os.urandom(10), "big")
        rand = _last_rand
    return _encode(ms, 10) + _encode(rand, 16)


def id_time_ms(ulid: str) -> int:
    """The Unix milliseconds encoded in a ULID's first ten characters."""
    value = 0
    for ch in ulid[:10].upper():
        value = value * 32 + _ALPHABET.index(ch)
    return value
