"""Echo search strings: every encoded form of a secret, and any number of secrets at once."""

from __future__ import annotations

import base64
import html
import json

from shadowtape.sanitize.context import EXACT_ECHO, Context
from shadowtape.sanitize.echoindex import EchoIndex, forms
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy

PSEUDO = Pseudonymizer(b"k")


def test_forms_cover_url_html_json_and_base64() -> None:
    value, out = 'a&b<c"d/é+Zq9v', "replacement-x"
    found = dict(forms(value, out))
    b64 = base64.b64encode(value.encode()).decode()
    for form in (
        value,
        html.escape(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        b64,
        b64.rstrip("="),
        base64.urlsafe_b64encode(value.encode()).decode(),
    ):
        assert form in found, form
    assert found[b64] == base64.b64encode(out.encode()).decode()
    assert found[html.escape(value)] == html.escape(out)


def test_an_echo_in_each_encoding_is_replaced() -> None:
    c = Context(Policy.build(), PSEUDO)
    secret = 'Zq9v"R2xT<7mPa&4KwE'
    c.secret(secret, "request.cookie.sid")
    encodings = [
        html.escape(secret),
        json.dumps(secret)[1:-1],
        base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    ]
    for encoded in encodings:
        out = c.text(f"<p>{encoded}</p>", "response.body.text")
        assert encoded not in out, encoded


def test_any_number_of_secrets_anywhere_in_one_pass_per_group() -> None:
    c = Context(Policy.build(), PSEUDO)
    values = [f"sec{i:04d}-Tok" for i in range(600)]
    for value in values:
        c.secret(value, "request.body$.t")
    assert len(c.echo) > EXACT_ECHO
    text = "".join(f"x{value}." for value in values)  # glued to other token characters
    out = c.text(text, "response.body.text")
    assert all(value not in out for value in values)
    assert out == "".join(f"x{PSEUDO(value)}." for value in values)


def test_index_bytes_and_non_ascii() -> None:
    index = EchoIndex({"naïve-secret": "XXXXXXXXXXXX", "plain-secret": "YYYYYYYYYYYY"})
    assert index.contains("a naïve-secret b") and not index.contains("nothing here")
    assert index.sub("é plain-secret naïve-secret") == "é YYYYYYYYYYYY XXXXXXXXXXXX"
    assert index.sub_bytes("naïve-secret".encode()) == b"XXXXXXXXXXXX"


def test_shared_prefixes_long_strings_and_the_longest_match() -> None:
    echo = {f"tok{i:06d}": f"TOK{i:06d}" for i in range(2000)}
    echo["tok000001-and-more"] = "LONGER-REPLACED!!"
    long_key = "L" + "x" * 200
    echo[long_key] = "R" * 201
    index = EchoIndex(echo)
    text = f"a tok000001-and-more b tok001999c {long_key}! tok00"
    assert index.sub(text) == f"a LONGER-REPLACED!! b TOK001999c {'R' * 201}! tok00"
    assert index.contains("xx" + long_key) and not index.contains("L" + "x" * 150)
