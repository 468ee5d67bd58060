"""Which request parameters size the work, and a seed resized along one of them."""

from __future__ import annotations

import orjson

from shadowtape.probe.sample import Seed
from shadowtape.probe.sizing import SizeParameter, find_parameters, resize, size_of


def seed(query: str = "", body: bytes = b"", method: str = "GET") -> Seed:
    headers = (("Content-Length", str(len(body))),) if body else ()
    return Seed("x1", method, "api.test", "/api/items", query, headers, body)


def test_named_sizes_count_even_when_they_do_not_vary() -> None:
    seeds = [seed("limit=10&q=shoes"), seed("limit=10&q=hats")]
    assert find_parameters(seeds) == [SizeParameter("query", "limit")]


def test_other_numbers_count_only_when_they_vary() -> None:
    assert find_parameters([seed("depth=3"), seed("depth=3")]) == []
    assert find_parameters([seed("depth=3"), seed("depth=5")]) == [SizeParameter("query", "depth")]


def test_positions_ids_and_zeros_are_not_sizes() -> None:
    seeds = [seed("page=1&offset=20&user_id=7&count=0"), seed("page=2&offset=40&user_id=9&count=0")]
    assert find_parameters(seeds) == []


def test_json_body_arrays_are_sizes() -> None:
    body = orjson.dumps({"order": {"lines": [1, 2]}, "tags": [], "name": "x"})
    assert find_parameters([seed(body=body, method="POST")]) == [
        SizeParameter("body", "order.lines")
    ]
    assert find_parameters([seed(body=b"[1, 2, 3]", method="POST")]) == [SizeParameter("body", "$")]


def test_a_query_size_is_replaced_in_place() -> None:
    limit = SizeParameter("query", "limit")
    resized = resize(seed("q=a%20b&limit=10&x=1"), limit, 160)
    assert resized.query == "q=a%20b&limit=160&x=1"
    assert size_of(resized, limit) == 160


def test_a_body_array_is_resized_by_repeating_its_items() -> None:
    lines = SizeParameter("body", "order.lines")
    body = orjson.dumps({"order": {"lines": [{"sku": 1}, {"sku": 2}], "id": 5}})
    resized = resize(seed(body=body, method="POST"), lines, 5)
    data = orjson.loads(resized.body)
    assert [item["sku"] for item in data["order"]["lines"]] == [1, 2, 1, 2, 1]
    assert data["order"]["id"] == 5
    assert size_of(resized, lines) == 5
    assert resized.headers == ()  # the recorded Content-Length no longer holds
