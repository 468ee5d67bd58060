"""A replaced query value is written back as it was sent: percent-encoded if it was,
as it is if it was not (a value of kilobytes beyond ASCII does not triple in size)."""

from __future__ import annotations

from urllib.parse import quote, unquote

from shadowtape import Exchange, Request
from shadowtape.sanitize import Sanitizer

SANITIZER = Sanitizer(key=b"k")


def _query(query: str) -> str:
    exchange = Exchange(request=Request("GET", "api.example.test", path="/", query=query))
    return SANITIZER.sanitize(exchange).request.query


def test_a_value_sent_unencoded_is_written_back_unencoded() -> None:
    secret = "Zq9v«é»R2xT 7mPa" * 100
    out = _query(f"password={secret}&page=2")
    value = out.removeprefix("password=").removesuffix("&page=2")
    assert value == SANITIZER.pseudonym(secret) and "%" not in value
    assert len(value) == len(secret)


def test_a_value_sent_encoded_is_written_back_encoded() -> None:
    secret = "Zq9v«é»R2xT/7mPa&x"
    out = _query(f"password={quote(secret, safe='')}&page=2")
    value = out.removeprefix("password=").removesuffix("&page=2")
    assert "%" in value and unquote(value) == SANITIZER.pseudonym(secret)
