"""The JSON path subset used by rules, and location strings."""

from __future__ import annotations

import pytest

from shadowtape.sanitize.jsonpath import JsonPath, JsonPathError, render


@pytest.mark.parametrize(
    ("path", "concrete", "matches"),
    [
        ("$.user.ssn", ("user", "ssn"), True),
        ("$.user.ssn", ("user", "ssn", "x"), False),
        ("$..ssn", ("a", 0, "b", "ssn"), True),
        ("$..ssn", ("ssn",), True),
        ("$.items[*].card", ("items", 7, "card"), True),
        ("$.items[1].card", ("items", 7, "card"), False),
        ("$['odd key'].x", ("odd key", "x"), True),
        ('$["a.b"]', ("a.b",), True),
        ("$.a.*", ("a", "anything"), True),
        ("$..*", ("z",), True),
    ],
)
def test_matching(path: str, concrete: tuple[str | int, ...], matches: bool) -> None:
    assert JsonPath(path).matches(concrete) is matches


@pytest.mark.parametrize("bad", ["user.ssn", "$.a[?(@.x)]", "$.a[1:2]", "$.."])
def test_unsupported_syntax_is_rejected(bad: str) -> None:
    with pytest.raises(JsonPathError):
        JsonPath(bad)


def test_render() -> None:
    assert render(("user", "emails", 0, "value")) == "$.user.emails[0].value"
    assert render(("odd key", "é")) == '$["odd key"]["é"]'
    assert render(()) == "$"
