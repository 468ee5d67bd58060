"""A bounded memo for verdicts about text that repeats across exchanges.

Header values (User-Agent, Accept...) and many bodies (a list endpoint, a config file)
are the same from one exchange to the next, and scanning text is the expensive part of
sanitizing. Verdicts that depend only on the text and the policy are remembered: short
texts by themselves, long ones by a 128-bit BLAKE2b digest (so no body is kept). The
memo is cleared when full, which keeps it simple and safe to share between threads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

#: Texts up to this many characters are their own key; longer ones are digested.
_INLINE = 256


class TextMemo(Generic[T]):
    def __init__(self, compute: Callable[[str], T], size: int = 8_192) -> None:
        self._compute = compute
        self._size = size
        self._memo: dict[str | bytes, T] = {}

    def __call__(self, text: str) -> T:
        key: str | bytes = text
        if len(text) > _INLINE:
            key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        found = self._memo.get(key)
        if found is None:
            found = self._compute(text)
            if len(self._memo) >= self._size:
                self._memo.clear()
            self._memo[key] = found
        return found
