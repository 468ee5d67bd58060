"""Markdown tables whose header names a secret column (mdtable.py)."""

from __future__ import annotations

import json

import pytest

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer

SANITIZER = Sanitizer(key=b"k")


def _exchange(body: str, content_type: str = "text/markdown") -> Exchange:
    data = body.encode()
    return Exchange(
        request=Request("GET", "api.test", path="/notes"),
        response=Response(
            200, "OK", headers=(("Content-Type", content_type),), body=data, body_size=len(data)
        ),
    )


def _stored(body: str, content_type: str = "text/markdown") -> tuple[str, tuple[str, ...]]:
    out = SANITIZER.sanitize(_exchange(body, content_type))
    assert out.response is not None
    return out.response.body.decode(), out.redactions


TABLE = (
    "Accounts:\n\n| user | password | role |\n|---|:---:|---|\n"
    "| bob | hunter2x | admin |\n| ann | s3cr3tzz | dev |\n\nDone.\n"
)


def test_a_secret_column_is_replaced_in_every_row() -> None:
    stored, redactions = _stored(TABLE)
    assert "hunter2x" not in stored and "s3cr3tzz" not in stored
    for kept in ("| bob | ", " | admin |", "| ann | ", " | dev |", "\n\nDone.\n", "|---|:---:|"):
        assert kept in stored
    assert stored.count("\n") == TABLE.count("\n")
    assert redactions == ("response.body.text:field",)


@pytest.mark.parametrize(
    ("table", "secrets"),
    [
        # no outer pipes, CRLF, an escaped pipe in a cell
        ("user | API Key\r\n--- | ---\r\nbob | k\\|9aa8s7d6f5\r\n", ["9aa8s7d6f5"]),
        # a name/value table: the value of each secret-named row
        (
            "| Name | Value |\n|------|-------|\n"
            "| DB_HOST | db.local |\n| DB_PASSWORD | hunter2x |\n",
            ["hunter2x"],
        ),
        # one column
        ("| token |\n|---|\n| tok_9aa8s7d6f5 |\n", ["tok_9aa8s7d6f5"]),
    ],
)
def test_table_shapes(table: str, secrets: list[str]) -> None:
    stored, _ = _stored(table)
    for secret in secrets:
        assert secret not in stored
    assert "db.local" in stored or "db.local" not in table


def test_a_table_inside_a_json_string_loses_its_secret_column() -> None:
    body = json.dumps({"reply": TABLE})
    stored, redactions = _stored(body, "application/json")
    assert "hunter2x" not in stored and "s3cr3tzz" not in stored
    assert json.loads(stored)["reply"].startswith("Accounts:\n\n| user | password | role |")
    assert redactions == ("response.body$.reply",)


@pytest.mark.parametrize(
    "table",
    [
        "| key_count | tokens | name |\n|---|---|---|\n| 12 | 256 | ann |\n",
        "| key | description |\n|---|---|\n"
        "| theme | the colour scheme |\n| page_size | rows per page |\n",
        "| code | meaning |\n|---|---|\n| 404 | not found |\n| invalid_request | bad input |\n",
        "| Name | Value |\n|---|---|\n| retries | 3 |\n",
        "a | b\n---|---\nx | password\n",  # a secret word in a body cell names nothing
        "password | x\n\n---\n\nnot a table\n",  # a rule under a line, not a delimiter row
    ],
)
def test_ordinary_tables_are_kept_byte_for_byte(table: str) -> None:
    stored, redactions = _stored(table)
    assert stored == table
    assert redactions == ()


def _codes(rows: int, secret_every: int = 0) -> str:
    """A table of error codes, ``rows`` short rows under a ``Code`` column (a name
    secret as a whole only, whose constants are kept); with ``secret_every``, that
    row and every such one after holds an OAuth-like code instead."""

    def code(i: int) -> str:
        return f"c0de{i:04d}Zq9x" if secret_every and i % secret_every == 0 else f"E{i:04d}"

    lines = "".join(
        f"| {code(i)} | {400 + i % 100} | Something about case {i} |\n" for i in range(rows)
    )
    return "| Code | HTTP | Meaning |\n|---|---|---|\n" + lines


def test_a_long_table_of_short_rows_is_kept_whole() -> None:
    # 3,000 rows of 43 bytes: each row's cells and each distinct code cost about a
    # microsecond; charged per row one by one, the body was dropped as too dense.
    table = _codes(3000)
    assert len(table) > 120_000
    stored, redactions = _stored(table)
    assert stored == table
    assert redactions == ()


def test_a_long_table_of_short_rows_still_loses_its_secrets() -> None:
    # The same table with an OAuth-like code in every tenth row: each is replaced, the
    # constants and the other columns are kept.
    table = _codes(3000, secret_every=10)
    stored, redactions = _stored(table)
    assert "c0de" not in stored
    assert "| E0001 | 401 | Something about case 1 |\n" in stored
    assert "| E2999 | 499 | Something about case 2999 |\n" in stored
    assert stored.count("\n") == table.count("\n")
    assert redactions == ("response.body.text:field",)


def test_a_table_of_empty_rows_is_still_too_dense() -> None:
    # A secret column over a megabyte of empty rows: three bytes a row is more rows
    # than a body's work budget allows, so it is dropped, never written raw.
    table = "| password |\n|---|\n" + "||\n" * 350_000
    stored, redactions = _stored(table)
    assert stored == ""
    assert redactions == ("response.body: dropped (too dense to scan)",)
