"""YAML block scalars under a secret name and ``name:value`` lines with no blank after
the colon (Java properties), in text bodies (textfields.py)."""

from __future__ import annotations

import pytest

from shadowtape.sanitize import Sanitizer
from tests.sanitize.served import served, stored

SANITIZER = Sanitizer(key=b"k")


def _stored(body: str, content_type: str = "application/yaml") -> str:
    return stored(SANITIZER, served(body, content_type))


@pytest.mark.parametrize(
    "text",
    [
        "db:\n  password: |\n    hunter2hunter2X\n    s3cr3tzzQline\n  host: db.internal\n",
        "password: >-\n  hunter2hunter2X\n\n  s3cr3tzzQline\nhost: db.internal\n",
        "password: |2+ # keep\n   hunter2hunter2X\r\n   s3cr3tzzQline\r\nhost: db.internal\r\n",
        "users:\n  - name: bob\n    password: |\n      hunter2hunter2X\n      s3cr3tzzQline\n"
        "    host: db.internal\n",
        "- password: >\n    hunter2hunter2X\n    s3cr3tzzQline\n- host: db.internal\n",
    ],
    ids=["|", ">- with a blank line", "|2+ CRLF", "list item", "top list item"],
)
def test_a_block_scalar_under_a_secret_name_is_replaced_whole(text: str) -> None:
    stored = _stored(text)
    assert "hunter2hunter2X" not in stored and "s3cr3tzzQline" not in stored
    assert "host: db.internal" in stored
    assert stored.count("\n") == text.count("\n")


def test_a_block_scalar_under_another_name_is_kept() -> None:
    text = "description: |\n  hello world text\n  password reset flow\nnote: >-\n  plain\n"
    assert _stored(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "db.password:hunter2hunter2X\ndb.user:app\n",
        "  spring.datasource.password:hunter2hunter2X\r\n",
        "api_token:hunter2hunter2X",
    ],
)
def test_a_properties_line_with_no_blank_after_the_colon_is_replaced(text: str) -> None:
    stored = _stored(text, "text/plain")
    assert "hunter2hunter2X" not in stored
    assert ("db.user:app" in stored) == ("db.user:app" in text)


def test_colons_without_a_secret_name_are_kept() -> None:
    text = (
        "db.host:localhost\nurl:http://x.test/a\ntime 12:30:45\n"
        "token://not-a-value\npassword_hint:\nsee password:reset on the page\n"
    )
    assert _stored(text, "text/plain") == text
