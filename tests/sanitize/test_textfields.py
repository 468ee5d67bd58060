"""Secret-named fields inside free text that is not parsed."""

from __future__ import annotations

import pytest

from shadowtape.sanitize.context import Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy
from shadowtape.sanitize.textfields import scan_fields

PSEUDO = Pseudonymizer(b"k")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"user": {"password": "hunter22", "n": 1', "hunter22"),  # truncated JSON
        ('{"password": "hunter\\"22"}', 'hunter"22'),
        ('{"pin": 123456}', "123456"),
        ('{"password": "cut-mid-val', "cut-mid-val"),
        ("GET /cb?token=abc123xyz&x=1", "abc123xyz"),
        ("<user><password>hunter22</password></user>", "hunter22"),
        ("<ns:secret>s3cr3tvalue</ns:secret>", "s3cr3tvalue"),
        ('<input type="hidden" name="csrf_token" value="tok123456">', "tok123456"),
        ("<input value='tok123456' name='csrf_token'>", "tok123456"),
        ('<user password="hunter22"/>', "hunter22"),
    ],
)
def test_secret_fields_in_text(text: str, secret: str) -> None:
    c = Context(Policy.build(), PSEUDO)
    out = scan_fields(text, c, "response.body.text", kind=True)
    assert secret not in out
    assert list(c.redactions) == ["response.body.text:field"]


@pytest.mark.parametrize(
    "text", ['{"tokens_used": 12}', "<title>password reset</title>x", "sort=name&page=2"]
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    c = Context(Policy.build(), PSEUDO)
    assert scan_fields(text, c, "response.body.text", kind=True) == text
    assert not c.redactions


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("db:\n  password: hunter22\n  host: db.local\n", "hunter22"),  # YAML
        ("X-Api-Key: k-1234567\nAccept: */*", "k-1234567"),  # a header dump
        ('mutation { login(user: "ann", password: "hunter22") }', "hunter22"),  # GraphQL
        ("const cfg = {apiKey: 'x', secret: \"s3cr3tvalue\"};", "s3cr3tvalue"),
    ],
)
def test_secret_fields_in_configs_and_code(text: str, secret: str) -> None:
    c = Context(Policy.build(), PSEUDO)
    out = scan_fields(text, c, "request.body.text", kind=True)
    assert secret not in out
    assert out.count("\n") == text.count("\n")


@pytest.mark.parametrize("key", [b"k", b"property-test-key", b"another-key", b"third"])
def test_a_value_that_starts_like_a_number_is_replaced_whole(key: bytes) -> None:
    """ "password: 4045 0000 0000 0009" once lost only its first group (read as the
    number 4045): for most keys twelve digits of the card stayed in the tape."""
    c = Context(Policy.build(), Pseudonymizer(key))
    out = scan_fields("db:\n  password: 4045 0000 0000 0009\n", c, "request.body.text", kind=True)
    value = out.split("password: ")[1].rstrip("\n")
    assert len(value) == len("4045 0000 0000 0009")
    assert "0000" not in value and "0009" not in value
    assert list(c.redactions) == ["request.body.text:field"]


def test_code_is_not_mistaken_for_fields() -> None:
    text = 'if (document.cookie == "") {}; var o = {cookieName: "sid", token_type: "Bearer"};'
    c = Context(Policy.build(), PSEUDO)
    assert scan_fields(text, c, "response.body.text", kind=True) == text


def test_only_names_around_hints_are_tried_in_large_text() -> None:
    filler = "body { margin: 0; padding: 0; }\n" * 5000
    text = filler + "  password: hunter22\n" + filler
    c = Context(Policy.build(), PSEUDO)
    out = scan_fields(text, c, "response.body.text", kind=True)
    assert "hunter22" not in out and len(out) == len(text)
