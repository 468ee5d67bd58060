"""Echoes of long secrets: a secret of hundreds of characters or of more than 64 KiB,
found in one place, is replaced wherever it comes back, in every encoding (raw,
URL-encoded, HTML- and JSON-escaped, base64), with one secret or with many."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.context import EXACT_ECHO, Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy

PSEUDO = Pseudonymizer(b"k")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


ENCODINGS: dict[str, Callable[[str], str]] = {
    "raw": lambda v: v,
    "url": lambda v: quote(v, safe=""),
    "url plus": quote_plus,
    "html": html.escape,
    "json": lambda v: json.dumps(v)[1:-1],
    "json utf-8": lambda v: json.dumps(v, ensure_ascii=False)[1:-1],
    "base64": _b64,
    "base64 unpadded": lambda v: _b64(v).rstrip("="),
    "base64 url-safe": lambda v: base64.urlsafe_b64encode(v.encode()).decode(),
}


def _secret(size: int, seed: int = 0) -> str:
    """A value with characters every encoding changes, ``size`` characters long."""
    unit = f'{seed:04d}<é & "x"/+? ~ 日>'
    return (unit * (size // len(unit) + 1))[:size]


@pytest.mark.parametrize("size", [100, 5_000, 70 * 1024])
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_an_echo_of_a_long_secret_is_replaced_in_every_encoding(size: int, encoding: str) -> None:
    encode = ENCODINGS[encoding]
    secret = _secret(size)
    c = Context(Policy.build(), PSEUDO)
    out = c.secret(secret, "request.header.x-api-key")
    for text in (f"[{encode(secret)}]", "lorem ipsum " * 100 + f"={encode(secret)}&"):
        found = c.text(text, "response.body.text", kind=True)
        assert encode(secret) not in found
        assert encode(out) in found


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_echoes_of_many_long_secrets_are_replaced_in_every_encoding(encoding: str) -> None:
    encode = ENCODINGS[encoding]
    secrets = [_secret(300 + i, seed=i) for i in range(EXACT_ECHO + 8)]
    c = Context(Policy.build(), PSEUDO)
    for secret in secrets:
        c.secret(secret, "request.body$.token")
    chosen = secrets[3], secrets[-1]
    text = "lorem ipsum " * 100 + "".join(f"<{encode(s)}>" for s in chosen)
    found = c.text(text, "response.body.text", kind=True)
    for secret in chosen:
        assert encode(secret) not in found
        assert encode(PSEUDO(secret)) in found


@pytest.mark.parametrize("size", [5_000, 70 * 1024])
def test_a_long_cookie_echoed_base64_in_a_response_body_is_not_stored(size: int) -> None:
    secret = _secret(size)
    body = json.dumps({"seen": _b64(secret), "url": quote(secret, safe="")}).encode()
    exchange = Exchange(
        request=Request(
            "GET", "api.example.test", path="/", headers=(("Cookie", f"session={secret}"),)
        ),
        response=Response(
            200,
            "OK",
            headers=(("Content-Type", "application/json"),),
            body=body,
            body_size=len(body),
        ),
    )
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out.response is not None
    stored = out.response.body.decode()
    assert _b64(secret) not in stored and quote(secret, safe="") not in stored
    assert secret not in dict(out.request.headers)["Cookie"]


@pytest.mark.parametrize("size", [40, 5_000, 60_000])
def test_a_secret_found_late_is_replaced_in_an_earlier_body_among_many(size: int) -> None:
    """The response names secrets (more than are searched for one by one) that the
    request body carried under innocent names: the request body is searched again."""
    secrets = [_secret(size, seed=i) for i in range(EXACT_ECHO + 8)]
    request = json.dumps({"notes": secrets[::7]}, ensure_ascii=False).encode()
    response = json.dumps({f"token{i}": value for i, value in enumerate(secrets)}).encode()
    headers = (("Content-Type", "application/json"),)
    exchange = Exchange(
        request=Request(
            "POST",
            "api.example.test",
            path="/",
            headers=headers,
            body=request,
            body_size=len(request),
        ),
        response=Response(200, "OK", headers=headers, body=response, body_size=len(response)),
    )
    out = Sanitizer(key=b"k").sanitize(exchange)
    notes = json.loads(out.request.body)["notes"]
    assert notes == [PSEUDO_K(value) for value in secrets[::7]]


PSEUDO_K = Sanitizer(key=b"k").pseudonym
