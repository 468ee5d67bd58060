"""The JSON differ: formatting and key order are never differences; each change is found
at its exact location with the right kind."""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.diff.json import NotJSON, Tolerance, child, diff, diff_bytes
from shadowtape.diff.model import Kind

keys = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30,
)


def _reorder(doc: Any, rng: random.Random) -> Any:
    if isinstance(doc, dict):
        items = [(k, _reorder(v, rng)) for k, v in doc.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(doc, list):
        return [_reorder(v, rng) for v in doc]
    return doc


# No deadline: the machine is shared, and a slow example is not a wrong one.
@settings(deadline=None)
@given(documents)
def test_a_document_against_itself_has_no_differences(doc: Any) -> None:
    raw = orjson.dumps(doc)
    assert diff_bytes(raw, raw) == []
    assert diff(doc, orjson.loads(raw)) == []


@settings(deadline=None)
@given(documents, st.integers(0, 2**32), st.sampled_from([None, 1, 2, 4]))
def test_reformatted_and_key_reordered_copies_have_no_differences(
    doc: Any, seed: int, indent: int | None
) -> None:
    copy = _reorder(doc, random.Random(seed))
    pretty = json.dumps(copy, indent=indent, ensure_ascii=bool(seed % 2)).encode()
    assert diff_bytes(orjson.dumps(doc), pretty) == []


def _paths(doc: Any, loc: str = "$") -> list[tuple[str, list[Any]]]:
    """Every (location, access path) of a scalar leaf."""
    out: list[tuple[str, list[Any]]] = []

    def walk(node: Any, where: str, path: list[Any]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, child(where, k), [*path, k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]", [*path, i])
        else:
            out.append((where, path))

    walk(doc, loc, [])
    return out


def _set(doc: Any, path: list[Any], value: Any) -> Any:
    if not path:
        return value
    copy = orjson.loads(orjson.dumps(doc))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


@settings(max_examples=200, deadline=None)
@given(documents.filter(lambda d: bool(_paths(d))), st.data())
def test_a_single_planted_change_is_found_at_its_exact_location(
    doc: Any, data: st.DataObject
) -> None:
    location, path = data.draw(st.sampled_from(_paths(doc)))
    old = _get(doc, path)
    new = data.draw(scalars.filter(lambda v: _differs(old, v)))
    changed = _set(doc, path, new)
    found = diff(doc, changed)
    assert len(found) == 1, found
    assert found[0].location == location
    if isinstance(old, list) or isinstance(new, list):
        return
    same_type = _jtype(old) == _jtype(new)
    assert found[0].kind == (Kind.BODY_VALUE if same_type else Kind.BODY_TYPE)
    assert (found[0].baseline, found[0].candidate) == (old, new)


def _get(doc: Any, path: list[Any]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _jtype(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    return type(v).__name__


def _differs(a: Any, b: Any) -> bool:
    return _jtype(a) != _jtype(b) or a != b


def test_kinds_and_locations() -> None:
    base = {"items": [{"price": 9.99, "tags": ["a", "b"]}], "name": "x", "gone": 1, "odd key": 1}
    cand = {"items": [{"price": "9.99", "tags": ["a"]}], "name": "y", "new": 2, "odd key": 2}
    found = {(d.kind, d.location) for d in diff(base, cand)}
    assert found == {
        (Kind.BODY_TYPE, "$.items[0].price"),
        (Kind.ARRAY_LENGTH, "$.items[0].tags"),
        (Kind.BODY_VALUE, "$.name"),
        (Kind.BODY_MISSING, "$.gone"),
        (Kind.BODY_EXTRA, "$.new"),
        (Kind.BODY_VALUE, '$["odd key"]'),
    }


def test_a_pure_reordering_is_one_order_difference() -> None:
    found = diff({"top": [1, 2, 3, 4]}, {"top": [4, 3, 2, 1]})
    assert [(d.kind, d.location) for d in found] == [(Kind.ARRAY_ORDER, "$.top")]


def test_a_reordered_list_with_one_changed_element_names_that_element() -> None:
    base = [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}]
    cand = [{"id": 4}, {"id": 3}, {"id": 2}, {"id": 9}]
    found = [(d.kind, d.location, d.baseline, d.candidate) for d in diff({"a": base}, {"a": cand})]
    assert found == [(Kind.ARRAY_ORDER, "$.a", base, cand), (Kind.BODY_VALUE, "$.a[3].id", 1, 9)]


def test_booleans_are_not_numbers() -> None:
    assert [d.kind for d in diff({"a": True}, {"a": 1})] == [Kind.BODY_TYPE]
    assert diff({"a": 1}, {"a": 1.0}) == []


def test_numeric_tolerance() -> None:
    assert diff({"p": 1.0}, {"p": 1.0004}, Tolerance(absolute=0.001)) == []
    assert diff({"p": 100.0}, {"p": 101.0}, Tolerance(relative=0.02)) == []
    assert [d.location for d in diff({"p": 1.0}, {"p": 1.01}, Tolerance(absolute=0.001))] == ["$.p"]


def test_integers_beyond_64_bits_still_parse() -> None:
    assert (
        diff_bytes(
            b'{"n": 123456789012345678901234567890}', b'{"n":123456789012345678901234567890}'
        )
        == []
    )


def test_not_json_is_an_error() -> None:
    with pytest.raises(NotJSON):
        diff_bytes(b"{", b"{}")


def test_integers_beyond_64_bits_are_compared_exactly() -> None:
    found = diff_bytes(
        b'{"id": 123456789012345678901234567890}', b'{"id": 123456789012345678901234567891}'
    )
    assert [(d.location, d.baseline, d.candidate) for d in found] == [
        ("$.id", 123456789012345678901234567890, 123456789012345678901234567891)
    ]


def test_big_integers_that_differ_are_found_in_arrays_and_objects() -> None:
    found = diff_bytes(
        b'{"ids": [123456789012345678901234567890, 1]}',
        b'{"ids": [123456789012345678901234567891, 1]}',
    )
    assert [d.location for d in found] == ["$.ids[0]"]
