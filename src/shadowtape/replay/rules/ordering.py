"""Requests that share state: kept in recorded order, and kept in one shard.

Two requests share state when they carry the same Idempotency-Key, the same session
cookie, or come from the same client (the same Authorization, the recorded client
address); prepare/batchkeys.py finds those keys. Under concurrency a request waits until
every earlier request it shares a key with has finished (``Sequencer``), so a cart is
read after it was written; requests that share nothing run freely.
"""

from __future__ import annotations

import asyncio
import hashlib
import re

#: Cookie names that carry a session (matched case-insensitively, anywhere in the name).
#: ASCII case only: cookie names are tokens, and Unicode folding (a long s for "s", a dotted
#: capital I for "i") differs between Python's re and the RE2 that batchkeys.py uses.
SESSION_COOKIE = re.compile(r"sess|sid|auth|token|login|user", re.IGNORECASE | re.ASCII)
#: Exchange tags a recorder may set with the client's identity or address.
CLIENT_TAGS = ("client", "client_ip", "client_addr", "peer")


def shard_key_of(keys: list[str], exchange_id: str) -> str:
    """``shard_key`` from a request's state keys and its exchange id."""
    return min(keys, key=_lasting) if keys else f"id:{exchange_id}"


_KIND_RANK = {"client": 0, "cookie": 1, "auth": 2, "idem": 3}
_SESSION_NAME = re.compile(r"sess|sid", re.IGNORECASE)
_USER_NAME = re.compile(r"auth|login|user", re.IGNORECASE)


def _lasting(key: str) -> tuple[int, int, str]:
    kind, _, rest = key.partition(":")
    name = rest.partition("=")[0] if kind == "cookie" else ""
    # A session cookie outlasts a CSRF or other token cookie sent beside it.
    cookie = 0 if _SESSION_NAME.search(name) else 1 if _USER_NAME.search(name) else 2
    return _KIND_RANK.get(kind, len(_KIND_RANK)), cookie, key


def shard_of(key: str, count: int) -> int:
    """The 1-based shard of a key: stable across runs, machines and Python versions."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count + 1


class Sequencer:
    """Orders requests that share a key. Holds one future per key with a request in
    flight, so its size is bounded by the requests in flight, not by the tape."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future[None]] = {}

    def __len__(self) -> int:
        return len(self._tails)

    def enter(self, keys: list[str]) -> tuple[list[asyncio.Future[None]], asyncio.Future[None]]:
        """Claim the keys for a request, in dispatch order.

        Returns the futures to await before sending, and this request's own future, to
        pass to ``leave`` once it has finished.
        """
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        before = []
        for key in keys:
            tail = self._tails.get(key)
            if tail is not None and tail is not mine:
                before.append(tail)
            self._tails[key] = mine
        return before, mine

    def leave(self, keys: list[str], mine: asyncio.Future[None]) -> None:
        if not mine.done():
            mine.set_result(None)
        for key in keys:
            if self._tails.get(key) is mine:
                del self._tails[key]
