"""PostgreSQL password-file lines in text bodies (pgpass.py)."""

from __future__ import annotations

import json

import pytest

from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.pgpass import entry_spans
from tests.sanitize.posted import posted, stored_without, unchanged

SANITIZER = Sanitizer(key=b"k")


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("db.internal:5432:shop:bob:S3cretPw9", "S3cretPw9"),
        ("localhost:*:*:postgres:S3cretPw9", "S3cretPw9"),
        ("  *:6432:app:svc:S3cretPw9  ", "S3cretPw9"),
        ("10.0.0.5:5432:app:svc:S3cretPw9", "S3cretPw9"),
        ("/var/run/postgresql:5432:app:svc:S3cretPw9", "S3cretPw9"),
        ("db:5432:app:svc:S3cret\\:Pw9", "S3cret\\:Pw9"),  # an escaped colon
        ("\\:\\:1:5432:app:svc:S3cretPw9", "S3cretPw9"),  # IPv6 host, colons escaped
    ],
)
def test_the_password_of_an_entry_and_nothing_else_is_found(line: str, secret: str) -> None:
    assert [line[start:end] for start, end in entry_spans(line)] == [secret]


@pytest.mark.parametrize(
    "line",
    [
        "12:30:00",
        "2024-05-01 12:30:00:123",
        "2001:db8::8a2e:370",  # IPv6: an empty group
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",  # eight groups
        "fe80::1%eth0",
        "00:1a:2b:3c:4d:5e",  # a MAC address
        "1:2:3:4:5",  # a ratio: no host
        "main.c:12:5: error: expected ';'",  # blanks in the fields
        "db:5432:app:svc",  # four fields
        "db:5432:app:svc:pw:extra",  # six
        "db:port:app:svc:pw",  # the port is no number
        "db:5:app:svc:pw",  # nor a port of one digit
        "say db:5432:app:svc:pw now",  # not a line of its own
    ],
)
def test_look_alikes_are_no_entries(line: str) -> None:
    assert list(entry_spans(line)) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("# .pgpass\ndb.internal:5432:shop:bob:S3cretPw9\n*:*:*:replica:Other9Pw\n", "text/plain"),
        ("db.internal:5432:shop:bob:S3cretPw9\r\nlocalhost:*:*:x:Other9Pw\r\n", "text/plain"),
        (json.dumps({"pgpass": "db.internal:5432:shop:bob:S3cretPw9"}), "application/json"),
        (
            json.dumps({"files": {".pgpass": "db:5432:shop:bob:S3cretPw9\n*:*:*:r:Other9Pw\n"}}),
            "application/json",
        ),
    ],
)
def test_an_entry_password_never_reaches_the_tape(body: str, content_type: str) -> None:
    out = SANITIZER.sanitize(posted(body, content_type))
    stored = out.request.body.decode()
    assert "S3cretPw9" not in stored
    assert "Other9Pw" not in stored or "Other9Pw" not in body
    assert "db" in stored and ":5432:shop:bob:" in stored  # the rest of the line stays
    assert any(r.endswith(":pgpass") or "$" in r for r in out.redactions)


def test_the_password_is_replaced_wherever_it_is_echoed() -> None:
    body = "db:5432:shop:bob:S3cretPw9\nconnecting with S3cretPw9\n"
    out = SANITIZER.sanitize(posted(body)).request.body.decode()
    assert "S3cretPw9" not in out


def test_ordinary_colon_separated_text_is_kept_byte_for_byte() -> None:
    assert unchanged("at 12:30:00\nfe80::1\n2001:db8::8a2e:370:7334\nmain.c:12:5: error: x\n")


def test_the_detector_can_be_switched_off() -> None:
    assert b"S3cretPw9" in stored_without("pgpass", "db:5432:shop:bob:S3cretPw9\n")
