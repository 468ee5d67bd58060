"""Echo search in short texts and short bytes, many strings at once: the trie, grown as
searches reach it, finds what a brute-force search finds, with strings added between
searches, and a text shorter than every string is answered without growing anything."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.sanitize.echoindex import LONG, MAX_DEPTH, WIDTH, EchoIndex

#: Strings sharing long prefixes (several trie levels), some past the trie's depth.
ALPHABET = "ab/é😀"
KEYS = st.lists(
    st.text(alphabet=ALPHABET, min_size=WIDTH, max_size=WIDTH * 4)
    | st.builds(lambda tail: "ab" * (WIDTH * MAX_DEPTH // 2) + tail, st.text(ALPHABET)),
    min_size=40,
    max_size=150,
)
TEXTS = st.lists(st.text(alphabet=ALPHABET + "x", max_size=LONG // 2), min_size=1, max_size=6)


def _reference(text: str, keys: list[str]) -> list[tuple[int, int, str]]:
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


def _texts(draw_texts: list[str], keys: list[str]) -> list[str]:
    """Each text with some of the keys put in it, glued to the filler."""
    return [
        "".join(f"{part}{keys[(i * 7 + j) % len(keys)]}" for j, part in enumerate(text))
        for i, text in enumerate(draw_texts)
    ]


@settings(max_examples=60, deadline=None)
@given(KEYS, TEXTS, st.integers(1, 5))
def test_short_texts_are_searched_as_by_brute_force(
    keys: list[str], fillers: list[str], batches: int
) -> None:
    keys = list(dict.fromkeys(keys))
    echo = {key: f"<{i}>" for i, key in enumerate(keys)}
    index = EchoIndex({})
    added: list[str] = []
    texts = [text[: LONG - 1] for text in _texts(fillers, keys)]
    step = max(1, len(keys) // batches)
    for first in range(0, len(keys), step):  # strings added between searches
        new = keys[first : first + step]
        index._echo.update({key: echo[key] for key in new})  # as Context.echo grows
        index.add(new)
        added += new
        for text in texts:
            expected = _reference(text, added)
            assert index.edits(text) == [(s, e, echo[k]) for s, e, k in expected]
            assert index.contains(text) == bool(expected)
            found = index.occurring(text)
            assert {k for _, _, k in expected} <= found
            data = text.encode("utf-8")
            assert index.contains(data) == bool(expected)
            replaced = "".join(_spliced(text, expected, echo))
            assert index.sub_bytes(data) == replaced.encode("utf-8")


def _spliced(text: str, found: list[tuple[int, int, str]], echo: dict[str, str]) -> list[str]:
    out, done = [], 0
    for start, end, key in found:
        out += [text[done:start], echo[key]]
        done = end
    out.append(text[done:])
    return out


def test_a_text_shorter_than_every_string_grows_no_trie_and_compiles_nothing() -> None:
    spent: list[int] = []
    keys = [f"photos/2024/IMG_{i:05d}.jpg" for i in range(4000)]
    index = EchoIndex(dict.fromkeys(keys, "x"), spend=spent.append)
    for text in ("", "ab", "photos/2024"):
        assert not index.contains(text) and index.edits(text) == []
        assert not index.contains(text.encode()) and index.sub_bytes(text.encode()) == text.encode()
    assert spent == []  # no pattern was compiled
    assert not index._root.children  # and no trie grown
    assert index.contains(keys[17].encode()) and spent == []  # short bytes: the trie
