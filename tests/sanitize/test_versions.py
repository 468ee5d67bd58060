"""Dotted numbers a version label names are build numbers, not cards (versions.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.detectors import luhn_check_digit
from shadowtape.sanitize.versions import LOOK_BACK_COST, labelled, names_version, unlabelled
from tests.sanitize.posted import posted, unchanged

SANITIZER = Sanitizer(key=b"versions-test")
#: A Luhn-valid 4-4-4-4 number (Discover's test card) that is also a build number.
BUILD = "6011.0000.0000.0004"
AMEX = "3782.822463.10005"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (f"version {BUILD}\n", "text/plain"),
        (f"Version: {BUILD}\n", "text/plain"),
        (f"app_version={BUILD}\n", "text/plain"),
        (f"Build #{BUILD} passed\n", "text/plain"),
        (f"ver. {BUILD}, rev {BUILD}, fw {BUILD}, v {BUILD}\n", "text/plain"),
        (f"firmwareVersion {BUILD}; build_no: {AMEX}\n", "text/plain"),
        (f"<Version>{BUILD}</Version><build>{BUILD}</build>", "application/xml"),
        (f'<meta name="generator" content="x" data-release="{BUILD}">', "text/html"),
        (f'{{"version": "{BUILD}", "n": 1', "application/json"),  # cut short: read as text
        (
            json.dumps({"version": BUILD, "FileVersion": BUILD, "build_no": BUILD}),
            "application/json",
        ),
        (f"release={BUILD}&buildNumber={BUILD}", "application/x-www-form-urlencoded"),
    ],
)
def test_a_labelled_build_number_is_kept(body: str, content_type: str) -> None:
    assert unchanged(body, content_type)


def test_a_labelled_build_number_in_a_query_is_kept() -> None:
    request = Request("GET", "api.test", path="/update", query=f"os=win&build={BUILD}")
    out = SANITIZER.sanitize(Exchange(request=request, response=Response(200, "OK")))
    assert out.request.query == f"os=win&build={BUILD}"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (f"paid with {BUILD} today\n", "text/plain"),
        (f"card {BUILD}\n", "text/plain"),
        (f"conversion {BUILD}\n", "text/plain"),  # "version" inside a word is no label
        (f"the version of the card is {BUILD}\n", "text/plain"),  # a word in between
        (f"version {BUILD.replace('.', ' ')}\n", "text/plain"),  # blanks: a card anyway
        (f"version {BUILD.replace('.', '-')}\n", "text/plain"),
        (f"version {BUILD.replace('.', '')}\n", "text/plain"),
        (json.dumps({"n": BUILD, "pan": BUILD, "conversion": BUILD}), "application/json"),
        (json.dumps({"version": BUILD.replace(".", " ")}), "application/json"),
        (f"n={BUILD}&card={BUILD}", "application/x-www-form-urlencoded"),
    ],
)
def test_the_same_number_elsewhere_is_still_a_card(body: str, content_type: str) -> None:
    out = SANITIZER.sanitize(posted(body, content_type))
    stored = out.request.body.decode()
    for form in (BUILD, BUILD.replace(".", " "), BUILD.replace(".", "-"), "6011000000000004"):
        assert form not in stored
    assert out.redactions


@given(
    st.sampled_from(["paid", "card", "number", "pan", "visa", "conversion", "vv", "pre"]),
    st.sampled_from([" ", ": ", "=", '": "', ">"]),
    st.text("0123456789", min_size=14, max_size=14),
    st.sampled_from("23456"),
)
def test_a_dotted_card_after_any_other_word_is_found(
    word: str, separator: str, digits: str, first: str
) -> None:
    payload = first + digits
    number = payload + str(luhn_check_digit(payload))
    dotted = ".".join(number[i : i + 4] for i in range(0, 16, 4))
    out = SANITIZER.sanitize(posted(f"x {word}{separator}{dotted} y"))
    assert dotted not in out.request.body.decode()


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("version ", True),
        ('{"FileVersion": "', True),
        ("é ver. ", True),  # text beyond ASCII
        ("build_no:", True),
        ("card ", False),
        ("conversion ", False),
        ("version" + " " * 7, False),  # too far
        ("", False),
    ],
)
def test_labelled(before: str, expected: bool) -> None:
    assert labelled(before + BUILD, len(before)) is expected
    assert labelled(before + AMEX, len(before)) is expected
    assert not labelled(before + BUILD.replace(".", " "), len(before))  # dotted only


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("version", BUILD, True),
        ("FileVersion", BUILD, True),
        ("build_no", BUILD, True),
        ("fw", BUILD, True),
        ("conversion", BUILD, False),
        ("version", "6011 0000 0000 0004", False),
        ("version", "6011000000000004", False),  # no dot: not a version's shape
        ("card", BUILD, False),
    ],
)
def test_names_version(name: str, value: str, expected: bool) -> None:
    assert names_version(name, value) is expected


def test_only_dotted_candidates_are_looked_back_from_and_each_is_paid_for() -> None:
    text = f"version {BUILD} version 4111 1111 1111 1111 card {BUILD}"
    spans = [(text.index(BUILD), text.index(BUILD) + len(BUILD))]
    spans.append((text.index("4111 "), text.index("4111 ") + 19))
    spans.append((text.rindex(BUILD), len(text)))
    spent: list[int] = []
    assert unlabelled(text, spans, spent.append) == spans[1:]  # the labelled one goes
    assert sum(spent) == 2 * LOOK_BACK_COST  # two dotted ones, paid before
