from __future__ import annotations

from datetime import datetime

import pytest

from shadowtape import ErrorKind, Exchange, Request, Response
from shadowtape.exchange import header_values


def test_headers_keep_order_and_repeats_and_match_case_insensitively() -> None:
    response = Response(
        status=200, headers=(("Set-Cookie", "a=1"), ("X", "y"), ("set-cookie", "b=2"))
    )
    assert header_values(response.headers, "SET-COOKIE") == ["a=1", "b=2"]
    assert response.header("x") == "y"
    assert response.header("missing") is None


def test_url_omits_default_ports_and_keeps_the_raw_query() -> None:
    assert Request(method="GET", host="h", path="/a", query="b=1&b=2").url == "http://h/a?b=1&b=2"
    assert Request(method="GET", host="h", scheme="https", port=8443).url == "https://h:8443/"


def test_naive_recorded_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Exchange(request=Request(method="GET", host="h"), recorded_at=datetime(2026, 1, 1))


def test_replace_returns_a_copy_and_leaves_the_original() -> None:
    original = Exchange(request=Request(method="GET", host="h"))
    changed = original.replace(redactions=("request.header.authorization",))
    assert original.redactions == ()
    assert changed.redactions == ("request.header.authorization",)
    assert changed.id == original.id


def test_error_kind_parse_lists_the_valid_kinds() -> None:
    assert ErrorKind.parse("timeout") is ErrorKind.TIMEOUT
    with pytest.raises(ValueError, match="refused, reset, timeout"):
        ErrorKind.parse("bogus")
