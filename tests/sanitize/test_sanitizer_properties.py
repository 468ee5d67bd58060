"""Adversarial property tests: secrets planted anywhere must not survive sanitizing.

Generated secrets (random tokens, JWT-shaped strings, Luhn-valid card numbers, e-mail
addresses, AWS, Stripe, GitHub and Slack keys) are planted in headers, cookies, query
strings, the path, JSON at any depth, form and multipart fields, plain text, HTML and XML
bodies. After sanitizing, no form of any of them may remain in any field of the Exchange,
in its Arrow batch, or in the raw bytes of a Parquet tape written by TapeWriter.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadowtape import (
    ErrorKind,
    Exchange,
    ExchangeError,
    Request,
    Response,
    TapeReader,
    TapeWriter,
)
from shadowtape.sanitize import Sanitizer
from tests.sanitize.planted import Secret, detectable, emails, leaks, positional, tokens

KEY = b"property-test-key"
SANITIZER = Sanitizer(key=KEY)

SECRET_KEYS = [
    "password",
    "passwd",
    "api_key",
    "apiKey",
    "access_token",
    "refreshToken",
    "client_secret",
    "ssn",
    "card_number",
    "cvv",
    "iban",
    "X-Auth-Token",
    "user_password",
    "sessionId",
]
ORDINARY_KEYS = ["data", "user", "profile", "meta", "attributes", "items", "value", "extra"]
SECRET_HEADERS = ["X-Api-Key", "X-Auth-Token", "X-Session-Id", "Proxy-Authorization", "X-Secret"]
tokens_ = tokens.map(lambda t: Secret("token", t))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def nested(draw: st.DrawFn, leaf: dict[str, object]) -> object:
    """``leaf`` buried at a random depth, in objects and arrays, beside ordinary data."""
    node: object = leaf
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            node = {draw(st.sampled_from(ORDINARY_KEYS)): node, "id": 42, "name": "Zoë"}
        else:
            node = [1, node, "plain"]
    return node


@st.composite
def planted(draw: st.DrawFn) -> tuple[Exchange, list[Secret]]:
    secrets: list[Secret] = []

    def plant(strategy: st.SearchStrategy[Secret]) -> str:
        secret = draw(strategy)
        secrets.append(secret)
        return secret.text

    req_headers: list[tuple[str, str]] = [("Host", "api.test"), ("Accept", "*/*")]
    resp_headers: list[tuple[str, str]] = [("Server", "nginx")]
    query: list[str] = ["page=2"]
    path = ["api", "v1", "items"]
    session: str | None = None
    where = draw(
        st.sets(
            st.sampled_from(
                [
                    "authorization",
                    "secret_header",
                    "cookie",
                    "set_cookie",
                    "query",
                    "header_text",
                    "location",
                    "echo",
                ]
            ),
            min_size=1,
        )
    )
    if "authorization" in where:
        req_headers.append(("Authorization", f"Bearer {plant(positional)}"))
    if "secret_header" in where:
        req_headers.append((draw(st.sampled_from(SECRET_HEADERS)), plant(positional)))
    if "cookie" in where:
        req_headers.append(("Cookie", f"theme=dark; sid={plant(positional)}; lang=en"))
    if "set_cookie" in where:
        resp_headers.append(("Set-Cookie", f"sid={plant(positional)}; Path=/; HttpOnly"))
    if "query" in where:
        name = draw(st.sampled_from(SECRET_KEYS))
        query.append(f"{quote_plus(name)}={quote_plus(plant(positional))}")
        query.append(f"note={quote_plus('see ' + plant(detectable))}")
    if "header_text" in where:
        req_headers.append(("X-Note", f"contact {plant(detectable)} today"))
    if "location" in where:
        resp_headers.append(("Location", f"/cb?code=1&access_token={quote(plant(positional))}"))
    if "echo" in where:
        # A session id in a cookie, seen again in the path, a Location and a body.
        session = plant(tokens.map(lambda t: Secret("token", t)))
        req_headers.append(("Cookie", f"session={session}"))
        path.append(quote(session, safe=""))
        resp_headers.append(("Location", f"https://app.test/s/{session}/home"))
        resp_headers.append(("X-Trace", f"trace for {session}"))

    request_kind = draw(
        st.sampled_from(
            ["none", "json", "form", "multipart", "text", "yaml", "graphql", "form_json"]
        )
    )
    body = b""
    if request_kind == "json":
        doc = {
            "items": [draw(nested({draw(st.sampled_from(SECRET_KEYS)): plant(positional)}))],
            "note": draw(nested({"comment": f"mail {plant(detectable)} now"})),
            "id": 42,
            "name": "Zoë",
        }
        body = orjson.dumps(doc)
        req_headers.append(("Content-Type", "application/json"))
    elif request_kind == "form":
        name = draw(st.sampled_from(SECRET_KEYS))
        body = (
            f"user=bob&{quote_plus(name)}={quote_plus(plant(positional))}"
            f"&note={quote_plus('hi ' + plant(detectable))}"
        ).encode()
        req_headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif request_kind == "multipart":
        boundary = "----shadowtape" + draw(st.text("abcdef0123456789", min_size=8, max_size=8))
        name = draw(st.sampled_from(SECRET_KEYS))
        parts = [
            (f'form-data; name="{name}"', "", plant(positional)),
            ('form-data; name="notes"', "", f"call {plant(detectable)} later"),
            (
                'form-data; name="meta"; filename="meta.json"',
                "application/json",
                orjson.dumps({"x": {"api_key": plant(positional)}}).decode(),
            ),
        ]
        chunks = []
        for disposition, content_type, content in parts:
            head = f"Content-Disposition: {disposition}\r\n"
            if content_type:
                head += f"Content-Type: {content_type}\r\n"
            chunks.append(f"--{boundary}\r\n{head}\r\n{content}\r\n")
        body = ("".join(chunks) + f"--{boundary}--\r\n").encode()
        req_headers.append(("Content-Type", f"multipart/form-data; boundary={boundary}"))
    elif request_kind == "text":
        body = f"Dear customer, your card {plant(detectable)} is on file.".encode()
        req_headers.append(("Content-Type", "text/plain; charset=utf-8"))
    elif request_kind == "yaml":
        name = draw(st.sampled_from(SECRET_KEYS))
        body = f"db:\n  host: db.local\n  {name}: {plant(positional)}\n".encode()
        req_headers.append(("Content-Type", "application/yaml"))
    elif request_kind == "graphql":
        query_text = f'mutation {{ login(user: "ann", password: "{plant(positional)}") }}'
        body = orjson.dumps({"query": query_text, "variables": {"apiKey": plant(positional)}})
        req_headers.append(("Content-Type", "application/json"))
    elif request_kind == "form_json":
        payload = orjson.dumps({"user": {"client_secret": plant(positional)}}).decode()
        body = f"payload={quote_plus(payload)}&v=1".encode()
        req_headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    if body:
        req_headers.append(("Content-Length", str(len(body))))

    response_kind = draw(st.sampled_from(["json", "html", "xml", "text", "broken_json", "csv"]))
    if response_kind == "json":
        doc = draw(nested({draw(st.sampled_from(SECRET_KEYS)): plant(positional)}))
        resp_body = orjson.dumps({"data": doc, "contact": plant(detectable)})
        content_type = "application/json"
    elif response_kind == "broken_json":  # truncated mid-document: still scanned
        whole = orjson.dumps(
            {"user": {"password": plant(positional), "email": plant(detectable)}, "n": [1] * 50}
        )
        resp_body = whole[: len(whole) - 40]
        content_type = "application/json"
    elif response_kind == "html":
        resp_body = (
            f"<html><body><p>Hello {plant(detectable)}</p>"
            f'<a href="/invite?to={quote(plant(emails().map(lambda t: Secret("email", t))))}">'
            "invite</a>"
            f'<form><input type="hidden" name="csrf_token" value="{plant(positional)}">'
            "</form></body></html>"
        ).encode()
        content_type = "text/html; charset=utf-8"
    elif response_kind == "xml":
        resp_body = (
            f"<user><password>{plant(positional)}</password><note>{plant(detectable)}</note></user>"
        ).encode()
        content_type = "application/xml"
    elif response_kind == "csv":
        column = draw(st.sampled_from(SECRET_KEYS))
        resp_body = (
            f"id,{column},note\r\n1,{plant(positional)},hi\r\n2,{plant(positional)},"
            f"{plant(detectable)}\r\n"
        ).encode()
        content_type = "text/csv"
    else:
        resp_body = f"token issued for {plant(detectable)}\n".encode()
        content_type = "text/plain"
    if session is not None and response_kind != "json":
        resp_body += f"\nsession {session}\n".encode()
    resp_headers += [("Content-Type", content_type), ("Content-Length", str(len(resp_body)))]

    response: Response | None = Response(
        status=200, headers=tuple(resp_headers), body=resp_body, body_size=len(resp_body)
    )
    error = None
    if draw(st.integers(0, 9)) == 0:  # no response: the error message is scanned too
        response = None
        error = ExchangeError(
            ErrorKind.RESET, f"upstream reset for {plant(detectable)} (token={plant(tokens_)})"
        )
    exchange = Exchange(
        request=Request(
            method="POST" if body else "GET",
            host="api.test",
            path="/" + "/".join(path),
            query="&".join(query),
            headers=tuple(req_headers),
            body=body,
            body_size=len(body),
        ),
        response=response,
        error=error,
    )
    return exchange, secrets


@SETTINGS
@given(planted())
def test_no_planted_secret_survives(case: tuple[Exchange, list[Secret]]) -> None:
    exchange, secrets = case
    out = SANITIZER.sanitize(exchange)
    assert leaks(out, secrets) == []
    assert out.redactions, "every planted secret is a replacement, so redactions are listed"


@SETTINGS
@given(planted())
def test_redactions_name_locations_never_values(case: tuple[Exchange, list[Secret]]) -> None:
    exchange, secrets = case
    out = SANITIZER.sanitize(exchange)
    for where in out.redactions:
        assert where.startswith(("request.", "response.", "error.")), where
        for secret in secrets:
            assert all(form not in where for form in secret.forms())


@SETTINGS
@given(planted())
def test_sanitizing_never_mutates_and_is_deterministic(
    case: tuple[Exchange, list[Secret]],
) -> None:
    exchange, _ = case
    before = repr(exchange)
    first = SANITIZER.sanitize(exchange)
    assert repr(exchange) == before
    assert first == Sanitizer(key=KEY).sanitize(exchange)  # same key: same pseudonyms
    other = Sanitizer(key=b"another-key").sanitize(exchange)
    assert other.redactions == first.redactions
    assert other != first  # a different key gives different pseudonyms


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(planted(), min_size=3, max_size=6))
def test_no_planted_secret_reaches_parquet(cases: list[tuple[Exchange, list[Secret]]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        # No compression, so a secret in the file would be visible in its raw bytes.
        with TapeWriter(folder, source="prop", compression="none") as writer:
            for exchange, _ in cases:
                assert writer.write(SANITIZER.sanitize(exchange))
        files = [p for p in Path(folder).rglob("*") if p.is_file()]
        assert files
        raw = b"".join(p.read_bytes() for p in files)
        read_back = list(TapeReader(folder))
        assert len(read_back) == len(cases)
    secrets = [secret for _, planted_secrets in cases for secret in planted_secrets]
    for secret in secrets:
        for form in secret.forms():
            assert form.encode() not in raw, f"{secret.kind} {form!r} is in a tape file"
    for exchange in read_back:
        assert leaks(exchange, secrets) == []


# -- no false positives, never raises ---------------------------------------------------

# Names that contain a secret word but do not name a secret.
ORDINARY_NAMES = ["id", "name", "items", "token_type", "shipping", "authMode", "card_brand"]
ordinary_text = st.text(
    st.characters(categories=("L", "Zs"), include_characters=".,;:!?'()-/"), max_size=40
)
ordinary_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**11), 10**11)
    | st.floats(allow_nan=False, allow_infinity=False)
    | ordinary_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(ORDINARY_NAMES), children)
    ),
    max_leaves=25,
)


@SETTINGS
@given(ordinary_json, st.sampled_from(["application/json", "text/plain", ""]))
def test_ordinary_data_is_left_byte_identical(doc: object, content_type: str) -> None:
    body = orjson.dumps(doc)
    headers = (("Content-Type", content_type),) if content_type else ()
    exchange = Exchange(
        request=Request("GET", "api.test", path="/api/items/42", query="page=2&sort=name"),
        response=Response(200, headers=headers, body=body, body_size=len(body)),
    )
    out = SANITIZER.sanitize(exchange)
    assert out.redactions == ()
    assert out.response is not None
    assert out.response.body == body
    assert out.request == exchange.request


ordinary_pairs = st.lists(
    st.tuples(st.sampled_from(ORDINARY_NAMES), ordinary_text), min_size=1, max_size=6
)


@SETTINGS
@given(ordinary_pairs, st.sampled_from(["form", "multipart", "query", "html"]))
def test_ordinary_forms_queries_and_pages_are_left_byte_identical(
    pairs: list[tuple[str, str]], kind: str
) -> None:
    query = ""
    content_type = ""
    if kind == "form":
        body = urlencode(pairs).encode()
        content_type = "application/x-www-form-urlencoded"
    elif kind == "multipart":
        head = 'Content-Disposition: form-data; name="{}"'
        body = b"".join(
            f"--b0undary\r\n{head.format(name)}\r\n\r\n{value}\r\n".encode()
            for name, value in pairs
        )
        body += b"--b0undary--\r\n"
        content_type = "multipart/form-data; boundary=b0undary"
    elif kind == "html":
        body = "".join(f"<p class='{n}'>{v}</p>" for n, v in pairs).encode()
        content_type = "text/html; charset=utf-8"
    else:
        body = b""
        query = urlencode(pairs)
    headers = (("Content-Type", content_type), ("Content-Length", str(len(body))))
    exchange = Exchange(
        request=Request(
            "POST", "api.test", query=query, headers=headers, body=body, body_size=len(body)
        )
    )
    out = SANITIZER.sanitize(exchange)
    assert out.redactions == ()
    assert out.request == exchange.request


def test_an_ordinary_document_is_untouched() -> None:
    body = '{"id": 42, "name": "Zoë", "tags": ["a", "b"], "price": 9.5}'.encode()
    exchange = Exchange(
        request=Request("GET", "api.test", path="/users/42"),
        response=Response(
            200, headers=(("Content-Type", "application/json"),), body=body, body_size=len(body)
        ),
    )
    out = SANITIZER.sanitize(exchange)
    assert out.response is not None and out.response.body == body
    assert out.redactions == ()


def sanitize_without_errors(exchange: Exchange) -> Exchange:
    """Sanitize, and fail if the sanitizer had to fall back to failing closed (it logs)."""
    logger = logging.getLogger("shadowtape.sanitize")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        out = SANITIZER.sanitize(exchange)
    finally:
        logger.removeHandler(handler)
    assert not [r for r in records if r.levelno >= logging.ERROR], "fell back to fail-closed"
    return out


_content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "text/html; charset=latin-1",
        "text/plain; charset=utf-16",
        "text/plain; charset=does-not-exist",
        "image/png",
        "",
        "application/json; charset=utf-8",
    ]
)
_weird_bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b'{"password": ',
            b'{"a": [[[[[[',
            b"[" * 5000,
            b'{"n": 123456789012345678901234567890, "password": "hunter22"}',
            b'{"x": NaN, "token": "abcdefgh"}',
            b"--xyz\r\nContent-Disposition: form-data\r\n\r\n",
            b"--xyz\r\n\r\n--xyz--",
            b"--xyz--",
            b"password=%ZZ&token=%&&==",
            b'"\\ud800"',
            b"\xff\xfe\x00\x00",
        ]
    ),
)


@SETTINGS
@given(
    _weird_bodies,
    _content_types,
    st.text(max_size=30),
    st.text(max_size=30),
    st.lists(st.tuples(st.text(max_size=15), st.text(max_size=40)), max_size=6),
)
def test_weird_input_never_raises_nor_fails_closed(
    body: bytes, content_type: str, path: str, query: str, headers: list[tuple[str, str]]
) -> None:
    exchange = Exchange(
        request=Request(
            "POST",
            "api.test",
            path="/" + path,
            query=query,
            headers=(("Content-Type", content_type), *headers),
            body=body,
            body_size=len(body),
        ),
        response=Response(
            200, headers=(("Content-Type", content_type),), body=body, body_size=len(body)
        ),
    )
    assert isinstance(sanitize_without_errors(exchange), Exchange)


def test_a_deeply_nested_body_is_still_sanitized() -> None:
    body = ('{"a":' * 3000 + '{"password": "hunter2hunter2"}' + "}" * 3000).encode()
    exchange = Exchange(
        request=Request(
            "POST",
            "api.test",
            headers=(("Content-Type", "application/json"),),
            body=body,
            body_size=len(body),
        )
    )
    out = SANITIZER.sanitize(exchange)
    assert b"hunter2hunter2" not in out.request.body
    assert "request.body.text:field" in out.redactions


@pytest.mark.parametrize("secret", ["hunter2hunter2", "ZXhhbXBsZQ-token"])
def test_echo_reaches_every_field_of_the_exchange(secret: str) -> None:
    """A token found in a response body's secret field is also replaced in the request."""
    body = orjson.dumps({"access_token": secret})
    exchange = Exchange(
        request=Request(
            "GET",
            "api.test",
            path=f"/sessions/{secret}",
            query=f"next={secret}",
            headers=(("Referer", f"https://app.test/?t={secret}"), ("X-Note", secret)),
        ),
        response=Response(
            200,
            headers=(("Content-Type", "application/json"), ("Location", f"/s/{secret}")),
            body=body,
            body_size=len(body),
        ),
    )
    out = SANITIZER.sanitize(exchange)
    assert leaks(out, [Secret("token", secret)]) == []
    pseudonym = SANITIZER.pseudonym(secret)
    assert out.request.path == f"/sessions/{pseudonym}"
    assert out.request.header("X-Note") == pseudonym
    assert "request.path" in out.redactions
    assert "request.query.next" in out.redactions


any_text = st.text(st.characters(), max_size=40)  # surrogates included: never UTF-8


@SETTINGS
@given(any_text, any_text, st.lists(st.tuples(any_text, any_text), max_size=5), any_text)
def test_text_that_is_not_even_utf8_never_raises(
    path: str, query: str, headers: list[tuple[str, str]], message: str
) -> None:
    exchange = Exchange(
        request=Request("GET", "api.test", path=path, query=query, headers=tuple(headers)),
        error=ExchangeError(ErrorKind.OTHER, message),
    )
    assert isinstance(sanitize_without_errors(exchange), Exchange)
