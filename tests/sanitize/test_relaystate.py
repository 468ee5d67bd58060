"""SAML RelayState: a return URL is kept and scanned as a URL, opaque state is replaced
(relaystate.py), in a form body, a query string and a hidden HTML input alike."""

from __future__ import annotations

import base64
import random
from urllib.parse import quote

import pytest

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.relaystate import holds_return_url
from tests.sanitize.posted import posted, unchanged

SANITIZER = Sanitizer(key=b"relay-state-test")
TOKEN = "Zk3j9Xa0bQ7LmN2pR5tV"
OPAQUE = [
    "ss:mem:4f1c2a9b8e7d6c5b4a39281706f5e4d3",  # Shibboleth
    "4f1c2a9b8e7d6c5b4a39281706f5e4d3",
    "Qx7mVb2Lk9Rz4TaPw1sD",
    "/Zk3j9Xa0bQ7LmN2pR5tVw==",  # base64 that starts with "/"
    "/k3J9sAbcd/Ef9h2kLm",
    "dashboard",  # no "/": a word is as likely to be a key as a page
    f"/password/reset/{TOKEN}",  # a segment that reads as no word: replaced whole
]
RETURN_URLS = [
    "/dashboard",
    "/",
    "/orders/1234/edit",
    "/app/v2/userSettings?tab=billing#top",
    "/static/app.js",
    "/orders/3f9a1c2b-7d6e-4f5a-8b9c-0d1e2f3a4b5c",
    "https://sp.example.com/app/home",
]


@pytest.mark.parametrize("value", RETURN_URLS)
def test_a_return_url_is_read_as_one(value: str) -> None:
    assert holds_return_url("RelayState", value)
    assert holds_return_url("relay_state", value)


@pytest.mark.parametrize("value", OPAQUE)
def test_opaque_state_is_not(value: str) -> None:
    assert not holds_return_url("RelayState", value)


def test_only_relay_state_may_hold_a_return_url() -> None:
    assert not holds_return_url("state", "/dashboard")
    assert not holds_return_url("SAMLResponse", "/dashboard")


def test_random_base64_that_starts_with_a_slash_is_opaque() -> None:
    # One standard base64 value in 64 starts with "/": from 16 bytes on, none of these
    # reads as words in every segment (a fixed seed: the same values every run).
    rnd = random.Random(18)
    for size in (16, 24, 32):
        for _ in range(2000):
            raw = bytes([rnd.randrange(0xFC, 0x100)]) + rnd.randbytes(size - 1)
            value = base64.b64encode(raw).decode()
            assert value.startswith("/")
            assert not holds_return_url("RelayState", value), value


def _form(value: str) -> str:
    body = f"SAMLResponse=PHNhbWw%2B&RelayState={quote(value, safe='')}"
    out = SANITIZER.sanitize(posted(body, "application/x-www-form-urlencoded"))
    return out.request.body.decode()


def _query(value: str) -> str:
    request = Request("GET", "sp.test", path="/sso", query=f"RelayState={quote(value, safe='')}")
    out = SANITIZER.sanitize(Exchange(request=request, response=Response(200, "OK")))
    return out.request.query


def _html(value: str) -> str:
    body = f'<form><input type="hidden" name="RelayState" value="{value}"></form>'
    out = SANITIZER.sanitize(posted(body, "text/html"))
    return out.request.body.decode()


PLACES = {"form": _form, "query": _query, "html": _html}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("value", RETURN_URLS)
def test_a_return_url_is_kept(place: str, value: str) -> None:
    stored = PLACES[place](value)
    assert value in stored or quote(value, safe="") in stored


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("value", OPAQUE)
def test_opaque_state_is_replaced(place: str, value: str) -> None:
    stored = PLACES[place](value)
    assert value not in stored and quote(value, safe="") not in stored
    assert "RelayState=" in stored or 'name="RelayState"' in stored


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize(
    "value",
    [
        f"/callback?token={TOKEN}&tab=1",
        f"/callback?tab=1&state={TOKEN}",  # an OAuth parameter, not a field name
        f"https://sp.example.com/app?access_token={TOKEN}",
        f"https://bob:{TOKEN}@sp.example.com/app",
    ],
)
def test_a_secret_in_a_kept_return_url_is_still_replaced(place: str, value: str) -> None:
    stored = PLACES[place](value)
    assert TOKEN not in stored
    assert "sp.example.com" in stored or "callback" in stored


def test_a_form_post_page_keeps_its_return_path_and_loses_its_assertion() -> None:
    body = (
        '<html><body onload="document.forms[0].submit()">'
        '<form method="post" action="https://sp.example/acs">'
        '<input type="hidden" name="SAMLResponse" value="PHNhbWxwOlJlc3BvbnNlIHhtbG5z"/>'
        '<input type="hidden" name="RelayState" value="/dashboard"/>'
        "</form></body></html>"
    )
    out = SANITIZER.sanitize(posted(body, "text/html")).request.body.decode()
    assert 'name="RelayState" value="/dashboard"' in out
    assert "PHNhbWxwOlJlc3BvbnNlIHhtbG5z" not in out


def test_the_brief_example_is_kept_byte_for_byte() -> None:
    body = '<form><input type="hidden" name="RelayState" value="/dashboard"></form>'
    assert unchanged(body, "text/html")
    assert unchanged("RelayState=%2Fdashboard", "application/x-www-form-urlencoded")
