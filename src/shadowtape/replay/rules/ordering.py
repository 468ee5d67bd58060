"""Requests that share state: which wait for which, and all kept in one shard.

Two requests share state when they carry the same Idempotency-Key, the same session
cookie, or come from the same client (the same Authorization, the recorded client
address); prepare/batchkeys.py finds those keys. Which of them wait (``Sequencer``) is
the run's ``Ordering``: by default a request waits for an earlier one it shares a key with
only when the recording shows the earlier one had finished before it started (a cart is
read after it was written), so one client's requests that overlapped in production
overlap in the replay too; requests that repeat an Idempotency-Key always keep their
order. Sharding keeps every request that shares a key in one shard, whatever the ordering.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from heapq import heappop, heappush

from shadowtape.replay.rules.options import Ordering

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


class _Key:
    """What one key's requests in flight hold: the latest (for keys kept in strict
    order), those whose recorded end is still ahead of the requests dispatched so far
    (by that end), and one future for all the others: what a request dispatched now
    waits for."""

    __slots__ = ("after", "live", "open", "tail")

    def __init__(self) -> None:
        self.tail: asyncio.Future[None] | None = None
        self.open: list[tuple[int, int, asyncio.Future[None]]] = []
        self.after: asyncio.Future[None] | None = None
        #: Requests that claimed the key and have not left.
        self.live = 0


class Sequencer:
    """Orders requests that share a key. Holds state only for keys with a request in
    flight, so its size is bounded by the requests in flight, not by the tape.

    With ``Ordering.RECORDED``, requests are entered in recorded order with their
    recorded start and end; one waits for the earlier requests of its keys that ended,
    in the recording, by the time it started. Those are folded into one future per key
    as the recorded time passes their end, so each request is pushed and popped once
    (a heap over the key's requests in flight: log of a handful).
    """

    def __init__(self, ordering: Ordering = Ordering.RECORDED) -> None:
        self._keys: dict[str, _Key] = {}
        self._strict = ordering is Ordering.STRICT
        self._seq = 0

    def __len__(self) -> int:
        return len(self._keys)

    def enter(
        self, keys: list[str], start_us: int = 0, end_us: int = 0
    ) -> tuple[list[asyncio.Future[None]], asyncio.Future[None]]:
        """Claim the keys for a request, in dispatch order (recorded order).

        Returns the futures to await before sending, and this request's own future, to
        pass to ``leave`` once it has finished.
        """
        loop = asyncio.get_running_loop()
        mine: asyncio.Future[None] = loop.create_future()
        before = []
        self._seq += 1
        for key in keys:
            state = self._keys.get(key)
            if state is None:
                state = self._keys[key] = _Key()
            state.live += 1
            if self._strict or key.startswith("idem:"):
                tail = state.tail
                if tail is not None and tail is not mine and not tail.done():
                    before.append(tail)
                state.tail = mine
                continue
            heap = state.open
            if heap and heap[0][0] <= start_us:
                after = state.after
                ended = [] if after is None or after.done() else [after]
                while heap and heap[0][0] <= start_us:
                    earlier = heappop(heap)[2]
                    if not earlier.done() and earlier is not mine:
                        ended.append(earlier)
                state.after = ended[0] if len(ended) == 1 else _all_of(ended, loop)
            after = state.after
            if after is not None:
                if after.done():
                    state.after = None
                else:
                    before.append(after)
            heappush(heap, (end_us, self._seq, mine))
        return before, mine

    def leave(self, keys: list[str], mine: asyncio.Future[None]) -> None:
        if not mine.done():
            mine.set_result(None)
        for key in keys:
            state = self._keys.get(key)
            if state is not None:
                state.live -= 1
                if state.live <= 0:  # nothing of the key is in flight: nothing to wait for
                    del self._keys[key]


def _all_of(
    pending: list[asyncio.Future[None]], loop: asyncio.AbstractEventLoop
) -> asyncio.Future[None] | None:
    """One future done when all of ``pending`` (not done yet) are; None for none."""
    if not pending:
        return None
    joined: asyncio.Future[None] = loop.create_future()
    left = len(pending)

    def one_done(_: asyncio.Future[None]) -> None:
        nonlocal left
        left -= 1
        if left == 0 and not joined.done():
            joined.set_result(None)

    for future in pending:
        future.add_done_callback(one_done)
    return joined
