"""Headers: credentials keep their scheme, cookies keep their names and attributes."""

from __future__ import annotations

import base64

import orjson

from shadowtape import ErrorKind, Exchange, ExchangeError, Request
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.headers import cookies, credential, quoted_lines, sanitize, set_cookies
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy, Rules
from shadowtape.sanitize.sanitizer import TOO_DENSE

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


def test_detectors_and_echo_run_over_allow_listed_headers() -> None:
    c = ctx()
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P"
    headers = [
        ("Authorization", "Bearer Zq9vR2xT7mPa4KwE8sLd"),
        (
            "WWW-Authenticate",
            'Bearer realm="api", error="invalid_token" hint="Zq9vR2xT7mPa4KwE8sLd"',
        ),
        ("Proxy-Authenticate", f"Bearer {jwt}"),
    ]
    sanitize(headers, c, "response")
    assert "Zq9vR2xT7mPa4KwE8sLd" not in headers[1][1]
    assert headers[1][1].startswith('Bearer realm="api", error="invalid_token"')
    assert jwt not in headers[2][1]
    assert {"response.header.www-authenticate", "response.header.proxy-authenticate"} <= set(
        c.redactions
    )


def test_base64_encoded_json_in_a_header_is_sanitized_and_re_encoded() -> None:
    c = ctx()
    doc = {"user": "ann", "password": "hunter2hunter2"}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(orjson.dumps(doc)).decode()
        headers = [("X-Client-Context", encoded)]
        sanitize(headers, c, "request")
        decoded = orjson.loads(base64.b64decode(headers[0][1] + "=" * (-len(headers[0][1]) % 4)))
        assert decoded == {"user": "ann", "password": PSEUDO("hunter2hunter2")}
    plain = [("X-Request-Id", "c2hhZG93dGFwZS1yZXF1ZXN0")]  # base64, not JSON: kept
    sanitize(plain, c, "request")
    assert plain[0][1] == "c2hhZG93dGFwZS1yZXF1ZXN0"


def test_json_and_name_colon_value_in_a_header_are_sanitized() -> None:
    # Colons, and a secret name, in values that hold no field: kept.
    ordinary = [("Date", "Mon, 07 Dec 2026 06:00:00 GMT"), ("X-Note", "https://app.test/auth: ok")]
    ordinary.append(("Server-Timing", 'auth;dur=12.3;desc="db: 4"'))
    json_value = '{"user": "ann", "password": "hunter2hunter2"}'
    secret = [("X-Debug-Context", json_value), ("X-Meta", "client_secret: s3cr3t-value")]
    headers = secret + ordinary
    c = ctx()
    sanitize(headers, c, "response")
    assert orjson.loads(headers[0][1]) == {"user": "ann", "password": PSEUDO("hunter2hunter2")}
    assert headers[1] == ("X-Meta", f"client_secret: {PSEUDO('s3cr3t-value')}")
    assert headers[2:] == ordinary
    assert list(c.redactions) == ["response.header.x-debug-context", "response.header.x-meta"]


def test_websocket_subprotocol_tokens() -> None:
    c = ctx()
    headers = [
        ("Sec-WebSocket-Protocol", "graphql-ws, access_token, opaque-token-123456"),
        ("Sec-WebSocket-Protocol", "base64url.bearer.authorization.k8s.io.b3BhcXVlLXRva2Vu"),
    ]
    sanitize(headers, c, "request")
    assert headers[0][1] == f"graphql-ws, access_token, {PSEUDO('opaque-token-123456')}"
    assert headers[1][1] == (f"base64url.bearer.authorization.k8s.io.{PSEUDO('b3BhcXVlLXRva2Vu')}")


def test_link_and_refresh_urls_are_parsed_like_location() -> None:
    c = ctx()
    headers = [
        ("Link", "<https://app.test/reset/rst-Token-0042x>; rel=next, </plain>; rel=prev"),
        ("Refresh", "0; url=https://app.test/cb?code=auth-code-77&lang=en"),
        ("Content-Location", "/password/reset/abc-Def-123456"),
    ]
    sanitize(headers, c, "response")
    assert headers[0][1] == (
        f"<https://app.test/reset/{PSEUDO('rst-Token-0042x')}>; rel=next, </plain>; rel=prev"
    )
    assert headers[1][1] == f"0; url=https://app.test/cb?code={PSEUDO('auth-code-77')}&lang=en"
    assert headers[2][1] == f"/password/reset/{PSEUDO('abc-Def-123456')}"


def test_header_lines_quoted_in_a_text() -> None:
    c = ctx()
    text = (
        "invalid header line b'X-Api-Key: k-123456789\\r\\nCookie: sid=s-123456; t=dark' "
        "then\nAuthorization: Bearer tok-987654321\nContent-Type: text/plain"
    )
    out = quoted_lines(text, c, "error.message")
    assert out == (
        f"invalid header line b'X-Api-Key: {PSEUDO('k-123456789')}\\r\\n"
        f"Cookie: sid={PSEUDO('s-123456')}; t={PSEUDO('dark')}' "
        f"then\nAuthorization: Bearer {PSEUDO('tok-987654321')}\nContent-Type: text/plain"
    )
    assert "error.message" in c.redactions


def test_many_cookies_each_echoed_anywhere() -> None:
    # The 18th of 18 cookies, echoed next to other token characters, was left raw once
    # the cookies' search strings passed the exact-echo limit.
    c = ctx()
    values = [f"v{i:02d}/Ab+cD%2Fe=f{i:02d}x" for i in range(18)]
    headers = [
        ("Cookie", "; ".join(f"c{i}={v}" for i, v in enumerate(values))),
        ("X-Trace", f"seen {values[17]}.{values[3]}"),
    ]
    sanitize(headers, c, "request")
    assert all(v not in headers[1][1] for v in values)


def test_an_error_message_packed_with_quoted_secret_headers_fails_closed() -> None:
    message = "X-Api-Key:\n" * 90_000  # no value to replace: only colons to read
    exchange = Exchange(
        request=Request("GET", "api.test"),
        error=ExchangeError(ErrorKind.OTHER, message),
    )
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert TOO_DENSE in out.redactions
    assert out.error is not None and "X-Api-Key" not in out.error.message


def test_a_long_error_message_quoting_one_header_is_sanitized() -> None:
    dump = '{"id": 1, "name": "a", "status": "b"}, ' * 2000  # 80 KB, a colon every 13 bytes
    message = f"upstream said: {dump} Authorization: Bearer abc.def-123456\r\n"
    c = ctx()
    out = quoted_lines(message, c, "error.message")
    assert out == message.replace("abc.def-123456", PSEUDO("abc.def-123456"))
    assert c.work < 5000  # the colons of a text quoting a secret header are paid for


def test_a_text_quoting_no_secret_header_is_not_read_colon_by_colon() -> None:
    c = ctx()
    text = '{"id": 1, "name": "a"}, ' * 40_000
    assert quoted_lines(text, c, "error.message") is text
    assert c.work < 100  # three distinct names, no colon read one by one


def test_base64_json_starts_with_one_of_the_characters_checked_first() -> None:
    # The quick check before the RE2 match must let every base64 JSON document through:
    # whatever whitespace (any str.isspace character) comes before its { or [.
    from shadowtape.sanitize.headers import _JSON_BASE64_FIRST

    for code in range(0x110000):
        char = chr(code)
        if not (char.isspace() or char in "{["):
            continue
        raw = (char + '"a":1}').encode("utf-8", "surrogatepass")
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            assert chr(encode(raw)[0]) in _JSON_BASE64_FIRST, hex(code)
