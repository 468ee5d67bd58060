"""Requests that share state: kept in recorded order, and kept in one shard.

Two requests share state when they carry the same Idempotency-Key, the same session
cookie, or come from the same client (the same Authorization, the recorded client
address). Under concurrency, a request waits until every earlier request it shares a key
with has finished, so a cart is read after it was written, as in production; requests
that share nothing run freely.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Mapping

from shadowtape.exchange import Exchange
from shadowtape.replay.rules.options import Shard

#: Cookie names that carry a session (matched case-insensitively, anywhere in the name).
#: ASCII case only: cookie names are tokens, and Unicode folding (a long s for "s", a dotted
#: capital I for "i") differs between Python's re and the RE2 that batchkeys.py uses.
SESSION_COOKIE = re.compile(r"sess|sid|auth|token|login|user", re.IGNORECASE | re.ASCII)
#: Exchange tags a recorder may set with the client's identity or address.
CLIENT_TAGS = ("client", "client_ip", "client_addr", "peer")


_WANTED = frozenset({"cookie", "authorization", "x-forwarded-for", "x-real-ip", "idempotency-key"})


def _state_headers(headers: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    """The headers that carry state, by lower-case name, in one pass (this runs for
    every request). Names compare in ASCII case only: they are tokens, and Unicode
    lower-casing differs between Python and Arrow (a dotted capital I); a name that is not
    ASCII is none of the wanted ones."""
    found: dict[str, list[str]] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in _WANTED and name.isascii():
            found.setdefault(lower, []).append(value)
    return found


def _keys(tags: Mapping[str, str], found: dict[str, list[str]]) -> list[str]:
    keys = []
    for line in found.get("cookie", ()):
        for item in line.split(";"):
            name, sep, value = item.strip().partition("=")
            if sep and name and SESSION_COOKIE.search(name):
                keys.append(f"cookie:{name}={value}")
    if "authorization" in found:
        keys.append(f"auth:{found['authorization'][0]}")
    for tag in CLIENT_TAGS:
        if tags.get(tag):
            keys.append(f"client:{tags[tag]}")
            break
    else:
        forwarded = found.get("x-forwarded-for") or found.get("x-real-ip")
        if forwarded:
            keys.append(f"client:{forwarded[0].split(',')[0].strip()}")
    return keys


def client_keys(exchange: Exchange) -> list[str]:
    """Keys naming who sent the request: session cookies, credentials, client address."""
    return _keys(exchange.tags, _state_headers(exchange.request.headers))


def state_keys(exchange: Exchange) -> list[str]:
    """Every key this request shares state by; requests with a key in common stay ordered."""
    return keys_for(exchange.request.headers, exchange.tags)


def keys_for(headers: tuple[tuple[str, str], ...], tags: Mapping[str, str]) -> list[str]:
    """``state_keys`` from a request's headers and its exchange's tags."""
    found = _state_headers(headers)
    if not found and not tags:
        return []
    keys = _keys(tags, found)
    if "idempotency-key" in found:
        keys.append(f"idem:{found['idempotency-key'][0]}")
    return keys


def shard_key(exchange: Exchange) -> str:
    """What decides the shard: one key per request, the most lasting identity it carries.

    The client's address first (the same before and after a login, with or without
    credentials), then its session cookie, its credentials, its idempotency key; else
    the exchange alone. The choice does not depend on header or cookie order. Requests
    linked only through a less lasting key (one with and one without the client address)
    can still land in different shards: a perfect split needs the whole tape's links.
    """
    return shard_key_of(state_keys(exchange), exchange.id)


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


def in_shard(exchange: Exchange, shard: Shard | None) -> bool:
    return shard is None or shard_of(shard_key(exchange), shard.count) == shard.index


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
