"""Identical requests are A/A pairs only with no write between them."""

from __future__ import annotations

from shadowtape.diff.state import Change, Writes, collection


def test_the_collection_is_the_route_without_a_trailing_id() -> None:
    assert collection("/api/items/{id}") == "/api/items"
    assert collection("/api/items") == "/api/items"
    assert collection("/api/items/{id}/notes") == "/api/items/{id}/notes"
    assert collection("/{id}") == "/"


def test_a_write_between_two_reads_to_the_same_or_a_related_collection() -> None:
    writes = Writes()
    writes.add("h", "/api/items", 100)
    writes.add("h", "/api/users/{id}", 300)
    assert writes.between("h", "/api/items", 50, 150) is Change.RELATED
    assert writes.between("H", "/api/items/{id}", 150, 50) is Change.RELATED  # any order
    assert writes.between("h", "/api/items", 100, 200) is Change.NONE  # not between
    assert writes.between("h", "/api/users/{id}/orders", 200, 400) is Change.RELATED
    assert writes.between("other", "/api/items", 50, 150) is Change.NONE


def test_a_write_to_another_resource_on_the_host_may_have_changed_the_read() -> None:
    # POST /orders debits the balance GET /users/{id} shows: no route says so.
    writes = Writes()
    writes.add("api.example.com", "/orders", 2_000)
    assert writes.between("api.example.com", "/users/{id}", 1_000, 3_000) is Change.ELSEWHERE
    assert writes.between("api.example.com", "/users/{id}", 3_000, 4_000) is Change.NONE


def test_write_times_are_kept_compactly() -> None:
    writes = Writes()
    for t in range(1_000):
        writes.add("h", "/a", t)
    assert writes.times[("h", "/a")].itemsize == 8
