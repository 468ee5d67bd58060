"""Secret-named fields inside free text that is not parsed."""

from __future__ import annotations

import pytest

from shadowtape.sanitize.context import Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy
from shadowtape.sanitize.textfields import (
    _ESCAPES,
    _RUN,
    _WORD,
    SPACES,
    _unquoted,
    scan_fields,
)

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


@pytest.mark.parametrize("end", ["", "\x0b", " \u3000", "\x85 "])
def test_a_line_value_ends_before_its_trailing_blanks(end: str) -> None:
    """Blanks after a line's value are not part of it; other whitespace is."""
    c = Context(Policy.build(), PSEUDO)
    text = f"password: hunter22{end}" + " \t" * 5000 + "\nuser: ann\n"
    out = scan_fields(text, c, "request.body.text", kind=True)
    value_end = len("password: hunter22" + end.rstrip(" "))
    assert "hunter22" not in out
    assert out[value_end:] == text[value_end:]
    assert out[value_end - 1] not in " \t"


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


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("password: hunter22\r\nuser: bob\r\n", "hunter22"),  # CRLF lines
        ("user: bob\rpassword: hunter22\rnext: 1", "hunter22"),  # CR alone
        ("[db]\npassword = hunter two22\nhost = x\n", "hunter two22"),  # INI
        ("export API_KEY=abc123xyz\nOTHER=1\n", "abc123xyz"),  # .env
        ("db.password = s3cr3t value\n", "s3cr3t value"),  # Java properties
        ("app --db-password=abc123xyz --v", "abc123xyz"),
        ("app --db-password abc123xyz --v", "abc123xyz"),
        ("app --db-password 'abc 123xyz' --v", "abc 123xyz"),
        ("java -Ddb.password=abc123xyz -jar x", "abc123xyz"),
        ("java -Dpassword=abc123xyz -jar x", "abc123xyz"),
        ("java -Dpassword=-00000000AAA -jar x", "-00000000AAA"),  # a value with a dash
        ("app --db-password=--abc123xyz --v", "--abc123xyz"),
        ('password = "abc123xyz";', "abc123xyz"),  # source code
        ("API_KEY='abc123xyz'", "abc123xyz"),
        ("const apiKey = 'abc123xyz';", "abc123xyz"),
        ("db:\n  password: 'abc123xyz'\n", "abc123xyz"),  # YAML single-quoted
        ('spring.datasource.password: "abc123xyz"', "abc123xyz"),  # a dotted YAML key
        ("<dict><key>password</key><string>abc123xyz</string></dict>", "abc123xyz"),  # plist
        ("<e><name>DB_PASSWORD</name>\n <value>abc123xyz</value></e>", "abc123xyz"),
        ("<p><p:key>token</p:key><p:value><![CDATA[abc123xyz]]></p:value></p>", "abc123xyz"),
        ("<req><key>abc123xyz</key><x>1</x></req>", "abc123xyz"),  # a key, not a name
        ("<Error><Code>abc123xyz</Code></Error>", "abc123xyz"),  # a code, not a symbol
        ('{"code": "abc123xyz", "n": 1', "abc123xyz"),
        ("{'password': 'abc123xyz', 'port': 1}", "abc123xyz"),  # a Python dict
        ("$db = ['password' => 'abc123xyz'];", "abc123xyz"),  # PHP
        ("{ :password => 'abc123xyz' }", "abc123xyz"),  # Ruby
        ("{ password: 'abc\\'123xyz', }", "abc\\'123xyz"),  # JavaScript, an escape
        ("<input type=hidden name=csrf_token value=abc123xyz>", "abc123xyz"),  # unquoted
        ('<meta name="csrf-token" content="abc123xyz">', "abc123xyz"),
        ('<add key="ApiKey" value="abc123xyz"/>', "abc123xyz"),  # .NET config
        ('<entry key="password">abc123xyz</entry>', "abc123xyz"),
        ("<password><![CDATA[abc123xyz]]></password>", "abc123xyz"),
        ('<creds password = "abc123xyz" />', "abc123xyz"),  # attribute, blanks
        ('<db key="abc123xyz" host="x"/>', "abc123xyz"),  # "key" is itself a secret name
    ],
)
def test_text_formats_of_issue_18(text: str, secret: str) -> None:
    c = Context(Policy.build(), PSEUDO)
    out = scan_fields(text, c, "response.body.text", kind=True)
    assert secret not in out, out


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ('<add key="ApiKey" value="abc123xyz"/>', 'key="ApiKey"'),  # the name stays
        ('<input name="password" type="password"> Remember me<br>', "Remember me"),
        ("status_code: 200\nsort_key: name\n", "status_code: 200\nsort_key: name\n"),
        ("app --verbose now", "app --verbose now"),
        ("app --password --verbose", "--verbose"),  # after a blank, a dash is a flag
        ("password = \nnext = 1", "next = 1"),
        ("<dict><key>username</key><string>ann</string></dict>", "<key>username</key>"),
        ("<Error><Code>NoSuchKey</Code></Error>", "<Code>NoSuchKey</Code>"),  # an error code
        ('{"error": {"code": "invalid_request", "status": 404', '"code": "invalid_request"'),
        ('{"code": 404, "message": "not found"', '"code": 404'),
    ],
)
def test_issue_18_rules_keep_what_is_not_a_value(text: str, kept: str) -> None:
    c = Context(Policy.build(), PSEUDO)
    assert kept in scan_fields(text, c, "response.body.text", kind=True)


def test_a_value_run_ends_at_every_blank_python_knows() -> None:
    """The run and word classes list the blanks (faster than ``\\s``): the list must be
    every character ``str.isspace`` names, whatever the Unicode version."""
    blanks = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    assert "".join(blanks) == SPACES
    for blank in blanks:
        assert _RUN.match(f"a{blank}b").group() == "a"
        assert _WORD.match(f"a{blank}b").group() == "a"


@pytest.mark.parametrize(("escape", "plain"), _ESCAPES)
def test_each_escaped_quote_is_read_plain_in_a_form_like_text(escape: str, plain: str) -> None:
    """A text with "&" between pairs is asked about the escapes at once: none may be
    missed, or a JSON field written with it in an HTML attribute keeps its value."""
    text = f"a=1&b=2 {{{escape}password{escape}: {escape}x{escape}}}"
    assert _unquoted(text) == text.replace(escape, plain)
