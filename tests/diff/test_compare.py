"""One pair of responses: errors of their own kinds, status, then headers and bodies."""

from __future__ import annotations

from shadowtape.diff.compare import Side, compare, is_default_body
from shadowtape.diff.model import Kind

JSON = [("Content-Type", "application/json")]


def kinds(a: Side, b: Side) -> list[tuple[str, str]]:
    return [(d.kind, d.location) for d in compare(a, b).differences]


def test_new_errors_are_their_own_kind() -> None:
    ok = Side(200, JSON, b"{}")
    assert kinds(ok, Side(500)) == [(Kind.NEW_ERROR, "status")]
    timeout = Side(error_kind="timeout", error_message="read timed out")
    found = compare(ok, timeout).differences
    assert found[0].kind == Kind.NEW_ERROR and found[0].candidate == "timeout: read timed out"


def test_a_swallowed_error_differs_from_a_fixed_one() -> None:
    down = Side(503, [("Content-Type", "text/plain")], b"upstream down")
    assert kinds(down, Side(200, JSON, b"{}")) == [(Kind.SWALLOWED_ERROR, "status")]
    assert kinds(down, Side(200, JSON, b'{"items": [], "total": 0}')) == [
        (Kind.SWALLOWED_ERROR, "status")
    ]
    # A 503 says a dependency failed: a success in its place hides it, whatever the body.
    assert kinds(down, Side(200, JSON, b'{"sku": "A1", "in_stock": 0}')) == [
        (Kind.SWALLOWED_ERROR, "status")
    ]
    bug = Side(500, [("Content-Type", "text/plain")], b"KeyError: 'page'")
    assert kinds(bug, Side(200, JSON, b'{"items": []}')) == [(Kind.SWALLOWED_ERROR, "status")]
    assert kinds(bug, Side(200, JSON, b'{"items": [1]}')) == [(Kind.FIXED_ERROR, "status")]


def test_default_bodies() -> None:
    assert is_default_body(b"  ") and is_default_body(b'{"a": null, "b": {"c": ""}}')
    assert not is_default_body(b'{"a": 1}') and not is_default_body(b"hello")


def test_a_status_change_is_not_also_a_body_change() -> None:
    assert kinds(Side(200, JSON, b'{"a":1}'), Side(404, JSON, b'{"e":"x"}')) == [
        (Kind.STATUS, "status")
    ]


def test_bodies_by_content_type() -> None:
    text = [("Content-Type", "text/plain")]
    assert kinds(Side(200, text, b"a\nb\nc"), Side(200, text, b"a\nB\nc")) == [
        (Kind.TEXT, "line:2")
    ]
    png = [("Content-Type", "image/png")]
    result = compare(Side(200, png, b"\x89PNG\x00"), Side(200, png, b"\x89PNG\x01"))
    assert [(d.kind, d.location) for d in result.differences] == [(Kind.DIGEST, "body")]
    assert result.notes == ["binary_body"]
    # Pretty-printed JSON is the same document.
    assert (
        kinds(Side(200, JSON, b'{"a":1,"b":2}'), Side(200, JSON, b'{\n  "b": 2,\n  "a": 1\n}'))
        == []
    )


def test_truncated_bodies_are_noted_not_compared() -> None:
    result = compare(
        Side(200, JSON, b'{"a":1', truncated=True), Side(200, JSON, b'{"a":2', truncated=True)
    )
    assert result.differences == [] and result.notes == ["truncated_body"]
