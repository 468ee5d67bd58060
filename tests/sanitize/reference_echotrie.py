"""The echo search as it was before ahocorasick-rs: a trie of WIDTH characters per step,
read position by position in Python. Kept as the reference the automata must agree with
(tests/sanitize/test_echoindex_automata.py); not used by the sanitizer."""

from __future__ import annotations

import bisect

WIDTH = 6
MAX_DEPTH = 16


class _Node:
    __slots__ = ("children", "ends", "long")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        #: The rest of a search string shorter than WIDTH (possibly "") -> the string.
        self.ends: dict[str, str] = {}
        #: At the deepest level: strings longer than the trie, checked whole, longest first.
        self.long: list[str] = []


class TrieIndex:
    """Search strings (each at least WIDTH characters) -> replacements: leftmost match,
    longest there, none overlapping."""

    def __init__(self, echo: dict[str, str]) -> None:
        self._echo = echo
        self._root = _Node()
        for key in echo:
            self._insert(key)

    def _insert(self, key: str) -> None:
        node, at, depth = self._root, 0, 0
        while len(key) - at >= WIDTH and depth < MAX_DEPTH:
            chunk = key[at : at + WIDTH]
            child = node.children.get(chunk)
            if child is None:
                child = node.children[chunk] = _Node()
            node, at, depth = child, at + WIDTH, depth + 1
        if len(key) - at < WIDTH:
            node.ends[key[at:]] = key
        else:
            bisect.insort(node.long, key, key=lambda k: -len(k))

    def _match(self, text: str, start: int) -> str | None:
        """The longest search string that starts at ``start``, if any."""
        node, at, best = self._root, start, None
        for _ in range(MAX_DEPTH):
            child = node.children.get(text[at : at + WIDTH])
            if child is None:
                break
            node, at = child, at + WIDTH
            for size in range(min(WIDTH - 1, len(text) - at), -1, -1):
                key = node.ends.get(text[at : at + size])
                if key is not None:
                    best = key
                    break
        else:
            for key in node.long:
                if text.startswith(key, start):
                    return key
        return best

    def edits(self, text: str) -> list[tuple[int, int, str]]:
        found = []
        at = 0
        while at <= len(text) - WIDTH:
            key = self._match(text, at)
            if key is None:
                at += 1
            else:
                found.append((at, at + len(key), self._echo[key]))
                at += len(key)
        return found
