"""Text-field candidates: found by the name rules, charged to the work budget.

A body packed with secret-named fields that hold no value to replace is dropped as too
dense to scan, whole; bodies of the same size that real services send (a JavaScript
bundle, an HTML page, a log, a YAML manifest, JSON cut short by the body cap) are
scanned, and their secret fields replaced.
"""

from __future__ import annotations

import json

import pytest

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy, Rules
from shadowtape.sanitize.sanitizer import DROPPED_FOR_DENSITY
from shadowtape.sanitize.textfields import scan_fields

SANITIZER = Sanitizer(key=b"fieldstarts-test")
MIB = 1024 * 1024
DROPPED = DROPPED_FOR_DENSITY.format("response")


def _response(body: str, content_type: str) -> Exchange:
    data = body.encode()
    return Exchange(
        request=Request("GET", "api.test", path="/x"),
        response=Response(
            200, "OK", headers=(("Content-Type", content_type),), body=data, body_size=len(data)
        ),
    )


def _fill(unit: str, size: int = MIB) -> str:
    return (unit * (size // len(unit) + 1))[:size]


@pytest.mark.parametrize(
    "unit",
    [
        '"password": "',  # JSON cut short, over and over: no value ever closes
        "<password>x",  # an element that never ends
        "token=&",  # a field with an empty value
        "--password --v ",  # a flag whose value is the next flag
        '<entry key="password"/>',  # a tag naming a field, with no value
    ],
)
def test_a_body_packed_with_field_names_is_dropped_as_too_dense(unit: str) -> None:
    body = "<pre>" + _fill(unit) + "</pre>"
    out = SANITIZER.sanitize(_response(body, "text/html"))
    assert out.response is not None
    assert out.response.body == b""
    assert out.response.body_truncated
    assert DROPPED in out.redactions


def _bundle() -> str:
    """Minified JavaScript: key codes, tokenizers, sessions and authors, no secrets."""
    parts = []
    for i in range(40):
        parts.append(
            f'function f{i}(e,t){{var n=e.keyCode||e.which,r={{keyName:"Enter",keyCode:13}};'
            f'if(e.key==="Enter"&&t.session){{t.tokenizer.next(n);return inside(r,"design")}}'
            f"var shipping=e.shippingAddress,author=t.author||null,sortKey=t.sort_key;"
            f'return e.status_code===200?t.pinned:{{error:"bad token",keys:Object.keys(e)}}}}'
        )
    return "".join(parts)


def _html() -> str:
    """A page with a login form (one secret) and a table full of hint words."""
    rows = "".join(
        f'<tr class="sidebar-row"><td>status_code</td><td>{i}</td>'
        f'<td><a href="/keys/{i}?sort_key=name">key {i}</a></td></tr>\n'
        for i in range(40)
    )
    form = '<form><input type="hidden" name="csrf_token" value="c5rf-Tok3n-9f8e7d"></form>'
    return f"<html><body>{form}<p>Press <code>Ctrl-K</code></p><table>{rows}</table></body></html>"


def _log() -> str:
    return "".join(
        f"2026-12-07T01:{i % 60:02d}:00Z INFO GET /api/v1/items status_code=200 "
        f"cache_key=items:{i} token_type=bearer took={i % 97}ms session_timeout=30\n"
        for i in range(40)
    )


def _manifest() -> str:
    return "".join(
        f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api-{i}\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: api\n"
        "          env:\n            - name: DB_HOST\n              value: db.internal\n"
        "            - name: SESSION_TIMEOUT\n              value: '30'\n"
        "          ports:\n            - containerPort: 8080\n"
        for i in range(10)
    )


def _json_cut_short() -> str:
    items = [
        {"id": i, "country_code": "FR", "status_code": 200, "shipping": {"zip": "75002"}}
        for i in range(20)
    ]
    return json.dumps(items)[:-7]  # the body cap cut it: not JSON any more


@pytest.mark.parametrize(
    ("make", "content_type"),
    [
        (_bundle, "application/javascript"),
        (_html, "text/html"),
        (_log, "text/plain"),
        (_manifest, "application/yaml"),
        (_json_cut_short, "application/json"),
    ],
)
def test_ordinary_bodies_of_a_mebibyte_are_scanned_not_dropped(
    make: object, content_type: str
) -> None:
    assert callable(make)
    unit = make()
    body = _fill(unit + "\n", MIB)
    out = SANITIZER.sanitize(_response(body, content_type))
    assert out.response is not None
    assert DROPPED not in out.redactions
    assert out.response.body  # kept, maybe with values replaced


def test_the_secrets_of_an_ordinary_page_are_still_replaced() -> None:
    body = _fill(_html() + "\n", MIB // 4)
    out = SANITIZER.sanitize(_response(body, "text/html"))
    assert out.response is not None
    assert b"c5rf-Tok3n-9f8e7d" not in out.response.body
    assert b"status_code" in out.response.body and b"sort_key=name" in out.response.body
    assert DROPPED not in out.redactions


@pytest.mark.parametrize(
    "name",
    ["status_code", "token_type", "sort_key", "shipping", "author", "keyboard", "sessions"],
)
def test_names_the_rules_never_call_secret_are_not_candidates(name: str) -> None:
    """Left alone without a try, so a log full of them costs no work."""
    ctx = Context(Policy.build(), Pseudonymizer(b"k"))
    text = f"{name}=abc123 {name}: x1 --{name} v <{name}>w</{name}>\n" * 50
    assert scan_fields(text, ctx, "response.body.text", kind=True) == text
    assert ctx.work == 0


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("x-api-key: k-7a6b5c4d3e", "k-7a6b5c4d3e"),
        ('{"userPassword" : "s3cr3t-pw-1"', "s3cr3t-pw-1"),
        ('{"password hash": "s3cr3t-pw-1"', "s3cr3t-pw-1"),
        ("ns:password=s3cr3t-pw-1&x=1", "s3cr3t-pw-1"),
        ('<input name="Card_Number2" value="s3cr3t-pw-1">', "s3cr3t-pw-1"),
        ("KEY = s3cr3t-pw-1\n", "s3cr3t-pw-1"),
        ("run --auth-token s3cr3t-pw-1 -v", "s3cr3t-pw-1"),
    ],
)
def test_secret_names_in_any_spelling_are_candidates(text: str, secret: str) -> None:
    ctx = Context(Policy.build(), Pseudonymizer(b"k"))
    out = scan_fields(text, ctx, "response.body.text", kind=True)
    assert secret not in out, out


def test_a_rule_without_a_literal_word_tries_every_name() -> None:
    policy = Policy.build(Rules(redact_keys=("??",)))
    ctx = Context(policy, Pseudonymizer(b"k"))
    out = scan_fields("ab=s3cr3t-pw-1 cd: x", ctx, "response.body.text", kind=True)
    assert "s3cr3t-pw-1" not in out


def _lines(count: int, fields: str) -> str:
    return "".join(
        f"2024-07-01T10:00:00Z INFO request_id=r{i} {fields} status=200 path=/api/items/{i}\n"
        for i in range(count)
    )


def _stored(body: str) -> tuple[str, tuple[str, ...]]:
    out = SANITIZER.sanitize(_response(body, "text/plain"))
    assert out.response is not None
    return out.response.body.decode(), out.redactions


@pytest.mark.parametrize("lines", [500, 5000])
def test_a_log_repeating_secret_named_constants_is_kept(lines: int) -> None:
    # user_key and app_key are secret names, email and web constants under them: each
    # line's two fields cost a try (about 10 us each), which made the body too dense.
    # A token seen again that holds nothing is tried once, its copies skipped in C.
    log = _lines(lines, "user_key=email app_key=web")
    stored, redactions = _stored(log)
    assert stored == log
    assert redactions == ()


def test_a_secret_beside_repeated_constants_is_still_replaced() -> None:
    # The same token in capitals every hundredth line: a device code (RFC 8628: eight
    # capitals) where the lower-case one is a constant. Only exact copies of a token
    # that holds nothing are skipped, so each code is still found.
    log = "".join(
        _lines(1, "user_key=ABCDEFGH" if i % 100 == 0 else "user_key=abcdefgh") for i in range(5000)
    )
    stored, redactions = _stored(log)
    assert "ABCDEFGH" not in stored
    assert stored.count("user_key=abcdefgh") == 4950
    assert redactions == ("response.body.text:field",)


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        # a line's value (INI, .env) that is itself a repeated token
        ("password= app_key=web", "password= app_key=web"),
        # a quoted pair whose name ends in a repeated token
        ('"x user_key=9 ": "s3cr3t-pw-1"', "s3cr3t-pw-1"),
        # a pair whose name is the value of a repeated token
        ("x user_key=password :8675309", "8675309"),
    ],
)
def test_fields_around_a_skipped_token_are_still_found(line: str, secret: str) -> None:
    # Copies of four tokens first (skipped once seen twice), then a line whose field
    # reads one of them: skipping a token's copies skips no other field.
    log = _lines(3000, "user_key=email user_key=9 app_key=web user_key=password")
    log += line + "\n"
    stored, _ = _stored(log)
    assert "request_id=r2999 " in stored  # scanned, not dropped
    assert secret not in stored


def test_a_log_of_distinct_secret_named_constants_is_still_too_dense() -> None:
    # Every token different: none is skipped, each costs its try, and a mebibyte of
    # them is more than the body's budget: dropped whole, never written raw.
    def letters(i: int) -> str:
        return "".join(chr(ord("a") + int(d)) for d in f"{i:06d}")

    log = "".join(f" user_key={letters(i)}\n" for i in range(MIB // 18))
    stored, redactions = _stored(log)
    assert stored == ""
    assert redactions == (DROPPED,)
