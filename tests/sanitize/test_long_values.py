"""Long secret values cost the work budget what they cost in time, and ordinary long
values stay well within it: a SAML form post, a long JWT, a 64 KiB cookie are
sanitized, not dropped."""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import quote_plus

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.context import VALUE_BEYOND_ASCII_PER_KIB, VALUE_PER_KIB, Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy

SANITIZER = Sanitizer(key=b"long-values-key")
DROPPED = ("dropped", "wholesale")


def _dropped(exchange: Exchange) -> list[str]:
    return [where for where in exchange.redactions if any(word in where for word in DROPPED)]


def _request(*, headers: tuple[tuple[str, str], ...] = (), body: bytes = b"") -> Exchange:
    return Exchange(
        request=Request(
            "POST", "sso.example.test", path="/acs", headers=headers, body=body, body_size=len(body)
        ),
        response=Response(200, "OK"),
    )


def test_a_long_value_is_paid_for_by_its_length() -> None:
    c = Context(Policy.build(), Pseudonymizer(b"k"))
    c.secret("a" * 64 * 1024, "request.header.x-token")
    assert c.work >= 64 * VALUE_PER_KIB
    before = c.work
    c.secret("é" * 64 * 1024, "request.header.x-other")
    assert c.work - before >= 64 * VALUE_BEYOND_ASCII_PER_KIB


def test_a_saml_response_form_post_of_50_kb_is_kept() -> None:
    assertion = (
        "<samlp:Response><saml:Assertion><saml:AttributeStatement>"
        + "".join(
            f'<saml:Attribute Name="group{i}"><saml:AttributeValue>{secrets.token_hex(16)}'
            "</saml:AttributeValue></saml:Attribute>"
            for i in range(300)
        )
        + "</saml:AttributeStatement></saml:Assertion></samlp:Response>"
    )
    saml = base64.b64encode(assertion.encode()).decode()
    assert 45_000 < len(saml) < 60_000
    body = f"SAMLResponse={quote_plus(saml)}&RelayState=%2Fhome".encode()
    headers = (("Content-Type", "application/x-www-form-urlencoded"),)
    out = SANITIZER.sanitize(_request(headers=headers, body=body))
    assert not _dropped(out)
    assert out.request.body and quote_plus(saml).encode() not in out.request.body
    assert b"&RelayState=" in out.request.body  # a return path: kept (relaystate.py)


def test_a_long_jwt_in_a_header_is_kept() -> None:
    claims = {"sub": "user-1", "groups": [secrets.token_hex(8) for _ in range(400)]}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    jwt = f"eyJhbGciOiJSUzI1NiJ9.{payload}.{secrets.token_urlsafe(256)}"
    assert len(jwt) > 8000
    out = SANITIZER.sanitize(_request(headers=(("Authorization", f"Bearer {jwt}"),)))
    assert not _dropped(out)
    value = dict(out.request.headers)["Authorization"]
    assert value.startswith("Bearer eyJhbGciOiJSUzI1NiJ9.") and jwt not in value


def test_a_64_kib_cookie_is_kept() -> None:
    session = secrets.token_urlsafe(48 * 1024)[: 64 * 1024 - 16]
    out = SANITIZER.sanitize(_request(headers=(("Cookie", f"session={session}; theme=dark"),)))
    assert not _dropped(out)
    cookie = dict(out.request.headers)["Cookie"]
    assert session not in cookie and cookie.startswith("session=") and "; theme=" in cookie


def test_a_long_secret_beyond_ascii_in_a_json_body_is_kept() -> None:
    note = "Mot de passe : «" + "é" * 20_000 + "» 日本語" * 2_000
    body = json.dumps({"user": "ann", "password": note}, ensure_ascii=False).encode()
    headers = (("Content-Type", "application/json; charset=utf-8"),)
    out = SANITIZER.sanitize(_request(headers=headers, body=body))
    assert not _dropped(out)
    stored = json.loads(out.request.body)
    assert stored["user"] == "ann" and stored["password"] != note
    assert len(stored["password"]) == len(note)
