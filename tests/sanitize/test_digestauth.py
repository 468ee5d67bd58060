"""HTTP Digest credentials outside an Authorization header (digestauth.py)."""

from __future__ import annotations

import json

import pytest

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.digestauth import digest_spans
from tests.sanitize.posted import posted, stored_without, unchanged

SANITIZER = Sanitizer(key=b"k")
RESPONSE = "6629fae49393a05397450978507c4ef1"
NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
CNONCE = "0a4f113b"
CREDENTIALS = (
    f'Digest username="Mufasa", realm="api", nonce="{NONCE}", '
    f'uri="/dir/index.html?response=kept", qop=auth, nc=00000001, cnonce="{CNONCE}", '
    f'response="{RESPONSE}", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)

CHALLENGE = (
    f'Digest realm="api", qop="auth", algorithm=SHA-256, nonce="{NONCE}", '
    'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)


def test_response_nonce_and_cnonce_and_nothing_else_are_found() -> None:
    found = [CREDENTIALS[start:end] for start, end in digest_spans(CREDENTIALS)]
    assert found == [NONCE, CNONCE, RESPONSE]


@pytest.mark.parametrize(
    "text",
    [
        f"digest nonce={NONCE}, response={RESPONSE}",  # plain tokens, any case
        f'DIGEST response="{RESPONSE}"',
        json.dumps({"h": f'Digest username="bob", response="{RESPONSE}"'})[7:-2],  # \"
    ],
)
def test_the_response_is_found_however_it_is_written(text: str) -> None:
    assert RESPONSE in [text[start:end] for start, end in digest_spans(text)]


@pytest.mark.parametrize(
    "text",
    [
        "The Digest algorithm is SHA-256",
        "Digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",  # the Digest header
        'Digest username="bob", realm="r"',  # nothing secret in it
        CHALLENGE,  # a server's challenge: public
        f'response="{RESPONSE}", nonce="{NONCE}"',  # no Digest list
        f'uri="/a?response={RESPONSE}"',
    ],
)
def test_look_alikes_hold_nothing(text: str) -> None:
    assert list(digest_spans(text)) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (json.dumps({"request_headers": [CREDENTIALS]}), "application/json"),
        (json.dumps({"sent": {"h": CREDENTIALS}}), "application/json"),
        (f"2024-05-01 12:00:01 DEBUG sending Authorization: {CREDENTIALS}\n", "text/plain"),
        (f"request failed; credentials were {CREDENTIALS}\n", "text/plain"),
        (json.dumps({"h": CREDENTIALS})[:-3], "application/json"),  # cut short: unparsed
    ],
)
def test_digest_values_never_reach_the_tape(body: str, content_type: str) -> None:
    out = SANITIZER.sanitize(posted(body, content_type))
    stored = out.request.body.decode()
    for secret in (RESPONSE, NONCE, CNONCE):
        assert secret not in stored
    assert 'username=\\"Mufasa\\"' in stored or 'username="Mufasa"' in stored
    assert "kept" in stored


def _with_header(name: str, value: str) -> str:
    """The value of header ``name`` on a 401 answer, as stored."""
    exchange = Exchange(
        request=Request("GET", "api.test", path="/x"),
        response=Response(401, "Unauthorized", headers=((name, value),)),
    )
    out = SANITIZER.sanitize(exchange)
    assert out.response is not None
    return dict(out.response.headers)[name]


@pytest.mark.parametrize("name", ["WWW-Authenticate", "Proxy-Authenticate"])
def test_a_challenge_header_is_kept_whole(name: str) -> None:
    assert _with_header(name, CHALLENGE) == CHALLENGE


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (f"WWW-Authenticate: {CHALLENGE}\n", "text/markdown"),
        (f"Proxy-Authenticate: {CHALLENGE}\n", "text/plain"),
        (json.dumps({"headers": {"www-authenticate": CHALLENGE}}), "application/json"),
        (
            'WWW-Authenticate: Digest realm="api", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcC"\n',
            "text/plain",
        ),
    ],
)
def test_a_challenge_quoted_in_a_body_is_kept(body: str, content_type: str) -> None:
    assert unchanged(body, content_type)


def test_a_response_in_a_header_still_loses_its_secrets() -> None:
    # The same header path as a challenge: a client's response quoted in a header
    # that is not secret by name (a debug echo) still loses its hash and nonces.
    value = _with_header("X-Debug-Sent", CREDENTIALS)
    for secret in (RESPONSE, NONCE, CNONCE):
        assert secret not in value
    assert 'username="Mufasa"' in value


@pytest.mark.parametrize(
    "text",
    [
        f'Digest realm="api", nonce="{NONCE}", response="{RESPONSE}"',  # no cnonce (RFC 2069)
        f'Digest realm="api", nonce="{NONCE}", cnonce="{CNONCE}"',  # cut before the response
    ],
)
def test_a_list_with_response_or_cnonce_is_a_response(text: str) -> None:
    found = [text[start:end] for start, end in digest_spans(text)]
    assert NONCE in found


def test_ordinary_text_about_digests_is_kept_byte_for_byte() -> None:
    assert unchanged("Digest: SHA-256=abc\nThe Digest algorithm is MD5; response=200, nonce=1\n")


def test_the_detector_can_be_switched_off() -> None:
    body = json.dumps({"h": CREDENTIALS})
    assert RESPONSE.encode() in stored_without("digest", body, "application/json")
