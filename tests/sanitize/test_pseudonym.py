"""Pseudonyms: keyed, deterministic, never the input, and shaped like the input."""

from __future__ import annotations

import re
import string

from hypothesis import given
from hypothesis import strategies as st

from shadowtape.sanitize.detectors import holds_card, is_email, luhn_ok
from shadowtape.sanitize.pseudonym import SHAPED_MAX, Pseudonymizer, _hex_alphabet, _put_back
from tests.sanitize.planted import aws_keys, cards, emails, jwts, stripe_keys

A = Pseudonymizer(b"key-a")
B = Pseudonymizer(b"key-b")


@given(st.text(min_size=1, max_size=60))
def test_never_the_input_and_stable_under_one_key(value: str) -> None:
    out = A(value)
    assert out != value
    assert out == Pseudonymizer(b"key-a")(value)


@given(st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=40))
def test_a_different_key_gives_a_different_pseudonym(value: str) -> None:
    assert A(value) != B(value)


@given(st.text(min_size=1, max_size=40))
def test_letters_and_digits_keep_their_class(value: str) -> None:
    out = A(value)
    generic = out == A._shape(value, value, "text")  # not an e-mail, a card...
    hexlike = _hex_alphabet(value) is not None  # hex stays hex: digits may become a-f
    if generic and not hexlike and any(c.isalnum() for c in value):
        # (punctuation alone gets a hex digest)
        assert len(out) == len(value)
        for before, after in zip(value, out, strict=True):
            if before.isascii() and before.isdigit():
                assert after.isdigit()
            elif not before.isalnum():
                assert after == before


@given(emails())
def test_an_email_stays_a_valid_email(email: str) -> None:
    out = A(email)
    assert is_email(out)
    assert out.rsplit(".", 1)[1] == email.rsplit(".", 1)[1]  # the TLD is kept
    assert A(email.upper()).lower() == out.lower()  # case does not change the pseudonym


@given(cards())
def test_a_card_stays_16_digits_that_fail_luhn(card: str) -> None:
    out = A(card)
    digits = re.sub(r"[ .\-]", "", out)
    assert len(digits) == 16 and digits.isdigit()
    assert not luhn_ok(digits)
    assert re.sub(r"\d", "0", out) == re.sub(r"\d", "0", card)  # separators in place
    # same digits, same pseudonym
    assert A(card.replace(" ", "").replace("-", "").replace(".", "")) == digits


@given(jwts())
def test_a_jwt_stays_three_base64url_parts(token: str) -> None:
    out = A(token)
    parts = out.split(".")
    assert len(parts) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]*", part) for part in parts)
    assert parts[0] == token.split(".")[0]  # the header holds no secret
    assert [len(p) for p in parts] == [len(p) for p in token.split(".")]


@given(st.one_of(aws_keys, stripe_keys))
def test_api_keys_keep_their_prefix(key: str) -> None:
    out = A(key)
    assert out[:4] == key[:4] and len(out) == len(key)


def test_hex_stays_hex_and_uuids_stay_uuids() -> None:
    uuid = "550e8400-e29b-41d4-a716-446655440000"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", A(uuid))
    assert re.fullmatch(r"[0-9A-F]{10}", A("DEADBEEF42"))


@given(st.integers(-(10**18), 10**18))
def test_numbers_keep_sign_and_digit_count(value: int) -> None:
    out = A.number(value)
    if value == 0:
        assert out == 0
        return
    assert (out < 0) == (value < 0) or out == 0
    if abs(value) >= 10:
        assert len(str(abs(out))) == len(str(abs(value)))
        assert out != value


def test_binary_digest_is_keyed() -> None:
    assert A.digest(b"\x00\x01") != B.digest(b"\x00\x01")
    assert A.digest(b"\x00\x01") == A.digest(b"\x00\x01")


def test_percent_escapes_stay_valid() -> None:
    out = A("http%3A%2F%2Fwww.example.com%2Fpath")
    assert re.fullmatch(r"[a-z]{4}%3A%2F%2F[a-z]{3}\.[a-z]{7}\.[a-z]{3}%2F[a-z]{4}", out)


def test_a_pseudonym_never_holds_a_card_number() -> None:
    """Digit runs are shaped at random; one in twenty would pass Luhn and then be taken
    for a card by the next scan, so two keys would redact different places."""
    values = [f"ref {4000000000000000 + i * 7919}" for i in range(400)]
    values = [v for v in values if not holds_card(v)]
    assert len(values) > 300
    for key in (b"one", b"two"):
        pseudonymize = Pseudonymizer(key)
        assert not [v for v in values if holds_card(pseudonymize(v))]


def test_a_value_too_long_to_shape_gets_keyed_letters() -> None:
    block = "-----BEGIN RSA PRIVATE KEY-----\n" + "MIIEowIBAAKCAQEA0Z3VS5JJcds3\n" * 3000
    assert len(block) > SHAPED_MAX
    out = Pseudonymizer(b"k")(block)
    # The first character is punctuation, kept; then 32 keyed letters, nothing else.
    assert out[0] == "-" and len(out) == 33 and out[1:].isascii()
    assert out[1:].isalpha() and out[1:].islower() and "BEGIN" not in out
    assert out == Pseudonymizer(b"k")(block)  # keyed, deterministic
    assert out != Pseudonymizer(b"other")(block) and out != Pseudonymizer(b"k")(block + "x")
    short = block[: SHAPED_MAX - 1]
    assert len(Pseudonymizer(b"k")(short)) == len(short)  # shaped up to the limit


def test_a_long_value_keeps_only_a_leading_punctuation_mark() -> None:
    assert Pseudonymizer(b"k")("/" + "a" * SHAPED_MAX)[0] == "/"  # a path stays a path
    out = Pseudonymizer(b"k")("a" * (SHAPED_MAX + 1))
    assert len(out) == 32 and out.isalpha()


def test_long_values_are_kept_in_a_small_cache_of_their_own() -> None:
    """A recorder sees values an attacker chooses: thousands of cached megabytes would
    stay in memory, but a long token repeated in every request should be shaped once."""
    pseudonymize = Pseudonymizer(b"k")
    for i in range(100):
        pseudonymize(f"{i:04d}" + "a" * 2048)
    pseudonymize("short value")
    pseudonymize("b" * (SHAPED_MAX + 1))  # its long form is not cached at all
    assert pseudonymize._cached.cache_info().currsize == 1  # type: ignore[attr-defined]
    assert pseudonymize._cached_long.cache_info().currsize == 64  # type: ignore[attr-defined]
    assert pseudonymize("0099" + "a" * 2048) == Pseudonymizer(b"k")("0099" + "a" * 2048)


@given(st.text(max_size=40), st.data())
def test_characters_beyond_ascii_are_put_back_in_their_places(
    marked: str, data: st.DataObject
) -> None:
    shaped = data.draw(
        st.text(st.characters(max_codepoint=127), min_size=len(marked), max_size=len(marked))
    )
    expected = "".join(m if not m.isascii() else s for m, s in zip(marked, shaped, strict=True))
    assert _put_back(shaped, marked=marked) == expected


@given(st.text(min_size=1, max_size=40))
def test_letters_beyond_ascii_become_lower_case_letters_and_the_rest_stays(value: str) -> None:
    out = A._shape(value, value, "text")
    # A value with no letter or digit has nothing to shape and becomes a hex digest, as
    # long as the value when that is eight characters or more (":::::::\x80").
    if any(char.isalnum() for char in value):
        assert len(out) == len(value)
        for before, after in zip(value, out, strict=True):
            if not before.isascii():
                assert after == before if not before.isalnum() else after in string.ascii_lowercase
