"""URL parts: query and form pairs by name, encoded secrets, path segments, URL headers."""

from __future__ import annotations

import json
from urllib.parse import quote, unquote

import pytest

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy
from shadowtape.sanitize.sanitizer import DROPPED_FOR_DENSITY, TOO_DENSE
from shadowtape.sanitize.urls import high_entropy, params, path, secret_param, url

PSEUDO = Pseudonymizer(b"k")


def ctx() -> Context:
    return Context(Policy.build(), PSEUDO)


def where(name: str) -> str:
    return f"request.query.{name}"


def test_untouched_pairs_keep_their_bytes() -> None:
    query = "b=2&a=%7E1&a=x+y&flag&empty="
    assert params(query, ctx(), where) is query


def test_secret_names_and_encoded_values() -> None:
    c = ctx()
    out = params("page=2&access_token=ab%2Bcd1234&Api-Key=k1k2k3k4", c, where)
    assert out == (
        f"page=2&access_token={quote(PSEUDO('ab+cd1234'), safe='')}&Api-Key={PSEUDO('k1k2k3k4')}"
    )
    assert list(c.redactions) == ["request.query.access_token", "request.query.Api-Key"]


def test_detectors_see_decoded_values() -> None:
    c = ctx()
    out = params("to=ann%40example.com&n=1", c, where)
    assert "ann%40example.com" not in out and "ann@example.com" not in out
    assert out == f"to={PSEUDO('ann@example.com').replace('@', '%40')}&n=1"  # stays encoded
    assert list(c.redactions) == ["request.query.to"]


def test_path_segments_and_matrix_params() -> None:
    c = ctx()
    out = path("/users/ann%40example.com/orders;jsessionid=ABCDEF123", c, "request.path")
    assert "ann" not in out and "ABCDEF123" not in out
    assert out.startswith("/users/") and ";jsessionid=" in out
    assert path("/api/v1/items", c, "request.path") == "/api/v1/items"


def test_urls_in_headers_userinfo_query_and_fragment() -> None:
    c = ctx()
    out = url(
        "https://ann:pa55word@app.test/cb?code=1&state=x#access_token=tok123456&t=1",
        c,
        "response.header.location",
    )
    assert "pa55word" not in out and "tok123456" not in out
    # The whole userinfo and the OAuth code and state are credentials too (issue 18).
    assert out.startswith(f"https://{PSEUDO('ann')}:")
    assert f"@app.test/cb?code={PSEUDO('1')}&state={PSEUDO('x')}#access_token=" in out


def test_segments_after_trigger_words_are_credentials() -> None:
    c = ctx()
    for trigger in ("reset", "verify", "token", "invite", "confirm", "unsubscribe", "magic"):
        assert (
            path(f"/a/{trigger}/tok9912", c, "request.path") == f"/a/{trigger}/{PSEUDO('tok9912')}"
        )
    out = path("/users/password-reset/9f86d081884c7d65/done", c, "request.path")
    assert out == f"/users/password-reset/{PSEUDO('9f86d081884c7d65')}/done"
    # A plain word after a trigger is an endpoint, not a token.
    assert path("/auth/verify/email", c, "request.path") == "/auth/verify/email"
    assert path("/api/token/refresh", c, "request.path") == "/api/token/refresh"


def test_high_entropy_segments_but_not_ids_slugs_or_uuids() -> None:
    c = ctx()
    token = "Zq9vR2xT7mPa4KwE8sLdQ"
    assert high_entropy(token)
    assert path(f"/s/{token}/home", c, "request.path") == f"/s/{PSEUDO(token)}/home"
    kept = [
        "/items/123456789012345678901234",
        "/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "/blog/how-to-Use-HTTP2-in-2024-with-Python",
        "/users/getUserProfileSettingsById",
        "/assets/0a1b2c3d4e5f60718293a4b5c6d7e8f9.js",
        "/v1/CustomerAccountSummaryReport2024",
    ]
    for text in kept:
        assert path(text, c, "request.path") == text, text


