"""Secret-named fields of a Go value printed with %+v (godump.py, through textfields)."""

from __future__ import annotations

import json

import pytest

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from tests.sanitize.posted import posted

SANITIZER = Sanitizer(key=b"k")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("level=info msg=loaded cfg={Host:db Password:hunter2x Port:5432}\n", "text/plain"),
        ("2024/05/01 12:00:01 connecting &{User:bob Pass:hunter2x}\n", "text/plain"),
        ("&{User:bob Pass:hunter2x}", "text/plain"),
        ("{Host:db Password:hunter2x}", "text/plain"),  # opens like JSON, is not
        ("cfg: {DB:{Host:db Password:hunter2x} Name:shop}\r\n", "text/plain"),  # nested
        ("env map[API_TOKEN:hunter2x HOME:/root]\n", "text/plain"),
        ("req {Method:POST Token:hunter2x}", "text/plain"),
        (
            json.dumps({"msg": "dial &{User:bob Pass:hunter2x}"}, separators=(",", ":")),
            "application/json",
        ),
        (json.dumps({"msg": "cfg {Host:db Secret:hunter2x}"}), "application/json"),
    ],
)
def test_a_secret_field_of_a_dump_never_reaches_the_tape(body: str, content_type: str) -> None:
    out = SANITIZER.sanitize(posted(body, content_type))
    stored = out.request.body.decode()
    assert "hunter2x" not in stored
    assert out.redactions
    for kept in ("Host:db", "User:bob", "Name:shop", "HOME:/root", "Method:POST"):
        if kept in body:
            assert kept in stored


def test_a_dump_in_a_header_value_loses_its_secret() -> None:
    exchange = Exchange(
        request=Request(
            "GET", "api.test", path="/", headers=(("X-Debug", "&{User:bob Pass:hunter2x}"),)
        ),
        response=Response(200, "OK"),
    )
    out = SANITIZER.sanitize(exchange)
    value = dict(out.request.headers)["X-Debug"]
    assert "hunter2x" not in value and value.startswith("&{User:bob Pass:")


@pytest.mark.parametrize(
    "body",
    [
        "GET /users/{token:guid}/orders",  # a route template: one field, no blank
        'print(f"{password:>10}")',  # a format spec
        "{Host:db Token:}",  # no value
        "{Host:db Token: x}",  # a blank after the colon: YAML's flow style, not Go
        "{Host:db Mode:fast} and Password:later",  # outside the group
        "a {Host:db Password:x\ny}",  # the group does not close on its line
        "{Host:db TokenType:bearer Status:ok}",  # names that are not secret
        "ratio [a:1 b:2] and {Count:3 Size:4}",  # brackets that are no map
    ],
)
def test_look_alikes_are_kept_byte_for_byte(body: str) -> None:
    out = SANITIZER.sanitize(posted(body))
    assert out.request.body == body.encode()
    assert out.redactions == ()
