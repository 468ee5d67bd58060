"""percent.py encodes exactly as urllib.parse does."""

from __future__ import annotations

from urllib.parse import quote as urllib_quote
from urllib.parse import quote_plus as urllib_quote_plus

from hypothesis import given
from hypothesis import strategies as st

from shadowtape.sanitize.percent import quote, quote_plus

SAFE = st.sampled_from(["", "/", "@:!$'()*,-._~", " +", "%", "]^\\"])


@given(st.text(), SAFE)
def test_quote_is_urllibs(value: str, safe: str) -> None:
    assert quote(value, safe) == urllib_quote(value, safe=safe)


@given(st.text(), SAFE)
def test_quote_plus_is_urllibs(value: str, safe: str) -> None:
    assert quote_plus(value, safe) == urllib_quote_plus(value, safe=safe)


def test_a_percent_sign_is_encoded_once() -> None:
    assert quote("100%/a b", safe="") == "100%25%2Fa%20b"
