"""Hostile inputs for the sanitizer's time bound: bodies built to make a scanner backtrack.

Each *opening* is the start of something a detector or field rule looks for (an e-mail's
``%40``, ``password=``, ``eyJ``, a PEM ``BEGIN`` line...), repeated, padded or left
unterminated so that a scanner which restarts at every offset, or backtracks over a long
run, takes quadratic time. Each *carrier* puts a payload where the sanitizer reads it:
a body of every kind it handles, a header value, a URL header, the query, the path.
``cases(size)`` is every opening in every carrier, each about ``size`` bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

import msgpack  # type: ignore[import-untyped]

from shadowtape import ErrorKind, Exchange, ExchangeError, Request, Response

#: The recorder's default body cap (``shadowtape_max_body``, "1m").
BODY_CAP = 1024 * 1024


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _pad(head: str, pad: str, size: int, tail: str = "") -> str:
    """``head``, then ``pad`` repeated, then ``tail``: ``size`` characters in all."""
    return head + _repeat(pad, max(0, size - len(head) - len(tail))) + tail


def _nested_url(size: int) -> str:
    """A secret-named pair URL-encoded again and again, then repeated to size."""
    unit = "password=a@b.example&token=eyJhbGciOi.eyJzdWIi.x"
    for _ in range(6):
        unit = quote(unit, safe="")
    return _repeat(unit + "&", size)


def _nested_json(size: int) -> str:
    """JSON stringified inside strings eight deep, repeated to size."""
    unit: object = {"password": "hunter22", "email": "a@b.example"}
    for _ in range(8):
        unit = json.dumps(unit)
    return _repeat(json.dumps({"v": unit}) + " ", size)


def _pem(size: int) -> str:
    line = base64.b64encode(bytes(range(48))).decode() + "\n"
    return _pad("-----BEGIN RSA PRIVATE KEY-----\n", line, size)


#: A multipart part's start in the multipart carrier: the disposition's parameters and
#: more header lines to fill in; its content follows.
_PART = "\r\n--b0undary\r\nContent-Disposition: form-data; {}\r\n{}\r\n"


#: Name -> payload of (about) ``size`` characters.
def _numbered(n: int, item: Callable[[int], str]) -> str:
    """``item(0)``, ``item(1)``... joined, cut to ``n`` characters."""
    out = []
    size = 0
    i = 0
    while size < n:
        out.append(item(i))
        size += len(out[-1])
        i += 1
    return "".join(out)[:n]


def _distinct_secrets(n: int) -> str:
    """Secret-named pairs with a different value each: hundreds of echo search strings."""
    return _numbered(n, lambda i: f"password=tok{i:08d}x&note=tok{i // 2:08d}x&")


def _json_document(n: int, item: Callable[[int], str], tail: str, brackets: str = "[]") -> str:
    """A valid JSON document of about ``n`` characters: ``{"a": [item(0), ...], tail}``,
    so that it is parsed and walked (the tail holds what makes it worth walking)."""
    parts: list[str] = []
    size = len(tail) + 12
    while size < n:
        parts.append(item(len(parts)))
        size += len(parts[-1]) + 2
    return f'{{"a": {brackets[0]}{", ".join(parts)}{brackets[1]}, {tail}}}'


def _long_secrets(unit: Callable[[int], str]) -> Callable[[int], str]:
    """Secret-named pairs, each a different value of about 6,000 characters: each one is
    shaped, remembered for echo with its encoded forms, and paid for by its length."""
    return lambda n: _numbered(n, lambda i: f"password={i:06d}{unit(i)}&")


def _shared_beginning(n: int) -> str:
    """Forty secret-named values that share their first 96 characters, then a run of
    those characters: each place of the run starts every value but holds none, so a
    search that compares every value at each place costs 40 comparisons a byte."""
    head = "".join(f"password={'a' * 96}{i:06d}b&" for i in range(40))
    return head + "note=" + "a" * max(0, n - len(head) - 5)


def _letters(i: int) -> str:
    """Six letters, different for each ``i`` (a constant's shape: names.is_symbol)."""
    return "".join(chr(ord("a") + int(d)) for d in f"{i:06d}")


def _random_value(i: int) -> str:
    """6,000 characters of base64url, different for each ``i`` from its first ones."""
    data = hashlib.shake_256(i.to_bytes(4, "big")).digest(4500)
    return base64.urlsafe_b64encode(data).decode()


OPENINGS: dict[str, Callable[[int], str]] = {
    "a%40 repeated": lambda n: _repeat("a%40", n),
    "@ repeated": lambda n: _repeat("a@", n),
    "e-mail domain labels": lambda n: _pad("a@", "a1.", n, "1"),
    "password= repeated": lambda n: _repeat("password=", n),
    "password: repeated": lambda n: _repeat("password:", n),
    "password: then spaces": lambda n: _pad("password:", " ", n),
    "password: x then spaces": lambda n: _pad("password: x", " ", n),
    "password: x then tabs": lambda n: _pad("password: x", "\t", n, "\r"),
    "password then spaces then colon": lambda n: _pad('"password"', " ", n, ': "x"'),
    "quoted password: repeated": lambda n: _repeat('"password":', n),
    "quoted password: open quote": lambda n: _repeat('"password": "', n),
    "password newlines": lambda n: _repeat("password\n", n),
    "- password: lines": lambda n: _repeat("- password: x\n", n),
    "spaces": lambda n: " " * n,
    "tabs": lambda n: "\t" * n,
    "newlines": lambda n: "\n" * n,
    "CRLF": lambda n: "\r\n" * (n // 2),
    "token=&": lambda n: _repeat("token=&", n),
    "eyJ repeated": lambda n: _repeat("eyJ", n),
    "eyJ. repeated": lambda n: _repeat("eyJab.", n),
    "JWT head, no third dot": lambda n: _pad("eyJab.eyJ", "a", n),
    "PEM BEGIN, no END": _pem,
    "PEM BEGIN repeated": lambda n: _repeat("-----BEGIN PRIVATE KEY-----\n", n),
    "base64 key BEGIN repeated": lambda n: _repeat("LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t ", n),
    "base64 key, wrapped lines": lambda n: _pad("LS0tLS1CRUdJTiBQUklWQVRFIEtF\n", "  QUJD\n", n),
    "base64 BEGIN, not a key": lambda n: _repeat("LS0tLS1CRUdJTiBDRVJU\n", n),
    "Bearer repeated": lambda n: _repeat("Bearer ", n),
    "bearer then spaces": lambda n: _pad("bearer", " ", n),
    "sk- repeated": lambda n: _repeat("sk-", n),
    "sk_live_ repeated": lambda n: _repeat("sk_live_", n),
    # values kept for their shape (constants.object_path) ride on the redaction limit
    "<Key> path repeated": lambda n: _repeat("<Key>photos/2024/a.jpg</Key>", n),
    "key: path repeated": lambda n: _repeat('"key": "a/b.jpg", ', n),
    "key= long path": lambda n: _repeat("key=" + "ab_1/" * 200 + "a.jpg\n", n),
    "AKIA repeated": lambda n: _repeat("AKIA", n),
    "AIza repeated": lambda n: _repeat("AIza", n),
    "xoxb- short runs": lambda n: _repeat("xoxb-abc ", n),
    "card groups": lambda n: _repeat("4111 1111 1111 ", n),
    "card digits": lambda n: "4" * n,
    "card dashes": lambda n: _repeat("4-", n),
    "card groups, mixed separators": lambda n: _repeat("4111 1111-2111 1111 1111 ", n),
    "card digits then a letter": lambda n: _repeat("4111111111111111x ", n),
    "PEM END, not a key line": lambda n: _repeat("-----BEGIN PRIVATE KEY-----\n-----END ", n),
    "<input repeated": lambda n: _repeat("<input ", n),
    "<input name=state repeated": lambda n: _repeat('<input name="state" value=', n),
    "<input name=password open": lambda n: _repeat('<input name="password" value="', n),
    "<password> open": lambda n: _repeat("<password>x", n),
    "</ repeated": lambda n: _repeat("</", n),
    "open quote": lambda n: '"' + "a" * (n - 1),
    "open brackets": lambda n: "[" * (n // 2) + "{" * (n // 2),
    "JSON nesting": lambda n: _repeat('{"a":', n),
    "backslash-u": lambda n: _repeat("\\u00", n),
    "percent-encoded repeatedly": _nested_url,
    "JSON stringified repeatedly": _nested_json,
    "%25 repeated": lambda n: _repeat("%25", n),
    "= repeated": lambda n: "=" * n,
    "; repeated": lambda n: _repeat("a;", n),
    "plus repeated": lambda n: "+" * n,
    "/reset/ repeated": lambda n: _repeat("/reset/", n),
    "(S( repeated": lambda n: _repeat("(S(", n),
    "token-like segments": lambda n: _repeat("/Zq9vR2xT7mPa4KwE8sLd", n),
    "X-Api-Key: repeated": lambda n: _repeat("X-Api-Key: ", n),
    "Authorization: then spaces": lambda n: _pad("Authorization:", " ", n),
    "name/value pairs": lambda n: _repeat('{"name": "password", "value": "x"}, ', n),
    "GraphQL bindings": lambda n: _repeat("login(password: $p) ", n),
    "distinct secrets": _distinct_secrets,
    "distinct long secrets": _long_secrets(lambda i: "ab!" * 2000),
    "distinct long secrets beyond ASCII": _long_secrets(lambda i: "é«a" * 2000),
    "distinct long random secrets": _long_secrets(_random_value),
    "long secrets sharing a beginning": _shared_beginning,
    "<url> repeated": lambda n: _repeat("<https://a.test/reset/x>; ", n),
    "reset links, distinct tokens": lambda n: _numbered(
        n, lambda i: f"https://a.test/reset/Zq8v{i:08d}W9 "
    ),
    # Issue 18: text-body, XML, token-format and PII openings.
    "--password repeated": lambda n: _repeat("--password ", n),
    "-Ddb.password= repeated": lambda n: _repeat("-Ddb.password=", n),
    "password then spaces then =": lambda n: _pad("password", " ", n, "= x"),
    "password = then spaces": lambda n: _pad("password =", " ", n, "x"),
    "export password= lines": lambda n: _repeat("export password = x\r\n", n),
    "<meta name=csrf-token open": lambda n: _repeat("<meta name=csrf-token content=", n),
    "<entry key=password> open": lambda n: _repeat('<entry key="password">x', n),
    "CDATA open": lambda n: _repeat("<password><![CDATA[", n),
    "PGP BEGIN, no END": lambda n: _pad("-----BEGIN PGP PRIVATE KEY BLOCK-----\n", "QUJD\n", n),
    "PEM BEGIN then # repeated": lambda n: _repeat("-----BEGIN PRIVATE KEY-----#", n),
    "PEM END repeated": lambda n: _repeat("-----END PRIVATE KEY-----", n),
    "ya29. repeated": lambda n: _repeat("ya29.", n),
    "SG. repeated": lambda n: _repeat("SG.abc", n),
    "npm_ repeated": lambda n: _repeat("npm_", n),
    "postgres://u: repeated": lambda n: _repeat("postgres://u:", n),
    ":// then userinfo run": lambda n: _pad("redis://u:", "p", n),
    "AccountKey= repeated": lambda n: _repeat("AccountKey=", n),
    "slack hook repeated": lambda n: _repeat("hooks.slack.com/services/", n),
    "IBAN groups": lambda n: _repeat("DE89 3704 ", n),
    "SSN-like": lambda n: _repeat("123-45-", n),
    "plus digits": lambda n: _repeat("+1234567", n),
    # Command lines, ";" pairs, encoded links, markdown tables, header lists (s15).
    "mysql repeated": lambda n: _repeat("mysql ", n),
    "mysql then words, no -p": lambda n: _pad("mysql -u root", " a", n),
    "mysql -p repeated": lambda n: _repeat("mysql -pX ", n),
    "mysql clustered flags": lambda n: _repeat("mysql -vCsNBrtnq ", n),
    "mongosh -p repeated": lambda n: _repeat("mongosh -p x ", n),
    "7z then words": lambda n: _pad("7z", " a", n),
    "smbclient -U, no %": lambda n: _pad("smbclient -U ", "a", n),
    "zip -P repeated": lambda n: _repeat("zip -P ", n),
    "mysql -p beyond ASCII": lambda n: _repeat("mysql -pé«x ", n),
    "curl -u then quotes": lambda n: _pad("curl -u a:", "'b c' ", n),
    "htpasswd -b then flags": lambda n: _pad("htpasswd -b", " -c 1", n),
    "sshpass -f repeated": lambda n: _pad("sshpass", " -f x", n),
    "token=; repeated": lambda n: _repeat("token=;", n),
    "encoded :// repeated": lambda n: _repeat("%3A%2F%2F", n),
    "encoded reset links": lambda n: _repeat("next=https%3A%2F%2Fa%2Freset%2Fx&", n),
    "table delimiter rows": lambda n: _repeat("| password |\n|---|\n", n),
    "table rows, empty cells": lambda n: "| password |\n|---|\n" + _repeat("||\n", n - 20),
    "table header then pipes": lambda n: _pad("| password |\n|---|\n", "|", n),
    "table rows, distinct codes": lambda n: (
        "| code |\n|---|\n" + _numbered(n - 16, "|E{}|\n".format)
    ),
    "table rows beyond ASCII": lambda n: "é | code |\n|---|\n" + _repeat("|é|\n", n - 18),
    "table rows, escaped pipes": lambda n: "| code |\n|---|\n" + _repeat("|a\\|b|\n", n - 16),
    "Basic then base64": lambda n: _repeat("Basic YWJjZDpl ", n),
    "Basic then a long run": lambda n: _pad("Basic ", "QUJD", n),
    "netrc machine repeated": lambda n: _repeat("machine a login b ", n),
    # .pgpass lines and Digest lists (s15 gaps 3).
    ": repeated": lambda n: ":" * n,
    "pgpass fields, no line end": lambda n: _pad("db:5432:a:b:", "c:", n),
    "pgpass lines, quoted": lambda n: _repeat('"db:5432:a:b:c', n),
    "pgpass lines, escaped ends": lambda n: _repeat("\\ndb:5432:a:b:c", n),
    "pgpass lines, escaped colons": lambda n: _pad("db:5432:a:b:", "\\:", n, " x"),
    "Digest then many params": lambda n: _pad("Digest ", 'a="b", ', n),
    "Digest response= repeated": lambda n: _repeat("Digest response=x, ", n),
    "Digest list of responses": lambda n: _pad("Digest ", "response=x, ", n, "a=b"),
    "Digest open quote": lambda n: _pad('Digest response="', "a", n),
    # RelayState return URLs, Digest challenges, version-labelled dotted numbers (s16).
    "RelayState return path, deep": lambda n: _pad("RelayState=/", "a-b/", n),
    "RelayState=/ repeated": lambda n: _repeat("RelayState=%2Fa%3Fb%3Dc&", n),
    "RelayState inputs repeated": lambda n: _repeat(
        '<input name="RelayState" value="/a/b?c=d">', n
    ),
    "Digest challenge, many params": lambda n: _pad("Digest ", 'nonce="b", ', n),
    "version labels, dotted cards": lambda n: _repeat("version 4111.1111.1111.1111 ", n),
    "version labels, dotted cards, spaced": lambda n: _repeat(
        "version 4111.1111.1111.1111 " + "lorem ipsum " * 3, n
    ),
    "version labels, no number": lambda n: _repeat("FileVersion: ", n),
    "version label, then a dotted run": lambda n: _pad("build #4111.", "1111.", n),
    "Go dump fields, no closing": lambda n: _pad("&{", "Password:x ", n),
    "Go dump groups repeated": lambda n: _repeat("{Password:x ", n),
    "Go dump, a long value": lambda n: _pad("&{Password:", "x", n, "}"),
    "Go map[ repeated": lambda n: _repeat("map[token:x ", n),
    "Go dump names, no values": lambda n: _repeat("{Password: ", n),
    "a&#64; repeated": lambda n: _repeat("a&#64;", n),
    "a&#x40; then domain labels": lambda n: _pad("a&#x40;", "a1.", n, "1"),
    "&commat; repeated": lambda n: _repeat("a&commat;", n),
    "card groups with dots": lambda n: _repeat("4111.1111.1111.", n),
    "dotted cards, a fifth group": lambda n: _repeat("4111.1111.1111.1111.", n),
    "digits and dots": lambda n: _repeat("4.", n),
    "JSON: header lists": lambda n: _json_document(
        n, lambda i: '["Host", "a", "Accept", "b"]', '"pwd": "y"'
    ),
    # Kubernetes Secrets, YAML block scalars, debug pages, .pgpass, Go dumps (s15 gaps 2).
    "kind: Secret, data lines": lambda n: _pad("kind: Secret\ndata:\n", "  a: b\n", n),
    "kind: Secret, data: repeated": lambda n: _pad("kind: Secret\n", "data:\n", n),
    "kind: Secret, items repeated": lambda n: _pad("kind: Secret\n", "- data:\n", n),
    "kind: Secret, deeper and deeper": lambda n: (
        "kind: Secret\n"
        + "".join(" " * i + "data:\n" for i in range(int((2 * n) ** 0.5)))[: n - 13]
    ),
    "<td>password</td><td> repeated": lambda n: _repeat("<td>password</td><td>", n),
    "<td>password</td> then spaces": lambda n: _pad("<td>password</td>", " ", n, "<td>x</td>"),
    "=&gt; repeated": lambda n: _repeat('"password"=&gt;', n),
    "&#x27;password&#x27;: repeated": lambda n: _repeat("&#x27;password&#x27;: &#x27;", n),
    "password: | then deeper lines": lambda n: _pad("password: |\n", "  x\n", n),
    "password: | repeated, deeper": lambda n: "".join(
        " " * i + "password: |\n" for i in range(int((2 * n) ** 0.5))
    )[:n],
    "password:x repeated": lambda n: _repeat("password:x\n", n),
    "GraphQL query=&variables= repeated": lambda n: _repeat(
        "query=%7Ba(password%3A%24p)%7D&variables=%7B%22p%22%3A%22x%22%7D&", n
    ),
    "multipart base64 part, wrapped lines": lambda n: _pad(
        "\r\n--b0undary\r\nContent-Transfer-Encoding: base64\r\n\r\n", "cGFzc3dvcmQ9eA==\r\n", n
    ),
    "multipart base64 part, one line": lambda n: _pad(
        "\r\n--b0undary\r\nContent-Transfer-Encoding: base64\r\n\r\n", "aGVsbG8gd29ybGQh", n
    ),
    # Many tiny parts in the multipart carrier (its boundary is b0undary), s15.
    "multipart tiny parts": lambda n: _repeat(_PART.format('name="a"', "") + "x", n),
    "multipart secret-named parts": lambda n: _repeat(_PART.format('name="password"', "") + "x", n),
    "multipart parts, long header blocks": lambda n: _repeat(
        _PART.format('name="a"', "X-A: b\r\n" * 100) + "x", n
    ),
    "multipart .csv parts": lambda n: _repeat(
        _PART.format('name="f"; filename="a.csv"', "") + "id,password\r\n1,x", n
    ),
    "multipart base64 parts": lambda n: _repeat(
        _PART.format('name="a"', "Content-Transfer-Encoding: base64\r\n") + "aGVsbG8=", n
    ),
    "multipart JSON parts": lambda n: _repeat(
        _PART.format('name="a"', "Content-Type: application/json\r\n") + '{"a": 1}', n
    ),
    "CSV header, then short rows": lambda n: _pad("id,password\n", "1,\n", n),
    "JSON: cookie header lists": lambda n: _json_document(
        n, lambda i: '["Cookie", "a=1; b=2; c=3"]', '"b": 1'
    ),
    "JSON: cookie pair objects": lambda n: _json_document(
        n, lambda i: '{"name": "Cookie", "value": "a=1"}', '"b": 1'
    ),
    "JSON: lists of short strings, one Cookie": lambda n: _json_document(
        n, lambda i: '["Accept", "x", "Host", "y"]', '"c": ["Cookie", "a=1"]'
    ),
    # name=value tokens in a log, repeated (skipped once seen twice), each twice (each
    # one looked at), all different (each one tried), s16.
    "name=value tokens repeated": lambda n: _repeat(" user_key=email app_key=web\n", n),
    "name=value tokens, each twice": lambda n: _numbered(
        n, lambda i: f" user_key={_letters(i // 2)}\n"
    ),
    "name=value tokens, all different": lambda n: _numbered(
        n, lambda i: f" user_key={_letters(i)} "
    ),
    "JSON: kind Secret rows": lambda n: _json_document(
        n, lambda i: '{"kind": "Secret", "data": {"a": "b"}}', '"b": 1'
    ),
    # Dense JSON documents, valid as a whole ("JSON raw"), each with one secret-named
    # key or value somewhere, so that the whole document is walked.
    "JSON: tiny objects": lambda n: _json_document(
        n, lambda i: '{"Accept": "x"}', '"password": "y"'
    ),
    "JSON: empty objects": lambda n: _json_document(n, lambda i: "{}", '"token": "y"'),
    "JSON: zeros": lambda n: _json_document(n, lambda i: "0", '"secret": "y"'),
    "JSON: [name, value] pairs": lambda n: _json_document(
        n, lambda i: '["Accept", "x"]', '"b": "password"'
    ),
    "JSON: name/value objects": lambda n: _json_document(
        n, lambda i: f'{{"name": "n{i}", "value": "x"}}', '"c": {"name": "password", "value": "s"}'
    ),
    "JSON: distinct keys": lambda n: _json_document(n, lambda i: f'"k{i}": 1', '"pin": 1', "{}"),
    "JSON: strings with ':'": lambda n: _json_document(n, lambda i: f'"a:{i}"', '"password": "y"'),
    "JSON: name hints with ':'": lambda n: _json_document(n, lambda i: f'"tokens: {i}"', '"b": 1'),
    "JSON: escaped strings": lambda n: _json_document(n, lambda i: f'"\\u00e9:{i}"', '"pwd": "y"'),
    "JSON: escaped strings, a big number": lambda n: _json_document(
        n, lambda i: f'"\\u00e9:{i}"', '"pwd": "y", "n": 123456789012345678901234567890'
    ),
    "JSON: stringified with escapes": lambda n: _json_document(
        n, lambda i: f'"{{\\"k\\": \\"\\\\u00e9:{i}\\"}}"', '"pwd": "y"'
    ),  # Values under secret names asked whether they only stand in for one (constants.py):
    # labels, placeholders and version ranges, many short and one long.
    "JSON: labels and placeholders": lambda n: _json_document(
        n,
        lambda i: f'{{"password": "Enter your password {i}", "token": "YOUR_TOKEN_{i}"}}',
        '"pwd": "<' + "a" * 200 + '>"',
    ),
    "JSON: masked secrets": lambda n: _json_document(
        n, lambda i: '{"password": "n/a", "token": "***", "pin": "none"}', '"b": 1'
    ),
    "JSON: dependency ranges": lambda n: _json_document(
        n,
        lambda i: f'{{"dependencies": {{"passport-token": "^1.2.{i} || >=1.0.0 <2 || 1.x"}}}}',
        '"dependencies": {"api-token": "' + "^1 || " * 300 + '"}',
    ),
    "-pX repeated": lambda n: _repeat(" -pYOUR_PASSWORD", n),
    "YOUR_ then capitals": lambda n: _pad("password=YOUR_", "A", n),
    "env lines with ; and &": lambda n: _repeat("DB_PASSWORD=a;b&c\nx.token=d&e\n", n),
    "env name then a long word": lambda n: _pad("API_TOKEN=", "a;&", n),
    "label lines": lambda n: _repeat("a.password=Password\npassword: Mot de passe\n", n),
}


@dataclass(frozen=True, slots=True)
class Case:
    opening: str
    carrier: str
    exchange: Exchange

    @property
    def name(self) -> str:
        return f"{self.opening} / {self.carrier}"

    @property
    def size(self) -> int:
        request, response = self.exchange.request, self.exchange.response
        assert response is not None
        heads = sum(len(n) + len(v) for n, v in (*request.headers, *response.headers))
        error = self.exchange.error
        texts = len(response.reason) + (len(error.message) if error is not None else 0)
        return (
            len(request.body)
            + len(response.body)
            + heads
            + len(request.path)
            + len(request.query)
            + texts
        )

    def scannable(self) -> bytes:
        """Every byte the sanitizer reads, for the reference ``bytes.find`` scan."""
        request, response = self.exchange.request, self.exchange.response
        assert response is not None
        heads = "\n".join(f"{n}: {v}" for n, v in (*request.headers, *response.headers))
        error = self.exchange.error.message if self.exchange.error is not None else ""
        text = f"{request.path}?{request.query}\n{heads}\n{response.reason}\n{error}\n".encode()
        return text + request.body + response.body


def _exchange(
    *,
    request_headers: tuple[tuple[str, str], ...] = (),
    response_headers: tuple[tuple[str, str], ...] = (),
    request_body: bytes = b"",
    response_body: bytes = b"",
    path: str = "/submit",
    query: str = "",
    reason: str = "OK",
    error: str = "",
) -> Exchange:
    return Exchange(
        request=Request(
            "POST",
            "api.example.test",
            path=path,
            query=query,
            headers=request_headers,
            body=request_body,
            body_size=len(request_body),
        ),
        response=Response(
            200,
            reason,
            headers=response_headers,
            body=response_body,
            body_size=len(response_body),
        ),
        error=ExchangeError(ErrorKind.OTHER, error) if error else None,
    )


def _body(content_type: str, wrap: Callable[[str], str]) -> Callable[[str], Exchange]:
    def build(payload: str) -> Exchange:
        data = wrap(payload).encode("utf-8", "surrogatepass")
        return _exchange(request_headers=(("Content-Type", content_type),), request_body=data)

    return build


def _response_body(content_type: str) -> Callable[[str], Exchange]:
    def build(payload: str) -> Exchange:
        data = payload.encode("utf-8", "surrogatepass")
        return _exchange(response_headers=(("Content-Type", content_type),), response_body=data)

    return build


def _multipart(payload: str) -> str:
    return (
        "--b0undary\r\n"
        'Content-Disposition: form-data; name="note"; filename="note.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
        f"{payload}\r\n--b0undary--\r\n"
    )


def _csv(payload: str) -> str:
    return "id,password,note\r\n" + "1,x," + payload.replace("\n", " ") + "\r\n"


#: Name -> how a payload reaches the sanitizer.
CARRIERS: dict[str, Callable[[str], Exchange]] = {
    "JSON string": _body("application/json", lambda p: json.dumps({"note": p})),
    "JSON raw": _body("application/json", lambda p: p),
    "form": _body("application/x-www-form-urlencoded", lambda p: p),
    "form value": _body("application/x-www-form-urlencoded", lambda p: "note=" + quote(p)),
    "text": _body("text/plain", lambda p: p),
    "html response": _response_body("text/html; charset=utf-8"),
    # Responses: what is kept only there (labels, placeholders, flags) is read there.
    "JSON response": _response_body("application/json"),
    "multipart": _body("multipart/form-data; boundary=b0undary", _multipart),
    "csv": _body("text/csv", _csv),
    "header": lambda p: _exchange(request_headers=(("X-Note", p),)),
    "Location header": lambda p: _exchange(
        response_headers=(("Location", "https://example.test/next?note=" + p),)
    ),
    "query": lambda p: _exchange(query="note=" + p),
    # Not valid UTF-8 (a lone surrogate), so it takes the binary path.
    "protobuf": _body("application/x-protobuf", lambda p: f"\udcff\x08\x96\x12\x80{p}\x00"),
    "msgpack": lambda p: _exchange(
        request_headers=(("Content-Type", "application/msgpack"),),
        request_body=msgpack.packb({"note": p}),
    ),
    "path": lambda p: _exchange(path="/files/" + p),
    "Link header": lambda p: _exchange(response_headers=(("Link", p),)),
    "reason phrase": lambda p: _exchange(reason=p),
    "error message": lambda p: _exchange(error=p),
}


def cases(size: int, openings: dict[str, Callable[[int], str]] = OPENINGS) -> Iterator[Case]:
    """Every opening in every carrier, each payload ``size`` characters long."""
    for opening, make in openings.items():
        payload = make(size)
        for carrier, build in CARRIERS.items():
            yield Case(opening, carrier, build(payload))
