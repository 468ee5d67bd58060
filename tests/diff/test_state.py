"""Identical requests are A/A pairs only with no write to their collection between them."""

from __future__ import annotations

from shadowtape.diff.state import Writes, collection


def test_the_collection_is_the_route_without_a_trailing_id() -> None:
    assert collection("/api/items/{id}") == "/api/items"
    assert collection("/api/items") == "/api/items"
    assert collection("/api/items/{id}/notes") == "/api/items/{id}/notes"
    assert collection("/{id}") == "/"


def test_a_write_between_two_reads_to_the_same_or_a_related_collection() -> None:
    writes = Writes()
    writes.add("/api/items", 100)
    writes.add("/api/users/{id}", 300)
    assert writes.between("/api/items", 50, 150)
    assert writes.between("/api/items/{id}", 150, 50)  # order does not matter
    assert not writes.between("/api/items", 150, 400)
    assert not writes.between("/api/items", 100, 200)  # the write is not between
    assert writes.between("/api/users/{id}/orders", 200, 400)  # a collection it holds
    assert not writes.between("/api/orders", 0, 1_000)
