"""Detectors: what a secret looks like in free text, and what must not be mistaken for one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowtape.sanitize.detectors import (
    BUILTIN,
    api_key_prefix,
    card_digits,
    is_card,
    is_email,
    is_jwt,
    luhn_check_digit,
    luhn_ok,
)
from tests.sanitize.planted import aws_keys, cards, emails, github_tokens, jwts, stripe_keys


def kinds_found(text: str) -> set[str]:
    return {d.kind for d in BUILTIN if d.finds(text)}


@pytest.mark.parametrize(
    ("number", "ok"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)],
)
def test_luhn(number: str, ok: bool) -> None:
    assert luhn_ok(number) is ok


@given(st.text("0123456789", min_size=1, max_size=18))
def test_the_check_digit_makes_any_payload_pass_luhn(payload: str) -> None:
    assert luhn_ok(payload + str(luhn_check_digit(payload)))


@given(cards())
def test_generated_card_numbers_are_found_with_any_separator(card: str) -> None:
    for text in (card, f"pay with {card} today", f"<td>{card}</td>", f'"{card}"'):
        assert "card" in kinds_found(text), text
    assert is_card(card)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails Luhn
        "order 14111111111111111",  # 17 digits inside a longer number
        "x4111111111111111",  # glued to a word
        "0.4111111111111111",  # a decimal
        "1700000000000000",  # a timestamp: starts with 1
        "4111 1111 1111",  # too short
    ],
)
def test_numbers_that_are_not_cards(text: str) -> None:
    assert "card" not in kinds_found(text)
    assert card_digits("41111111111111112") is None


def test_a_grouped_card_followed_by_a_number_is_still_found() -> None:
    assert "card" in kinds_found("4111 1111 1111 1111 2 items")


@given(emails())
def test_generated_emails_are_found(email: str) -> None:
    assert "email" in kinds_found(f"mail {email}.")
    assert is_email(email)


@pytest.mark.parametrize("text", ["logo@2x.png", "lodash@4.17.21", "@scope/pkg", "a@b"])
def test_things_that_look_like_emails_but_are_not(text: str) -> None:
    assert "email" not in kinds_found(text)


@given(jwts())
def test_generated_jwts_are_found(token: str) -> None:
    assert "jwt" in kinds_found(f"token={token}&x=1")
    assert is_jwt(token)


@given(st.one_of(aws_keys, stripe_keys, github_tokens))
def test_api_keys_are_found_and_keep_their_prefix(key: str) -> None:
    assert "api_key" in kinds_found(f"key: {key}\n")
    assert api_key_prefix(key) in ("AKIA", "sk_live_", "ghp_")


def test_bearer_tokens_in_text() -> None:
    assert "bearer" in kinds_found("curl -H 'Authorization: Bearer abcdefghijklmnop1234'")
    assert "bearer" not in kinds_found("send a bearer token in the header")


def test_private_key_blocks() -> None:
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    assert "private_key" in kinds_found(f"key:\n{block}\n")


@given(st.text(max_size=200))
def test_hints_never_hide_a_match(text: str) -> None:
    """may_occur is only a shortcut: when it says no, the regex finds nothing either."""
    for detector in BUILTIN:
        if not detector.may_occur(text):
            assert not detector.finds(text.replace("\x00", ""))
