"""Planted secrets in headers, URLs, recorder texts, JSON and echoes never survive (issue 18).

Each example plants generated secrets in several of the places these categories cover,
some of them encoded (URL, HTML, JSON-escaped, base64); after sanitizing, no form of any
secret, in any of those encodings, may remain in any field of the Exchange, in its
redaction locations, or in its Arrow batch.
"""

from __future__ import annotations

import base64
import html
import json
import string
from urllib.parse import quote, quote_plus

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadowtape import ErrorKind, Exchange, ExchangeError, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.tape import to_batch
from tests.sanitize.planted import _batch_texts, _texts, detectable, emails, tokens

SANITIZER = Sanitizer(key=b"coverage-property-key")
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_ALNUM = string.ascii_letters + string.digits
#: Secrets with characters each encoding changes: an echo must be found in every form.
awkward = st.text(_ALNUM + "&<>\"'/+=%!*", min_size=12, max_size=32).filter(
    lambda t: (
        sum(c.isalpha() for c in t) >= 3
        and sum(c.isdigit() for c in t) >= 3
        and t[0] != '"'
        and not t.endswith("=")
    )
)
ENCODINGS = ("raw", "url", "html", "json", "base64")
WHERE = (
    "www_authenticate",
    "websocket",
    "base64_json_header",
    "json_header",
    "many_cookies",
    "path_trigger",
    "cookieless",
    "jsessionid",
    "location",
    "link_refresh",
    "oauth_query",
    "twice_encoded",
    "reason",
    "error",
    "stringified",
    "json_key",
    "name_value",
    "pair_list",
    "plural_name",
    "graphql",
    "spaced_colon",
    "echo",
)


def encode(value: str, how: str) -> str:
    if how == "url":
        return quote(value, safe="")
    if how == "html":
        return html.escape(value)
    if how == "json":
        return json.dumps(value)[1:-1]
    if how == "base64":
        return base64.b64encode(value.encode()).decode()
    return value


def forms(value: str) -> set[str]:
    """Every form of a secret that must not survive."""
    out = {encode(value, how) for how in ENCODINGS} | {quote_plus(value)}
    out.add(base64.urlsafe_b64encode(value.encode()).decode().rstrip("="))
    out.add(encode(value, "base64").rstrip("="))
    return {form for form in out if len(form) >= 6}


def leaks(exchange: Exchange, secrets: list[str]) -> list[str]:
    texts = _texts(exchange) + _batch_texts(to_batch([exchange]))
    found = []
    for secret in secrets:
        for form in forms(secret):
            raw = form.encode()
            for text in texts:
                if (form in text) if isinstance(text, str) else (raw in text):
                    found.append(f"{secret!r} as {form!r} survives in {text!r:.300}")
    return found


