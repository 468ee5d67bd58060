"""Matching a live dependency call to recorded ones, with a fallback order.

Modelled on vcrpy's matchers: a call is compared on method, host and port, path, query
and body; when nothing recorded agrees on all of them, fields are dropped one at a time,
least telling first. The levels, best first (``Quality``):

``exact``     method, host:port, path, query and body
``no_body``   method, host:port, path, query (the body is ignored)
``no_query``  method, host:port, path (query and body are ignored)

Method, host, port and path are never ignored: a different path is a different endpoint,
and a call none of the levels matches is ``unmatched``. Queries compare as sorted
``name=value`` pairs; JSON bodies compare as parsed values (key order and spacing do not
count). Sanitized recordings hold pseudonyms where the live call holds secrets, so such a
call matches at ``no_body`` or ``no_query``, which is why the levels exist. Among several
recorded calls at the best level, the answers are served in recorded order, cycling: a
repeated call gets the next recorded answer.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Hashable, Iterable
from enum import StrEnum
from urllib.parse import parse_qsl

from shadowtape.deps.mocks import Recorded


class Quality(StrEnum):
    EXACT = "exact"
    NO_BODY = "no_body"
    NO_QUERY = "no_query"
    UNMATCHED = "unmatched"


LEVELS = (Quality.EXACT, Quality.NO_BODY, Quality.NO_QUERY)


def _query(query: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(parse_qsl(query, keep_blank_values=True)))


def _body(body: bytes) -> Hashable:
    if body[:1] in (b"{", b"["):
        try:
            return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
        except ValueError:
            pass
    return body


def key(
    level: Quality, method: str, host: str, port: int, path: str, query: str, body: bytes
) -> tuple[Hashable, ...]:
    base: tuple[Hashable, ...] = (method.upper(), host.lower(), port, path)
    if level is Quality.EXACT:
        return (*base, _query(query), _body(body))
    if level is Quality.NO_BODY:
        return (*base, _query(query))
    return base


class Matcher:
    """Recorded calls indexed at each level; ``answer`` picks the next one for a call."""

    def __init__(self, recorded: Iterable[Recorded]) -> None:
        self._index: dict[tuple[Hashable, ...], list[Recorded]] = defaultdict(list)
        self._next: dict[tuple[Hashable, ...], int] = defaultdict(int)
        for call in recorded:
            for level in LEVELS:
                fields = (call.method, call.host, call.port, call.path, call.query, call.body)
                self._index[(level, *key(level, *fields))].append(call)

    def answer(
        self, method: str, host: str, port: int, path: str, query: str, body: bytes | None
    ) -> tuple[Recorded | None, Quality]:
        """The next recorded answer at the best level; ``body`` None (it could not be
        decoded within the limit) is never compared, so ``no_body`` is the best."""
        for level in LEVELS if body is not None else LEVELS[1:]:
            index_key = (level, *key(level, method, host, port, path, query, body or b""))
            found = self._index.get(index_key)
            if found:
                turn = self._next[index_key]
                self._next[index_key] = turn + 1
                return found[turn % len(found)], level
        return None, Quality.UNMATCHED
