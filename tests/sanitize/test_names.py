"""Which names look secret: word runs, globs, header words, and the hint shortcut."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowtape.sanitize.names import HeaderMatcher, NameMatcher, normalise, words
from shadowtape.sanitize.rules import SECRET_FIELDS

DEFAULT = NameMatcher(SECRET_FIELDS)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("accessToken", ("access", "token")),
        ("ACCESS_TOKEN", ("access", "token")),
        ("x-api-key", ("x", "api", "key")),
        ("APIKey", ("api", "key")),
        ("card2", ("card", "2")),
    ],
)
def test_words(name: str, expected: tuple[str, ...]) -> None:
    assert words(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "Password",
        "user_password",
        "passwordHash",
        "access_token",
        "accessToken",
        "refresh-token",
        "client_secret",
        "api_key",
        "apiKey",
        "API-KEY",
        "apikey",
        "ssn",
        "card_number",
        "cardNumber",
        "cvv",
        "iban",
        "jsessionid",
        "X-Amz-Signature",
        # Issue 18: one list for every format.
        "key",
        "code",
        "db_pass",
        "AccountKey",
        "csrf",
        "_xsrf",
        "code_verifier",
        "Ddb.password",
    ],
)
def test_secret_names(name: str) -> None:
    assert DEFAULT.matches(name)


@pytest.mark.parametrize(
    "name",
    [
        "id",
        "name",
        "tokens_used",
        "classname",
        "discard",
        "keyboard",
        "secretary",
        "pins",
        # "=key" and "=code" are whole names only.
        "sort_key",
        "status_code",
        "zip_code",
        "keys",
    ],
)
def test_ordinary_names(name: str) -> None:
    assert not DEFAULT.matches(name)


def test_globs_match_the_normalised_name() -> None:
    matcher = NameMatcher(["*_pin", "national-id"])
    assert matcher.matches("card_pin")
    assert matcher.matches("cardPin")
    assert matcher.matches("National_ID")
    assert not matcher.matches("pin")
    assert normalise("Card-PIN") == "card_pin"


@given(st.text(max_size=30))
def test_hints_never_miss_a_matching_name(name: str) -> None:
    if DEFAULT.matches(name):
        assert DEFAULT.may_occur(name.lower())
        assert DEFAULT.in_json_keys(f'{{"{name}": 1}}') or "\\" in name or '"' in name


def test_json_key_check_ignores_hints_in_values() -> None:
    assert not DEFAULT.in_json_keys('{"shipping": "pin code", "note": "token bucket"}')
    assert DEFAULT.in_json_keys('{"a": {"accessToken": "x"}}')


def test_headers_match_by_contained_word_and_exact_name() -> None:
    matcher = HeaderMatcher(["authorization", "x-api-key"], ["token", "key"])
    assert matcher.matches("Authorization")
    assert matcher.matches("X_API_KEY")
    assert matcher.matches("X-Cache-Key")
    assert matcher.matches("X-Auth-Token")
    assert not matcher.matches("Content-Type")


@pytest.mark.parametrize(
    "name",
    ["token_type", "cookieName", "session_timeout", "authMode", "card_brand", "password_hint"],
)
def test_words_after_a_secret_word_that_describe_it_are_not_secret(name: str) -> None:
    assert not DEFAULT.matches(name)


@pytest.mark.parametrize("name", ["password_hash", "tokenValue", "pin2", "new_password_again"])
def test_words_after_a_secret_word_that_keep_it_secret(name: str) -> None:
    assert DEFAULT.matches(name)
