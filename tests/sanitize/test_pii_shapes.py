"""PII written in other shapes: an e-mail address whose "@" is HTML-escaped, card
numbers grouped with dots; and what must not be taken for them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.detectors import BUILTIN, luhn_check_digit
from tests.sanitize.posted import posted

SANITIZER = Sanitizer(key=b"k")
ADDRESS = "jane.doe@corp.io"


def _card_finds(text: str) -> bool:
    return any(d.kind == "card" and d.finds(text) for d in BUILTIN)


@pytest.mark.parametrize("at", ["&#64;", "&#064;", "&#x40;", "&#X40;", "&#x040;", "&commat;"])
@pytest.mark.parametrize(
    ("template", "content_type"),
    [
        ("<p>Contact: <a>{}</a></p>", "text/html"),
        ('{{"html": "<b>{}</b>"}}', "application/json"),
        ("reply to {} today", "text/plain"),
    ],
)
def test_an_address_with_its_at_escaped_never_reaches_the_tape(
    at: str, template: str, content_type: str
) -> None:
    escaped = ADDRESS.replace("@", at)
    out = SANITIZER.sanitize(posted(template.format(escaped), content_type))
    stored = out.request.body.decode()
    assert escaped not in stored and "jane.doe" not in stored
    assert at in stored  # written back as it came
    assert any(r.endswith(":email") or "$" in r for r in out.redactions)


def test_the_escaped_address_gets_the_pseudonym_of_the_plain_one() -> None:
    body = f"<p>{ADDRESS.replace('@', '&#64;')}</p><p>{ADDRESS}</p>"
    stored = SANITIZER.sanitize(posted(body, "text/html")).request.body.decode()
    escaped, plain = stored[3:-4].split("</p><p>")
    assert escaped.replace("&#64;", "@") == plain != ADDRESS


@pytest.mark.parametrize(
    "body",
    [
        "&#64; &#x40; &commat;",  # no address around them
        "icon&#64;2x.png",  # a file name, not an address
        "Q&amp;A&#64; noon",
        "user&#64;localhost",  # no domain with a dot
    ],
)
def test_escaped_at_signs_without_an_address_are_kept(body: str) -> None:
    out = SANITIZER.sanitize(posted(body, "text/html"))
    assert out.request.body == body.encode()


def _luhn(payload: str) -> str:
    return payload + str(luhn_check_digit(payload))


@pytest.mark.parametrize(
    "card",
    ["4111.1111.1111.1111", "5500.0000.0000.0004", "3782.822463.10005"],  # 4-4-4-4, 4-6-5
)
@pytest.mark.parametrize(
    ("template", "content_type"),
    [("paid with {} today", "text/plain"), ('{{"card": "x", "note": "{}"}}', "application/json")],
)
def test_a_card_grouped_with_dots_never_reaches_the_tape(
    card: str, template: str, content_type: str
) -> None:
    out = SANITIZER.sanitize(posted(template.format(card), content_type))
    stored = out.request.body.decode()
    assert card not in stored and card.replace(".", "") not in stored
    assert out.redactions


@pytest.mark.parametrize(
    "text",
    [
        "4111.1111.1111.1112",  # fails Luhn
        "4111.1111.1111.1111.1",  # a fifth group: a version or an OID
        "1.4111.1111.1111.1111",
        "4111.1111.1111.111",  # groups of other sizes
        "41.1111.1111.111111",
        "4111111.111111111",
        "10.0.19041.1234",  # a Windows build
        "192.168.100.200",
        "2.16.840.1.113883.3.4",  # an OID
        "3.14159265358979",  # a decimal
        "4111.1111.1111.1111x",
    ],
)
def test_dotted_numbers_that_are_no_card_stay(text: str) -> None:
    assert not _card_finds(text)
    out = SANITIZER.sanitize(posted(f"v {text} ok"))
    assert out.request.body == f"v {text} ok".encode()


@given(
    st.lists(st.integers(1, 6), min_size=2, max_size=7).filter(
        lambda sizes: sizes not in ([4, 4, 4, 4], [4, 6, 5]) and sum(sizes) >= 13
    ),
    st.randoms(use_true_random=False),
)
def test_dotted_digits_in_any_other_grouping_are_no_card(sizes: list[int], rnd: object) -> None:
    digits = _luhn("".join(str(rnd.randint(0, 9)) for _ in range(sum(sizes) - 1)))  # type: ignore[attr-defined]
    groups, at = [], 0
    for size in sizes:
        groups.append(digits[at : at + size])
        at += size
    assert not _card_finds("n " + ".".join(groups) + " n")


def test_a_pseudonym_of_a_dotted_card_is_stable_when_sanitized_again() -> None:
    once = SANITIZER.sanitize(posted(json.dumps({"n": "4111.1111.1111.1111"}), "application/json"))
    twice = SANITIZER.sanitize(posted(once.request.body.decode(), "application/json"))
    assert twice.request.body == once.request.body


def test_an_ssn_with_blanks_is_left_alone() -> None:
    # Nine digits in three groups with blanks are too often something else (an order
    # number, a phone number's parts): not promised, see docs/sanitizing.md.
    out = SANITIZER.sanitize(posted("ref 123 45 6789"))
    assert out.request.body == b"ref 123 45 6789"
