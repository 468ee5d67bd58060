"""CSV exports: secret columns by header name, the rest scanned as text."""

from __future__ import annotations

from shadowtape import Exchange, Request
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.bodies import sanitize_body
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy
from shadowtape.sanitize.sanitizer import DROPPED_FOR_DENSITY

PSEUDO = Pseudonymizer(b"k")


def test_secret_columns_are_replaced_in_every_row() -> None:
    c = Context(Policy.build(), PSEUDO)
    body = (
        b'\xef\xbb\xbfid,email,password,note\r\n1,ann@example.com,hunter22,"a, b"\r\n2,,x1y2z3,\r\n'
    )
    out = sanitize_body(body, "text/csv; charset=utf-8", c, "response.body").decode("utf-8-sig")
    rows = [line.split(",", 3) for line in out.split("\r\n")[:3]]
    assert rows[0] == ["id", "email", "password", "note"]
    assert rows[1] == ["1", PSEUDO("ann@example.com"), PSEUDO("hunter22"), '"a, b"']
    assert rows[2] == ["2", "", PSEUDO("x1y2z3"), ""]
    assert out.endswith("\r\n")
    assert list(c.redactions) == ["response.body.csv.password", "response.body.text:email"]


def test_semicolons_and_no_secret_columns() -> None:
    c = Context(Policy.build(), PSEUDO)
    body = b"name;api_key\nann;k-123456"
    assert (
        sanitize_body(body, "text/csv", c, "r.body")
        == f"name;api_key\nann;{PSEUDO('k-123456')}".encode()
    )
    plain = b"id,name\n1,ann\n"
    assert sanitize_body(plain, "text/csv", Context(Policy.build(), PSEUDO), "r.body") is plain


def _request(body: bytes) -> Exchange:
    return Exchange(
        request=Request(
            "POST",
            "api.test",
            path="/export",
            headers=(("Content-Type", "text/csv"),),
            body=body,
            body_size=len(body),
        )
    )


def test_a_secret_column_over_a_million_empty_lines_is_dropped_as_too_dense() -> None:
    body = b"id,password,note\r\n1,x," + b"\r " * (512 * 1024) + b"\r\n"
    out = Sanitizer(key=b"k").sanitize(_request(body))
    assert out.request.body == b""
    assert DROPPED_FOR_DENSITY.format("request") in out.redactions


def test_an_export_with_a_secret_column_is_rewritten_not_dropped() -> None:
    rows = "".join(f"{i},user {i},pw-{i:06d}x,2026-12-0{i % 9 + 1}\n" for i in range(900))
    body = ("id,name,api_key,created\n" + rows).encode()
    out = Sanitizer(key=b"k").sanitize(_request(body))
    assert DROPPED_FOR_DENSITY.format("request") not in out.redactions
    assert out.request.body.startswith(b"id,name,api_key,created\n")
    assert b"pw-000007x" not in out.request.body
    assert out.request.body.count(b"\n") == 901
