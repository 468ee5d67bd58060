"""Bodies by content type, the text fallback, charsets and binary bodies."""

from __future__ import annotations

import orjson
import pytest

from shadowtape.sanitize.bodies import parse_content_type, sanitize_body
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy

PSEUDO = Pseudonymizer(b"k")
EMAIL = "ann@example.com"


def ctx() -> Context:
    return Context(Policy.build(), PSEUDO)


def test_parse_content_type() -> None:
    assert parse_content_type('Text/HTML; Charset="UTF-8"') == ("text/html", {"charset": "UTF-8"})
    assert parse_content_type("") == ("", {})


def test_json_is_walked_with_paths() -> None:
    c = ctx()
    body = orjson.dumps({"a": [{"password": "hunter22"}], "b": f"to {EMAIL}"})
    out = orjson.loads(sanitize_body(body, "application/json", c, "request.body"))
    assert out == {"a": [{"password": PSEUDO("hunter22")}], "b": f"to {PSEUDO(EMAIL)}"}
    assert list(c.redactions) == ["request.body$.a[0].password", "request.body$.b"]


def test_json_without_content_type_is_sniffed() -> None:
    c = ctx()
    out = sanitize_body(b'{"token": "abcdef123"}', "", c, "response.body")
    assert orjson.loads(out) == {"token": PSEUDO("abcdef123")}


def test_form_bodies() -> None:
    c = ctx()
    body = b"user=bob&password=s3cret%21pw&note=hi"
    out = sanitize_body(body, "application/x-www-form-urlencoded", c, "request.body")
    assert out.startswith(b"user=bob&password=") and out.endswith(b"&note=hi")
    assert b"s3cret" not in out
    assert list(c.redactions) == ["request.body.form.password"]


def test_json_sent_as_a_form_is_still_walked() -> None:
    out = sanitize_body(
        b'{"password": "hunter22"}', "application/x-www-form-urlencoded", ctx(), "request.body"
    )
    assert b"hunter22" not in out


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", f"<p>Hi {EMAIL}</p>"),
        ("application/xml", f"<contact>{EMAIL}</contact>"),
        ("text/plain", f"mail {EMAIL}\n"),
        ("application/json", f'{{"broken": "{EMAIL}", '),  # does not parse: still scanned
        ("image/svg+xml", f"<svg><!-- {EMAIL} --></svg>"),
    ],
)
def test_text_bodies_are_scanned(content_type: str, body: str) -> None:
    c = ctx()
    out = sanitize_body(body.encode(), content_type, c, "response.body")
    assert out == body.replace(EMAIL, PSEUDO(EMAIL)).encode()
    assert list(c.redactions) == ["response.body.text:email"]


def test_declared_charsets_round_trip() -> None:
    body = f"Zoë {EMAIL}".encode("latin-1")
    out = sanitize_body(body, "text/plain; charset=iso-8859-1", ctx(), "response.body")
    assert out == f"Zoë {PSEUDO(EMAIL)}".encode("latin-1")
    utf16 = f"mail {EMAIL}".encode("utf-16")
    assert EMAIL.encode("utf-16")[2:] not in sanitize_body(
        utf16, "text/plain; charset=utf-16", ctx(), "response.body"
    )


def test_binary_bodies_only_get_known_secrets_replaced() -> None:
    c = ctx()
    c.secret("session-123456", "request.cookie.sid")
    body = b"\x89PNG\r\n\x1a\n\xff\x00session-123456\x00" + EMAIL.encode() + b"\xfe"
    out = sanitize_body(body, "image/png", c, "response.body")
    assert out == body.replace(b"session-123456", PSEUDO("session-123456").encode())
    assert "response.body.binary:secret" in c.redactions


def test_unchanged_bodies_are_the_same_object() -> None:
    body = b'{"id": 42, "name": "Zo\xc3\xab"}'
    assert sanitize_body(body, "application/json", ctx(), "response.body") is body


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '{"to":"ann","reset_url":"https://app.test/password/reset/{t}"}'),
        ("text/html", '<a href="https://app.test/verify/{t}?utm=mail">Verify</a>'),
        ("text/plain", "Join us: https://app.test/invitations/{t}/accept\n"),
        ("text/csv", "user,link\nann,https://app.test/magic-link/{t}\n"),
    ],
)
def test_a_token_in_a_link_a_body_carries_is_replaced(content_type: str, body: str) -> None:
    """A password-reset or invitation link sent through an API (a mail provider's
    payload, a page) carries its token in the path, where no name says it is secret."""
    token = "Xq7vR2mW9pLsT4"
    ctx = Context(Policy.build(), PSEUDO)
    out = sanitize_body(body.replace("{t}", token).encode(), content_type, ctx, "request.body")
    assert token.encode() not in out
    assert body.replace("{t}", PSEUDO(token)).encode() == out
    assert ctx.redactions


def test_links_without_a_token_after_a_trigger_word_are_kept() -> None:
    body = orjson.dumps(
        {
            "links": [
                "https://app.test/reset/email",  # an endpoint: a plain word
                "https://app.test/preset/abc123def456",  # "preset" is no trigger word
                "https://cdn.test/img/9f8a7b6c5d4e.png",
            ]
        }
    )
    ctx = Context(Policy.build(), PSEUDO)
    assert sanitize_body(body, "application/json", ctx, "response.body") is body
    assert not ctx.redactions
