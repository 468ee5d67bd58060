"""Bodies as tagged lines: the diff view's idea of where each JSON line lives."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.diff.json import child as differ_child
from shadowtape.report._body_lines import Line, body_lines, covers

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(), JSON, min_size=1) | st.lists(JSON, min_size=1))
def test_printed_lines_are_the_same_document(doc: Any) -> None:
    lines = body_lines(json.dumps(doc))
    assert json.loads("\n".join(line.text for line in lines)) == doc
    assert all(line.location and line.location.startswith("$") for line in lines)


def test_locations_match_the_finding_syntax() -> None:
    lines = body_lines('{"items": [{"price": 1}, {"price": 2}], "a b": {"c": null}}')
    where = {line.text.strip(): line.location for line in lines}
    assert where['"price": 2'] == "$.items[1].price"
    assert where['"c": null'] == '$["a b"].c'
    assert covers("$.items", "$.items[1].price")
    assert covers("$.items[1]", "$.items[1]")
    assert not covers("$.items[1]", "$.items[10]")
    assert not covers("$.item", "$.items")


def test_patterns_cover_every_index() -> None:
    assert covers("$.items[*].price", "$.items[12].price")
    assert covers("$.items[*]", "$.items[0].sku")
    assert not covers("$.items[*].price", "$.items[1].priceless")
    assert not covers("$.items[*].price", "$.other[1].price")


def test_other_text_is_split_into_numbered_lines() -> None:
    """The text differ reports line:N (baseline line numbers)."""
    assert body_lines("a\nb") == [Line("a", "line:1"), Line("b", "line:2")]
    assert body_lines("{not json") == [Line("{not json", "line:1")]
    assert body_lines(None) == []


def test_integers_beyond_64_bits_still_print_as_json() -> None:
    lines = body_lines('{"id": 123456789012345678901234567890}')
    assert lines[1] == Line('  "id": 123456789012345678901234567890', "$.id")


@given(st.text(), st.integers(0, 5))
def test_locations_are_the_differs(key: str, index: int) -> None:
    """Locations must be spelled as the differ spells them, or highlights miss."""
    lines = body_lines(json.dumps({key: [index, {key: index}]}))
    ours = {line.location for line in lines}
    base = differ_child("$", key)
    assert f"{base}[1]" in ours
    assert differ_child(f"{base}[1]", key) in ours