@st.composite
def planted(draw: st.DrawFn) -> tuple[Exchange, list[str]]:
    secrets: list[str] = []

    def plant(strategy: st.SearchStrategy[str]) -> str:
        value = draw(strategy)
        secrets.append(value)
        return value

    token = tokens
    detected = detectable.map(lambda s: s.text)
    req: list[tuple[str, str]] = [("Host", "api.test")]
    resp: list[tuple[str, str]] = [("Server", "nginx")]
    path = ["api", "v1"]
    query: list[str] = []
    reason = "OK"
    error: ExchangeError | None = None
    body = b""
    resp_body = b""
    where = draw(st.sets(st.sampled_from(WHERE), min_size=1, max_size=6))
    if "www_authenticate" in where:
        value = plant(token)
        req.append(("Authorization", f"Bearer {value}"))
        resp.append(("WWW-Authenticate", f'Bearer realm="api", error="invalid_token" t="{value}"'))
        resp.append(("Proxy-Authenticate", f"Bearer {plant(detected)}"))
    if "websocket" in where:
        req.append(("Sec-WebSocket-Protocol", f"graphql-ws, access_token, {plant(token)}"))
    if "base64_json_header" in where:
        doc = {"user": "ann", draw(st.sampled_from(["password", "apiKey"])): plant(token)}
        encoder = draw(st.sampled_from([base64.b64encode, base64.urlsafe_b64encode]))
        req.append(("X-Client-Context", encoder(orjson.dumps(doc)).decode()))
    if "json_header" in where:
        name = draw(st.sampled_from(["password", "apiKey", "client_secret"]))
        fields = {"user": "ann", name: plant(token)}
        value = draw(st.sampled_from([orjson.dumps(fields).decode(), f"{name}: {fields[name]}"]))
        resp.append(("X-Debug-Context", value))
    if "many_cookies" in where:
        values = [plant(token) for _ in range(draw(st.integers(1, 24)))]
        req.append(("Cookie", "; ".join(f"c{i}={v}" for i, v in enumerate(values))))
        resp.append(("X-Trace", f"seen:{values[-1]}.{values[0]}"))
    if "path_trigger" in where:
        word = draw(st.sampled_from(["reset", "verify", "token", "invite", "confirm", "magic"]))
        path += [word, quote(plant(token), safe="")]
    if "cookieless" in where:
        path.insert(0, f"(S({plant(token)}))")
    if "jsessionid" in where:
        path[-1] += f";jsessionid={plant(token)}"
    if "location" in where:
        resp.append(
            (
                draw(st.sampled_from(["Location", "Content-Location"])),
                f"https://u:{plant(token)}@app.test/reset/{plant(token)}"
                f"?code={plant(token)}#access_token={plant(token)}",
            )
        )
    if "link_refresh" in where:
        resp.append(("Link", f"<https://app.test/invite/{plant(token)}>; rel=next"))
        resp.append(("Refresh", f"0; url=/cb?state={plant(token)}"))
    if "oauth_query" in where:
        name = draw(st.sampled_from(["code", "code_verifier", "SAMLResponse", "RelayState"]))
        query.append(f"{name}={quote_plus(plant(token))}")
        query.append(f"hmac={plant(token)}")
    if "twice_encoded" in where:
        inner = f"/cb?password={plant(token)}&x=1"
        query.append("next=" + quote(quote(inner, safe=""), safe=""))
    if "reason" in where:
        reason = f"Key {plant(detected)} revoked"
    if "error" in where:
        error = ExchangeError(
            ErrorKind.PROTOCOL, f"invalid header line b'X-Api-Key: {plant(token)}\\r\\n'"
        )
    doc: dict[str, object] = {"id": 1}
    text_body = ""
    if "stringified" in where:
        value: object = {"password": plant(token), "n": 1}
        for _ in range(draw(st.integers(1, 3))):
            value = json.dumps(value)
        doc["payload"] = {"data": value}
    if "json_key" in where:
        doc["users"] = {plant(emails()): {"role": "admin"}}
    if "name_value" in where:
        name = draw(st.sampled_from(["DB_PASSWORD", "api_key", "X-Auth-Token", "secret"]))
        keys = draw(st.sampled_from([("name", "value"), ("Key", "Value"), ("Name", "Value")]))
        doc["env"] = [{keys[0]: "HOST", keys[1]: "db"}, {keys[0]: name, keys[1]: plant(token)}]
    if "pair_list" in where:
        name = draw(st.sampled_from(["Authorization", "X-Auth-Token", "password", "apiKey"]))
        doc["headers"] = [["Accept", "*/*"], [name, plant(token)]]
    if "plural_name" in where:
        name = draw(st.sampled_from(["passwords", "apiKeys", "secrets", "refresh_tokens"]))
        doc[name] = draw(st.sampled_from([[plant(token)], {"db": plant(token)}]))
    if "graphql" in where:
        doc["query"] = 'mutation L($v: String!) { login(user: "ann", password: $v) { ok } }'
        doc["variables"] = {"v": plant(token)}
    if "spaced_colon" in where:
        spaces = " " * draw(st.integers(0, 120))
        text_body = '{"password"' + spaces + f': "{plant(token)}", "n": 1'
    if len(doc) > 1:
        body = orjson.dumps(doc)
        req.append(("Content-Type", "application/json"))
    elif text_body:
        body = text_body.encode()
        req.append(("Content-Type", "text/plain"))
    if "echo" in where:
        value = plant(awkward)
        req.append(("X-Api-Key", value))
        how = draw(st.sampled_from(ENCODINGS))
        kind = draw(st.sampled_from(["text/html", "text/plain", "application/json"]))
        if kind == "application/json":
            shown = value if how == "json" else encode(value, how)
            resp_body = orjson.dumps({"echo": shown, "n": 2})
        else:
            resp_body = f"<p>you sent {encode(value, how)} here</p>".encode()
        resp.append(("Content-Type", kind))
    exchange = Exchange(
        request=Request(
            "POST" if body else "GET",
            "api.test",
            path="/" + "/".join(path),
            query="&".join(query),
            headers=tuple(req),
            body=body,
            body_size=len(body),
        ),
        response=Response(
            401, reason=reason, headers=tuple(resp), body=resp_body, body_size=len(resp_body)
        ),
        error=error,
    )
    return exchange, secrets


@SETTINGS
@given(planted())
def test_no_planted_secret_survives_in_any_encoding(case: tuple[Exchange, list[str]]) -> None:
    exchange, secrets = case
    out = SANITIZER.sanitize(exchange)
    assert leaks(out, secrets) == []
    assert out.redactions


@SETTINGS
@given(planted())
def test_redaction_locations_hold_no_form_of_any_secret(case: tuple[Exchange, list[str]]) -> None:
    exchange, secrets = case
    out = SANITIZER.sanitize(exchange)
    for where in out.redactions:
        for secret in secrets:
            assert all(form not in where for form in forms(secret)), where