def test_cookieless_sessions_and_jsessionid() -> None:
    c = ctx()
    out = path("/(S(lit3py55t21z5v55vlm25s55))/orders.aspx", c, "request.path")
    assert out == f"/(S({PSEUDO('lit3py55t21z5v55vlm25s55')}))/orders.aspx"
    out = path("/app/cart;jsessionid=A1B2C3D4E5F6", c, "request.path")
    assert out == f"/app/cart;jsessionid={PSEUDO('A1B2C3D4E5F6')}"


def test_oauth_saml_and_webhook_parameters() -> None:
    c = ctx()
    names = ["code", "state", "code_verifier", "SAMLResponse", "SAMLRequest", "RelayState"]
    names += ["hmac", "signature", "key", "id_token", "X-Amz-Signature"]
    for name in names:
        out = params(f"{name}=v-{name}-1234&zip_code=12345", c, lambda n: f"q.{n}")
        assert out == f"{name}={PSEUDO(f'v-{name}-1234')}&zip_code=12345", name
    assert secret_param("SAMLResponse") and not secret_param("country_code")


def test_values_url_encoded_twice() -> None:
    c = ctx()
    inner = "/cb?password=hunter2hunter2&x=1"
    twice = quote(quote(inner, safe=""), safe="")
    out = params(f"next={twice}", c, lambda n: f"q.{n}")
    assert "hunter2hunter2" not in out and "hunter2hunter2" not in unquote(unquote(out))
    assert PSEUDO("hunter2hunter2") in unquote(unquote(out))


def test_userinfo_is_replaced_whole() -> None:
    c = ctx()
    out = url("https://deploy-bot:s3cret-pass@git.test/repo", c, "response.header.location")
    assert out == f"https://{PSEUDO('deploy-bot')}:{PSEUDO('s3cret-pass')}@git.test/repo"


# -- the time bound: dense texts fail closed, ordinary ones of the same size do not ------

MIB = 1024 * 1024
FORM = "application/x-www-form-urlencoded"


def _exchange(
    *, body: str = "", path: str = "/submit", query: str = "", link: str = ""
) -> Exchange:
    data = body.encode()
    return Exchange(
        request=Request(
            "POST",
            "api.test",
            path=path,
            query=query,
            headers=(("Content-Type", FORM),),
            body=data,
            body_size=len(data),
        ),
        response=Response(200, "OK", headers=(("Link", link),) if link else ()),
    )


def _sanitize(exchange: Exchange) -> Exchange:
    return Sanitizer(key=b"k").sanitize(exchange)


