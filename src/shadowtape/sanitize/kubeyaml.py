"""Kubernetes Secrets written as YAML: every value under ``data`` and ``stringData``.

A Secret's values are secret whatever their keys (``.dockerconfigjson``, ``DB_URL``,
``tls.key``), so the name rules cannot find them. A text holding a ``kind: Secret``
line is read line by line, once: each mapping (a document, a list item) is followed by
its indentation, the lines under its ``data:`` or ``stringData:`` key are its entries,
and when the mapping ends, if its ``kind`` was ``Secret``, each entry's value is
replaced (a block scalar's lines and a plain scalar's continuation lines with it).
A certificate (``tls.crt``, ``ca.crt``: base64 of a PEM certificate, or the PEM itself)
is public and kept, as in JSON: told by its content, not its key.

Each line costs Python work: the text's lines are paid for (``LINES_PER_UNIT``) before
any is read, so a text of a megabyte of short lines with a ``kind: Secret`` in it is
too dense to scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

#: Work units (``Context.spend``) per line, measured: about 1 us a line.
LINE_UNITS = 1

_KIND = re.compile(r"""(?m)^[ \t\-]*+kind[ \t]*+:[ \t]*+["']?Secret["']?[ \t]*+(?:#.*+)?$""")
#: A line: its indentation, the ``- `` that open list items, then a key and its value
#: (no key: a comment, a blank line, a scalar's continuation, a list item of scalars).
_LINE = re.compile(
    r"(?m)^(?P<i>[ ]*+)(?P<d>(?:-[ ]++)*+)"
    r"(?:(?P<k>[^\s:#\"'\-][^:\r\n]{0,252}?|\"[^\"\r\n]{0,253}\"|'[^'\r\n]{0,253}')"
    r"[ \t]*+:(?=[ \t\r\n]|\Z)[ \t]*+)?(?P<v>[^\r\n]*+)"
)
#: A block scalar's indicator (``|``, ``>-``, ``|2+``), or nothing: the value is below.
_BLOCK = re.compile(r"(?:[|>][0-9+\-]{0,3}+)?[ \t]*+(?:#.*+)?")
_DATA = frozenset({"data", "stringData"})
#: How a certificate starts, base64-encoded (in ``data``) or not (in ``stringData``).
_CERTIFICATE = ("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t", "-----BEGIN CERTIFICATE-----")
#: A document separator or end marker.
_DOCUMENT = frozenset({"---", "..."})
#: Indentation is told up to this column; a deeper one reads as this one (a block then
#: reaches further, never less far).
_DEEPEST = 64


@dataclass(slots=True)
class _Mapping:
    column: int
    kind: str = ""
    #: The value spans of its data entries, replaced if it turns out to be a Secret.
    values: list[tuple[int, int]] = field(default_factory=list)


def is_certificate(value: str) -> bool:
    """Is a Secret's value a certificate (public), base64-encoded or not?"""
    return value.lstrip(" \t\r\n\"'").startswith(_CERTIFICATE)


def may_hold_secret(text: str) -> bool:
    return "Secret" in text and _KIND.search(text) is not None


def secret_values(text: str, spend: Callable[[int], None]) -> Iterator[tuple[int, int]]:
    """The spans of the values of every Secret's data in ``text`` (in order)."""
    if not may_hold_secret(text):
        return iter(())
    spend(_line_count(text) * LINE_UNITS)
    found: list[tuple[int, int]] = []
    stack: list[_Mapping] = []

    def close(column: int) -> None:
        """End the mappings at ``column`` or deeper."""
        while stack and stack[-1].column >= column:
            mapping = stack.pop()
            if mapping.kind == "Secret":
                found.extend(mapping.values)

    at = 0
    while at <= len(text):
        line = _LINE.match(text, at)
        assert line is not None  # every part of it is optional
        at = _next_line(text, line.end())
        key = line.group("k")
        if key is None:
            if line.group("v").rstrip() in _DOCUMENT and not line.group("i"):
                close(0)
            continue
        column = len(line.group("i")) + len(line.group("d"))
        close(column if line.group("d") else column + 1)
        if not stack or stack[-1].column < column:
            stack.append(_Mapping(column))
        mapping = stack[-1]
        value = line.group("v").strip()
        if key == "kind":
            mapping.kind = value.strip("\"'")
        elif key.strip("\"'") in _DATA and _BLOCK.fullmatch(value) is not None:
            at = _entries(text, at, column, mapping.values)
    close(0)
    found.sort()
    return iter(found)


def _next_line(text: str, end: int) -> int:
    """Where the line after the one ending at ``end`` starts (past the text: none)."""
    if end >= len(text):
        return len(text) + 1
    return end + (2 if text.startswith("\r\n", end) else 1)


def _entries(text: str, at: int, column: int, values: list[tuple[int, int]]) -> int:
    """Add the value spans of the entries under a key at ``column``, starting at ``at``
    (the lines indented deeper, found in C); where the lines after them start."""
    end = _shallower(min(column, _DEEPEST)).search(text, at)
    stop = len(text) if end is None else end.start()
    entry = _INDENT.match(text, at, stop)
    if entry is None:
        return stop if end is not None else len(text) + 1
    indent = len(entry.group(1))
    if indent > _DEEPEST:  # read as one entry
        starts = [entry.end() - indent, stop]
    else:
        starts = [m.start() for m in _at_column(indent).finditer(text, at, stop)] + [stop]
    for begin, after in pairwise(starts):
        line = _LINE.match(text, begin)
        assert line is not None
        key = line.group("k")
        if key is None:
            continue
        value_start = line.start("v")
        if _BLOCK.fullmatch(line.group("v")) is not None:
            value_start = line.end()  # "key: |" or "key:" alone: the value is below
        value_end = value_start + len(text[value_start:after].rstrip())
        if value_start < value_end and not is_certificate(text[value_start:value_end]):
            values.append((value_start, value_end))
    return stop if end is not None else len(text) + 1


def block_end(text: str, at: int, column: int) -> int:
    """Where the lines from ``at`` indented deeper than ``column`` end (blank lines
    inside them included), trailing blanks and line ends left out: a YAML block."""
    end = _shallower(min(column, _DEEPEST)).search(text, at)
    stop = len(text) if end is None else end.start()
    return at + len(text[at:stop].rstrip())


#: The first line holding something (not blank, not a comment) from a position, and its
#: indentation.
_INDENT = re.compile(r"(?:[ \t]*+(?:#[^\r\n]*+)?(?:\r\n|\r|\n))*+([ ]*+)(?=[^\s#])")


@lru_cache(maxsize=_DEEPEST + 1)
def _shallower(column: int) -> re.Pattern[str]:
    """A line holding something, indented ``column`` or less (where a block ends)."""
    return re.compile(rf"(?m)^[ ]{{0,{column}}}+(?=[^ \t\r\n#])")


@lru_cache(maxsize=_DEEPEST + 1)
def _at_column(indent: int) -> re.Pattern[str]:
    """A line whose content starts at ``indent`` (an entry of a block)."""
    return re.compile(rf"(?m)^[ ]{{{indent}}}(?=[^ \t\r\n#])")


def _line_count(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n") + 1
