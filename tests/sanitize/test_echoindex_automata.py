"""The echo search with Aho-Corasick automata finds what the trie it replaced found
(tests/sanitize/reference_echotrie.py) and what a brute-force search finds: random
texts, many random secrets (sharing long beginnings, past the automata's PREFIX, beyond
ASCII), strings added between searches, texts as str and as bytes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.sanitize import echoindex
from shadowtape.sanitize.echoindex import LONG, PENDING, PREFIX, SMALL, WIDTH, EchoIndex
from tests.sanitize.reference_echotrie import TrieIndex

ALPHABET = "ab/é😀"
#: Strings of a few trie steps, strings sharing a beginning longer than the trie and
#: than PREFIX bytes, and strings past PREFIX bytes.
KEYS = st.lists(
    st.text(alphabet=ALPHABET, min_size=WIDTH, max_size=WIDTH * 4)
    | st.builds(lambda tail: "ab" * (PREFIX // 2 + 30) + tail, st.text(ALPHABET, max_size=8))
    | st.text(alphabet="ab", min_size=PREFIX - 4, max_size=PREFIX + 12),
    min_size=PENDING + 1,
    max_size=150,
    unique=True,
)


def _brute(text: str, keys: list[str]) -> list[tuple[int, int, str]]:
    """Leftmost match, longest at that position, by brute force: (start, end, key)."""
    out, at = [], 0
    while at < len(text):
        found = max((key for key in keys if text.startswith(key, at)), key=len, default=None)
        if found is None:
            at += 1
        else:
            out.append((at, at + len(found), found))
            at += len(found)
    return out


def _spliced(text: str, found: list[tuple[int, int, str]], echo: dict[str, str]) -> str:
    out, done = [], 0
    for start, end, key in found:
        out += [text[done:start], echo[key]]
        done = end
    return "".join([*out, text[done:]])


@contextmanager
def _automata(always: bool) -> Iterator[None]:
    """Build automata for every batch of strings (else RE2 patterns, as for few)."""
    before = echoindex.AUTOMATON_RATIO
    echoindex.AUTOMATON_RATIO = sys.maxsize if always else 0
    try:
        yield
    finally:
        echoindex.AUTOMATON_RATIO = before


@settings(max_examples=80, deadline=None)
@given(
    st.booleans(),
    KEYS,
    st.lists(st.lists(st.text(ALPHABET + "x", max_size=12), max_size=60), min_size=1, max_size=5),
    st.integers(1, 4),
    st.integers(0, 3),
)
def test_the_automata_find_what_the_trie_and_brute_force_find(
    automata: bool, keys: list[str], fillers: list[list[str]], batches: int, long: int
) -> None:
    with _automata(automata):
        _agree(keys, fillers, batches, long)


def _agree(keys: list[str], fillers: list[list[str]], batches: int, long: int) -> None:
    echo = {key: f"<{i}>" for i, key in enumerate(keys)}
    texts = [
        "".join(
            f"{part}{keys[(i * 7 + j) % len(keys)][: None if j % 3 else -1]}"
            for j, part in enumerate(filler)
        )
        for i, filler in enumerate(fillers)
    ]
    texts = [text * (1 + long * LONG // max(1, len(text))) if long else text for text in texts]
    index = EchoIndex({})
    added: dict[str, str] = {}
    step = max(1, len(keys) // batches)
    for first in range(0, len(keys), step):  # strings added between searches
        new = {key: echo[key] for key in keys[first : first + step]}
        added |= new
        index._echo.update(new)  # as Context.echo grows
        index.add(new)
        trie = TrieIndex(added)
        for text in texts:
            expected = _brute(text, list(added))
            edits = [(start, end, added[key]) for start, end, key in expected]
            assert index.edits(text) == edits
            assert trie.edits(text) == edits
            assert index.contains(text) == bool(expected)
            assert index.contains(text.encode()) == bool(expected)
            assert index.sub_bytes(text.encode()) == _spliced(text, expected, added).encode()
            assert {key for _, _, key in expected} <= index.occurring(text)


def test_strings_sharing_long_beginnings_are_paid_for_at_every_place() -> None:
    """A text that repeats the first bytes of many long secrets at every position: each
    place is paid for, so the caller can stop a text that costs too much."""
    for automata in (False, True):
        spent: list[int] = []
        keys = {"a" * 96 + f"{i:06d}b": "x" for i in range(900)}
        with _automata(automata):
            index = EchoIndex(keys, spend=spent.append)
            built = sum(spent)
            assert index.edits("a" * 2_000) == []
        assert sum(spent) - built >= (2_000 - 96) * (900 // 8)  # every place, every string


def test_a_text_shorter_than_every_string_builds_nothing() -> None:
    """An S3 listing's thousand keys are known by the time an empty body is searched."""
    spent: list[int] = []
    keys = [f"photos/2024/IMG_{i:05d}.jpg" for i in range(4000)]
    index = EchoIndex(dict.fromkeys(keys, "x"), spend=spent.append)
    for text in ("", "ab", "photos/2024"):
        assert not index.contains(text) and index.edits(text) == []
        assert not index.contains(text.encode()) and index.sub_bytes(text.encode()) == text.encode()
    assert index.contains(f"<{keys[17]}>".encode()) and index.edits(keys[3]) == [(0, 25, "x")]
    assert spent == []  # nothing was built: a short text is looked up slice by slice
    assert index.contains(f"{'.' * LONG}{keys[17]}") and spent  # a long one: built


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.text("abé", min_size=WIDTH, max_size=WIDTH + 1), min_size=PENDING + 1, unique=True),
    st.lists(st.integers(0, 40) | st.text("abéx", max_size=3), max_size=12),
)
def test_a_short_text_is_looked_up_slice_by_slice_as_brute_force_finds(
    keys: list[str], parts: list[int | str]
) -> None:
    echo = {key: f"<{i}>" for i, key in enumerate(keys)}
    text = "".join(keys[part % len(keys)] if isinstance(part, int) else part for part in parts)
    text = text[: SMALL // 8]  # few lengths: looked up slice by slice
    index = EchoIndex(echo)
    expected = _brute(text, keys)
    assert index.edits(text) == [(start, end, echo[key]) for start, end, key in expected]
    assert index.contains(text) == bool(expected)
    assert index.sub_bytes(text.encode()) == _spliced(text, expected, echo).encode()
