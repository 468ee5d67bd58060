"""The rules file: what it adds, what it keeps, and one clear line when it is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from shadowtape import Exchange, Request, Response, SanitizeError
from shadowtape.sanitize import Rules, Sanitizer

EXAMPLE = Path(__file__).parents[2] / "recorder" / "sanitize-rules.example.toml"


def json_exchange(doc: object, headers: tuple[tuple[str, str], ...] = ()) -> Exchange:
    body = orjson.dumps(doc)
    return Exchange(
        request=Request("GET", "api.test", headers=headers),
        response=Response(
            200, headers=(("Content-Type", "application/json"),), body=body, body_size=len(body)
        ),
    )


def body_of(exchange: Exchange) -> object:
    assert exchange.response is not None
    return orjson.loads(exchange.response.body)


def test_the_example_file_loads_and_works() -> None:
    sanitizer = Sanitizer.from_file(EXAMPLE, key=b"k")
    exchange = json_exchange(
        {
            "user": {"ssn": "123-45-6789", "name": "Ann", "birth_date": "1990-01-01"},
            "staff": "EMP-123456 and order_secret=abc123",
            "meta": {"public_key": "pk-not-secret"},
            "next_page_token": "cursor-123456",
        },
        headers=(("X-Cache-Key", "abc"), ("X-Internal-User", "ann"), ("Cookie", "theme=dark")),
    )
    out = sanitizer.sanitize(exchange)
    doc = body_of(out)
    assert isinstance(doc, dict)
    assert doc["user"]["ssn"] != "123-45-6789"
    assert doc["user"]["birth_date"] != "1990-01-01"
    assert doc["user"]["name"] == "Ann"
    assert "EMP-123456" not in doc["staff"] and "abc123" not in doc["staff"]
    # The whole match is replaced, keeping its shape; a "secret" group is replaced alone.
    assert re.fullmatch(r"[A-Z]{3}-\d{6} and order_secret=\w{6}", doc["staff"])
    assert doc["meta"]["public_key"] == "pk-not-secret"  # allowed by path
    assert doc["next_page_token"] == "cursor-123456"  # allowed by name
    assert out.request.header("X-Cache-Key") == "abc"  # allowed header
    assert out.request.header("X-Internal-User") != "ann"
    assert out.request.header("Cookie") == "theme=dark"  # allowed cookie
    assert "response.body$.user.ssn" in out.redactions
    assert "response.body$.staff" in out.redactions


def test_default_header_words_need_the_allow_list() -> None:
    exchange = json_exchange({}, headers=(("X-Cache-Key", "abc"),))
    assert Sanitizer(key=b"k").sanitize(exchange).request.header("X-Cache-Key") != "abc"
    rules = Rules.from_toml('[allow]\nheaders = ["x-cache-key"]')
    assert Sanitizer(key=b"k", rules=rules).sanitize(exchange).request.header("X-Cache-Key") == (
        "abc"
    )


def test_a_detector_can_be_switched_off() -> None:
    exchange = json_exchange({"contact": "ann@example.com"})
    rules = Rules.from_toml("[detectors]\nemail = false")
    assert body_of(Sanitizer(key=b"k", rules=rules).sanitize(exchange)) == {
        "contact": "ann@example.com"
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[redact", "not valid TOML"),
        ("[redcat]\nheaders = []", "unknown table 'redcat'"),
        ("[redact]\nheader = ['x']", "unknown key 'header'"),
        ("[redact]\nheaders = 'x'", "must be a list of non-empty strings"),
        ("[redact]\njson_paths = ['user.ssn']", "must start with '$'"),
        ("[redact]\npatterns = [{name = 'x', regex = '('}]", "not a valid regex"),
        ("[redact]\npatterns = [{name = 'x', regex = 'a*'}]", "matches empty text"),
        ("[redact]\npatterns = [{name = 'x'}]", "needs exactly a name and a regex"),
        ("[detectors]\nfax = false", "unknown key 'fax'"),
        ("[detectors]\nemail = 'no'", "must be true or false"),
        ("allow = 3", "must be a table"),
    ],
)
def test_bad_rules_are_one_line_errors(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(SanitizeError) as raised:
        Sanitizer.from_file(path, key=b"k")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert str(path) in str(raised.value)


def test_a_missing_file_is_a_sanitize_error(tmp_path: Path) -> None:
    with pytest.raises(SanitizeError, match="cannot read sanitize rules"):
        Sanitizer.from_file(tmp_path / "nope.toml")


def test_an_empty_file_means_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("# nothing\n")
    assert Sanitizer.from_file(path, key=b"k").rules == Rules()


def test_a_value_found_by_a_pattern_is_replaced_everywhere() -> None:
    rules = Rules.from_toml(
        "[redact]\npatterns = [{name = 'order', regex = 'order_secret=(?P<secret>\\w+)'}]"
    )
    exchange = json_exchange(
        {"a": "order_secret=zz99yy88", "b": "and again zz99yy88"},
        headers=(("X-Trace", "zz99yy88"),),
    )
    out = Sanitizer(key=b"k", rules=rules).sanitize(exchange)
    assert "zz99yy88" not in repr(out)
    assert "response.body$.a" in out.redactions and "request.header.x-trace" in out.redactions


def test_headers_named_like_secret_fields_are_secret() -> None:
    exchange = json_exchange({}, headers=(("Stripe-Signature", "t=1,v1=abc"), ("X-Pin", "1234")))
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out.request.header("Stripe-Signature") != "t=1,v1=abc"
    assert out.request.header("X-Pin") != "1234"
