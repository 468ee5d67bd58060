"""Headers: credentials keep their scheme, cookies keep their names and attributes."""

from __future__ import annotations

import base64

from shadowtape.sanitize.context import Context
from shadowtape.sanitize.headers import cookies, credential, sanitize, set_cookies
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy, Rules

PSEUDO = Pseudonymizer(b"k")


def ctx(rules: Rules | None = None) -> Context:
    return Context(Policy.build(rules), PSEUDO)


def test_authorization_keeps_its_scheme() -> None:
    c = ctx()
    out = credential("Bearer abc.def-123456", c, "request.header.authorization")
    assert out == f"Bearer {PSEUDO('abc.def-123456')}"
    assert list(c.redactions) == ["request.header.authorization"]
    assert credential("sometoken123", c, "x") == PSEUDO("sometoken123")


def test_basic_password_is_searched_for_elsewhere() -> None:
    c = ctx()
    encoded = base64.b64encode(b"ann:correct-horse").decode()
    credential(f"Basic {encoded}", c, "request.header.authorization")
    assert c.text("echo correct-horse", "request.body.text", kind=True) == (
        f"echo {PSEUDO('correct-horse')}"
    )


def test_cookie_names_and_spacing_are_kept() -> None:
    c = ctx()
    out = cookies('sid=abc123xyz; theme=dark;  quoted="q-value-1"', c, "request.cookie")
    assert (
        out == f'sid={PSEUDO("abc123xyz")}; theme={PSEUDO("dark")};  quoted="{PSEUDO("q-value-1")}"'
    )
    assert list(c.redactions) == [
        "request.cookie.sid",
        "request.cookie.theme",
        "request.cookie.quoted",
    ]


def test_set_cookie_keeps_attributes_and_unfolds() -> None:
    c = ctx()
    value = "sid=abc123xyz; Path=/; Expires=Wed, 21 Oct 2015 07:28:00 GMT; HttpOnly"
    assert set_cookies(value, c, "response.set-cookie") == value.replace(
        "abc123xyz", PSEUDO("abc123xyz")
    )
    folded = "a=one111; Path=/, b=two222; Secure"
    assert set_cookies(folded, c, "response.set-cookie") == (
        f"a={PSEUDO('one111')}; Path=/, b={PSEUDO('two222')}; Secure"
    )


def test_secret_headers_other_headers_and_the_allow_list() -> None:
    c = ctx(Rules(allow_headers=("x-cache-key",)))
    headers = [
        ("X-Api-Key", "key-123456"),
        ("X-Session-Id", "sess-987654"),
        ("X-Cache-Key", "cache-1"),
        ("WWW-Authenticate", 'Bearer realm="api"'),
        ("Access-Control-Allow-Credentials", "true"),
        ("Strict-Transport-Security", "max-age=63072000"),
        ("User-Agent", "curl/8.0"),
        ("X-Contact", "mail ann@example.com please"),
        ("Location", "/cb?access_token=tok-123456&x=1"),
    ]
    sanitize(headers, c, "response")
    out = dict(headers)
    assert out["X-Api-Key"] == PSEUDO("key-123456")
    assert out["X-Session-Id"] == PSEUDO("sess-987654")
    assert out["X-Cache-Key"] == "cache-1"
    assert out["WWW-Authenticate"] == 'Bearer realm="api"'
    assert out["Access-Control-Allow-Credentials"] == "true"
    assert out["Strict-Transport-Security"] == "max-age=63072000"
    assert out["User-Agent"] == "curl/8.0"
    assert out["X-Contact"] == f"mail {PSEUDO('ann@example.com')} please"
    assert out["Location"] == f"/cb?access_token={PSEUDO('tok-123456')}&x=1"
    assert set(c.redactions) == {
        "response.header.x-api-key",
        "response.header.x-session-id",
        "response.header.x-contact",
        "response.header.location",
    }


def test_a_cookie_value_is_echoed_into_later_headers() -> None:
    c = ctx()
    headers = [("Cookie", "sid=s3cr3t-session"), ("Referer", "https://a.test/x/s3cr3t-session")]
    sanitize(headers, c, "request")
    assert headers[1][1] == f"https://a.test/x/{PSEUDO('s3cr3t-session')}"
