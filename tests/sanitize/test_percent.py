"""percent.py encodes and decodes exactly as urllib.parse does."""

from __future__ import annotations

from urllib.parse import quote as urllib_quote
from urllib.parse import quote_plus as urllib_quote_plus
from urllib.parse import unquote as urllib_unquote
from urllib.parse import unquote_plus as urllib_unquote_plus

from hypothesis import given
from hypothesis import strategies as st

from shadowtape.sanitize.percent import SPARSE, quote, quote_plus, unquote

SAFE = st.sampled_from(["", "/", "@:!$'()*,-._~", " +", "%", "]^\\"])


@given(st.text(), SAFE)
def test_quote_is_urllibs(value: str, safe: str) -> None:
    assert quote(value, safe) == urllib_quote(value, safe=safe)


@given(st.text(), SAFE)
def test_quote_plus_is_urllibs(value: str, safe: str) -> None:
    assert quote_plus(value, safe) == urllib_quote_plus(value, safe=safe)


def test_text_beyond_ascii_is_encoded_byte_by_byte_as_urllib_does() -> None:
    value = "é«a/Zoë 😀%\x00~" * 50
    for safe in ("", "/", "%", "]^\\"):
        assert quote(value, safe) == urllib_quote(value, safe=safe)
    assert quote("a\ud800b", safe="") == "a%ED%A0%80b"  # a lone surrogate: its bytes


def test_a_percent_sign_is_encoded_once() -> None:
    assert quote("100%/a b", safe="") == "100%25%2Fa%20b"


ESCAPES = ["%", "%2", "%25", "%41", "%e9", "%C3%A9", "%ff", "%FE", "%c0", "%F0%9F%98%80"]
#: Every byte UTF-8 never holds, escaped: no marker is free (the fallback path).
EVERY_MARKER = "%fa%fb%fc%fd%fe%ff%f5%f6%f7%f8%f9%c0%c1"
PIECES = st.sampled_from([*ESCAPES, EVERY_MARKER, "=", "+", "\\", "a", "é", "\udcff", "😀", "\n"])


@given(st.lists(PIECES | st.text(max_size=3), max_size=12).map("".join))
def test_unquote_is_urllibs(value: str) -> None:
    assert unquote(value) == urllib_unquote(value)
    assert unquote(value, plus=True) == urllib_unquote_plus(value)


@given(st.lists(PIECES | st.text(max_size=3), max_size=12))
def test_unquote_of_few_escapes_in_a_long_text_is_urllibs(pieces: list[str]) -> None:
    """Escapes far apart (one per SPARSE characters or fewer) are decoded one by one."""
    value = ("x" * SPARSE).join(pieces)
    assert unquote(value) == urllib_unquote(value)
    assert unquote(value, plus=True) == urllib_unquote_plus(value)


def test_unquote_of_a_megabyte_of_escapes_is_whole_text_work() -> None:
    dense = "%25" * 350_000 + "%"  # one stray "%": the marked path
    assert unquote(dense) == "%" * 350_001
    crafted = EVERY_MARKER + "=%41%" * 1000
    assert unquote(crafted) == urllib_unquote(crafted)
