"""The mock's fallback order (exact, no_body, no_query, unmatched) and cycling through
several recorded answers in recorded order."""

from __future__ import annotations

from shadowtape.deps.match import Matcher, Quality
from shadowtape.deps.mocks import Recorded


def _call(n: int, path: str = "/items", query: str = "a=1&b=2", body: bytes = b"") -> Recorded:
    return Recorded(
        id=f"id{n}",
        method="POST",
        host="inventory.internal",
        port=8080,
        path=path,
        query=query,
        body=body,
        status=200,
        reason="OK",
        headers=(),
        response_body=str(n).encode(),
    )


def test_fallback_order() -> None:
    matcher = Matcher([_call(1, body=b'{"x": 1, "y": 2}')])
    post = ("POST", "inventory.internal", 8080, "/items")
    found, quality = matcher.answer(*post, "b=2&a=1", b'{"y":2,"x":1}')
    assert (found and found.id, quality) == ("id1", Quality.EXACT)
    assert matcher.answer(*post, "a=1&b=2", b"other")[1] is Quality.NO_BODY
    assert matcher.answer(*post, "a=9", b"")[1] is Quality.NO_QUERY
    assert matcher.answer("POST", "inventory.internal", 8081, "/items", "", b"")[1] is (
        Quality.UNMATCHED
    )
    assert matcher.answer("GET", "inventory.internal", 8080, "/items", "", b"")[0] is None
    assert matcher.answer(*post[:3], "/other", "a=1&b=2", b"")[1] is Quality.UNMATCHED


def test_repeated_calls_cycle_in_recorded_order() -> None:
    matcher = Matcher([_call(1), _call(2), _call(3, path="/other")])
    post = ("POST", "inventory.internal", 8080, "/items", "a=1&b=2", b"")
    served = [matcher.answer(*post)[0] for _ in range(5)]
    assert [s.id if s else None for s in served] == ["id1", "id2", "id1", "id2", "id1"]


def test_a_body_that_could_not_be_decoded_is_never_compared() -> None:
    # None: the call's body decoded past the limit (a bomb); an empty recorded body must
    # not match it exactly.
    matcher = Matcher([_call(1, body=b"")])
    found, quality = matcher.answer("POST", "inventory.internal", 8080, "/items", "a=1&b=2", None)
    assert (found and found.id, quality) == ("id1", Quality.NO_BODY)
