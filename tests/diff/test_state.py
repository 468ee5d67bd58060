"""Identical requests are A/A pairs only with no write to their host between them."""

from __future__ import annotations

from shadowtape.diff.state import Writes


def test_a_write_between_two_reads_on_the_same_host() -> None:
    writes = Writes()
    writes.add("api.example.com", 100)
    writes.add("other.example.com", 300)
    assert writes.between("api.example.com", 50, 150)
    assert writes.between("API.example.com", 150, 50)  # order and case do not matter
    assert not writes.between("api.example.com", 150, 400)  # the other host's write
    assert not writes.between("api.example.com", 100, 200)  # the write is not between
    assert not writes.between("unknown.example.com", 0, 1_000)


def test_a_write_to_another_resource_breaks_the_pair() -> None:
    # POST /orders debits the balance GET /users/{id} shows: no route says so.
    writes = Writes()
    writes.add("api.example.com", 2_000)
    assert writes.between("api.example.com", 1_000, 3_000)


def test_write_times_are_kept_compactly() -> None:
    writes = Writes()
    for t in range(1_000):
        writes.add("h", t)
    assert writes.times["h"].itemsize == 8