def test_a_form_packed_with_pairs_is_dropped_as_too_dense() -> None:
    body = "token=&" * (MIB // 7) + "password=hunter2hunter2"
    out = _sanitize(_exchange(body=body))
    assert out.request.body == b"" and out.request.body_truncated
    assert out.redactions == (DROPPED_FOR_DENSITY.format("request"),)


def test_a_large_form_of_encoded_text_is_sanitized_not_dropped() -> None:
    prose = quote("Zoë écrit à Ünïcödé — naïve café, emoji 😀. " * (MIB // 200))
    body = f"csrf_token=Zq9vR2xT7mPa4KwE8sLd&email=ann%40example.com&comment={prose}"
    out = _sanitize(_exchange(body=body))
    assert out.request.body.endswith(f"comment={prose}".encode())
    assert b"Zq9vR2xT7mPa4KwE8sLd" not in out.request.body and b"ann%40" not in out.request.body
    assert out.redactions == ("request.body.form.csrf_token", "request.body.form.email")


def test_a_large_form_with_one_email_is_scanned_chunk_by_chunk_not_dropped() -> None:
    items = "&".join(f"order%5Bitems%5D%5B%5D=sku-{i:06d}x" for i in range(20_000))
    out = _sanitize(_exchange(body=f"{items}&to=ann%40example.com&{items}"))
    assert b"ann%40example.com" not in out.request.body
    assert out.request.body.startswith(items.encode())
    assert out.redactions == ("request.body.form.to",)


def test_an_analytics_beacon_with_many_parameters_is_sanitized() -> None:
    query = "&".join(f"p{i}=v{i}%20x" for i in range(100)) + "&uid=ann%40example.com"
    out = _sanitize(_exchange(query=query))
    assert out.request.query.startswith("p0=v0%20x&p1=v1%20x")
    assert "ann%40example.com" not in out.request.query
    assert out.redactions == ("request.query.uid",)


def test_a_form_encoded_three_times_over_is_dropped_as_too_dense() -> None:
    value = "password=a@b.example&token=eyJhbGciOi.eyJzdWIi.x"
    for _ in range(3):
        value = quote(value, safe="")
    out = _sanitize(_exchange(body=f"note={value}&" * (MIB // (len(value) + 6))))
    assert out.request.body == b"" and out.request.body_truncated
    assert out.redactions == (DROPPED_FOR_DENSITY.format("request"),)


def test_a_large_form_with_doubly_encoded_redirects_is_sanitized_not_dropped() -> None:
    def event(i: int) -> str:
        page = quote(f"https://shop.test/item{i}?q=blue shoes&p={i}", safe="")
        return f"ev{i % 40}={quote(page, safe='') if i % 20 == 0 else page}"

    events = "&".join(event(i) for i in range(MIB // 80))
    body = f"{events}&next=" + quote(quote("/cb?email=ann@example.com", safe=""), safe="")
    out = _sanitize(_exchange(body=body))
    assert out.request.body.startswith(events.encode()) and b"ann" not in out.request.body
    assert out.redactions == ("request.body.form.next",)


def test_a_secret_three_layers_down_in_a_large_form_is_found() -> None:
    text = quote("Zoë wrote a long note, with punctuation; and more. " * 40)
    plain = "&".join(f"note{i}={text}" for i in range(100))
    # Spaces encoded three times: the card number shows only in the third decoded layer.
    thrice = quote(quote(quote("paid with 4111 1111 1111 1111", safe=""), safe=""), safe="")
    out = _sanitize(_exchange(body=f"{plain}&next={thrice}&{plain}"))
    assert thrice.encode() not in out.request.body
    assert out.request.body.startswith(plain.encode()) and out.request.body.endswith(plain.encode())
    assert out.redactions == ("request.body.form.next",)


def test_a_path_packed_with_segments_fails_the_exchange_closed() -> None:
    out = _sanitize(_exchange(path="/files/" + "</" * (MIB // 2)))
    assert TOO_DENSE in out.redactions and not out.request.path.startswith("/files/")


def test_a_long_ordinary_path_is_sanitized_not_failed_closed() -> None:
    segments = "/".join(f"seg{i}" for i in range(1000))
    out = _sanitize(_exchange(path=f"/{segments}/reset/tok9912x"))
    pseudonym = Sanitizer(key=b"k").pseudonym("tok9912x")
    assert out.request.path == f"/{segments}/reset/{pseudonym}"
    assert out.redactions == ("request.path",)


def test_a_link_header_packed_with_urls_fails_the_exchange_closed() -> None:
    out = _sanitize(_exchange(link="<https://a.test/reset/x>; " * (MIB // 26)))
    assert TOO_DENSE in out.redactions
    assert out.response is not None and "reset" not in out.response.headers[0][1]


def test_a_paginated_link_header_is_sanitized() -> None:
    link = ", ".join(
        f'<https://api.test/items?page={i}&access_token=tok-{i}-secret>; rel="{rel}"'
        for i, rel in enumerate(["first", "prev", "next", "last"])
    )
    out = _sanitize(_exchange(link=link))
    assert out.response is not None
    value = out.response.headers[0][1]
    assert "secret" not in value and value.count("<https://api.test/items?page=") == 4
    assert out.redactions == ("response.header.link",)


def test_high_entropy_reads_a_long_segment_without_a_step_per_character() -> None:
    token = "Zq9vR2xT7mPa4KwE8sLd" * 200  # 4,000 characters: still judged, and quickly
    assert high_entropy(token) and not high_entropy("a1" * 2100)  # past 4,096: not read


def test_a_lone_surrogate_in_a_form_is_read_like_any_character() -> None:
    c = ctx()
    out = params("a=\udcff&password=\udcffhunter2%41", c, where)
    assert out.startswith("a=\udcff&password=") and "hunter2" not in out
    assert list(c.redactions) == ["request.query.password"]


# -- pairs separated by ";" ---------------------------------------------------------------


def test_semicolon_separated_pairs_are_read_like_ampersand_ones() -> None:
    """``a=1;token=...;b=2`` (older servers, matrix-like query strings)."""
    out = _sanitize(_exchange(query="a=1;token=abc123xyz789;b=2&c=3"))
    assert "abc123xyz789" not in out.request.query
    assert out.request.query.startswith("a=1;token=") and out.request.query.endswith(";b=2&c=3")
    assert "request.query.token" in out.redactions
    form = _sanitize(_exchange(body="user=ann;password=hunter2xyz;remember=1"))
    assert b"hunter2xyz" not in form.request.body
    assert form.request.body.endswith(b";remember=1")
    assert "request.body.form.password" in form.redactions


@pytest.mark.parametrize(
    "query",
    ["q=hello;world", "filter=color:red;size:large", "sort=name;desc&page=2", "a;b;c", "x=1;"],
)
def test_a_semicolon_inside_ordinary_values_changes_nothing(query: str) -> None:
    out = _sanitize(_exchange(query=query, body=query))
    assert out.request.query == query
    assert out.request.body == query.encode()
    assert out.redactions == ()


# -- links written percent-encoded inside a value ----------------------------------------

RESET = "https://app.test/password/reset/Tk9aa8s7d6f5g4"


@pytest.mark.parametrize(
    "value",
    [quote(RESET, safe=""), quote(quote(RESET, safe=""), safe=""), RESET],
    ids=["encoded once", "encoded twice", "raw"],
)
def test_a_reset_link_inside_a_query_or_form_value_loses_its_token(value: str) -> None:
    """``next=https%3A%2F%2Fapp%2Fpassword%2Freset%2F<token>``: the path rule holds for
    the decoded value too, and the token is replaced wherever else it stands."""
    echo = json.dumps({"sent": "Tk9aa8s7d6f5g4"})
    exchange = _exchange(query=f"next={value}&x=1", body=f"a=1&next={value}")
    exchange = exchange.replace(
        response=Response(
            302,
            "Found",
            headers=(("Location", f"https://app.test/login?next={value}"),),
            body=echo.encode(),
        )
    )
    out = _sanitize(exchange)
    stored = "\n".join(
        [
            out.request.query,
            out.request.body.decode(),
            out.response.header("Location") or "",
            out.response.body.decode(),
        ]
    )
    assert "Tk9aa8s7d6f5g4" not in stored
    assert out.request.query.endswith("&x=1")
    assert {"request.query.next", "request.body.form.next"} <= set(out.redactions)


@pytest.mark.parametrize(
    "value",
    [
        quote("https://app.test/verify/email", safe=""),  # an endpoint, not a token
        quote("https://app.test/home?tab=2", safe=""),
        "%2Fpassword%2Freset%2F",  # no link
    ],
)
def test_an_encoded_link_without_a_token_is_kept(value: str) -> None:
    out = _sanitize(_exchange(query=f"next={value}", body=f"next={value}"))
    assert out.request.query == f"next={value}"
    assert out.request.body == f"next={value}".encode()
    assert out.redactions == ()
