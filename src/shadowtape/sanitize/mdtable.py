"""Markdown tables whose header names a secret column: that column's cells, every row.

``| user | password |`` over ``|---|---|`` is a CSV export written for people (issue
trackers, chat, model output, READMEs in a body): the values under a secret-named header
are secret as CSV columns are (csvbody.py), by the same name rules; under ``key`` or
``code`` (or ``<word>_code``) a constant is kept (``| Country | Code |`` lists ``DE``,
``| key | description |`` lists settings: constants.is_constant), and under any secret
name a yes/no cell. A table of name/value pairs (``| name | value |`` with a row
``| DB_PASSWORD | ... |``) has the value of each secret-named row replaced.

One RE2 pass finds the delimiter rows (``|---|:--:|``); only a table whose header holds
a secret-named or pair-name cell is read, row by row, each row charged to the work
budget (``ROW_UNITS``) before it is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import islice, pairwise

import re2

from shadowtape.sanitize import constants
from shadowtape.sanitize.constants import kept
from shadowtape.sanitize.names import PAIR_NAMES

#: A delimiter row: cells of dashes (colons for alignment), at least one "|".
_DELIMITER = r"(?m)^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?\r?$"
_DELIMITER_BYTES = re2.compile(_DELIMITER.encode())
_DELIMITER_STR = re2.compile(_DELIMITER)
_SURROGATES = dict.fromkeys(range(0xD800, 0xE000), 0xFFFD)
#: A cell border: "|" not escaped.
_PIPE = re.compile(r"(?<!\\)\|")
#: The headers of a name/value table's value column.
_VALUE_HEADERS = frozenset({"value", "val", "values", "data", "content", "secret"})
#: Work units per delimiter row found (its header read and matched) and per body row
#: (its cells found and read: 3 to 4 us, measured on rows of empty cells).
TABLE_UNITS = 8
ROW_UNITS = 4
#: Cells past this many in a row are not read (as in a header, no real table has more).
_MAX_COLUMNS = 64
#: A header row longer than this is not read (no real table header is).
_HEADER_REACH = 4096

Span = tuple[int, int]


def may_hold_table(text: str) -> bool:
    """False only when ``text`` cannot hold a delimiter row (a quick test)."""
    return "|" in text and ("-|" in text or "|-" in text or "- |" in text or "| -" in text)


def secret_cells(
    text: str,
    secret: Callable[[str], bool],
    whole_only: Callable[[str], bool],
    spend: Callable[[int], None],
) -> Iterator[Span]:
    """The spans of the cells to replace in ``text``'s markdown tables.

    ``secret``: is a header (or a pair's name) secret; ``whole_only``: is it secret as
    a whole name only (``key``), so that a constant under it is kept; ``spend``: charges
    work units (``Context.spend``)."""
    if not may_hold_table(text):
        return
    if text.isascii():
        found_all = _DELIMITER_BYTES.finditer(text.encode("ascii"))
    else:
        found_all = _DELIMITER_STR.finditer(text.translate(_SURROGATES))
    for found in found_all:
        spend(TABLE_UNITS)
        start, end = found.span()
        header_end = start - 1  # the line break before the delimiter row
        header_start = text.rfind("\n", 0, max(0, header_end)) + 1
        if header_end <= 0 or header_end - header_start > _HEADER_REACH:
            continue
        names = [text[a:b].strip().lower() for a, b in _cells(text, header_start, header_end)]
        columns = [i for i, name in enumerate(names) if name and secret(name)]
        pair = _pair_columns(names)
        if not columns and pair is None:
            continue
        yield from _rows(text, end, names, columns, pair, secret, whole_only, spend)


def _pair_columns(names: list[str]) -> tuple[int, int] | None:
    """(name column, value column) of a name/value table, or None."""
    name = next((i for i, n in enumerate(names) if n in PAIR_NAMES), None)
    value = next((i for i, n in enumerate(names) if n in _VALUE_HEADERS), None)
    return None if name is None or value is None else (name, value)


def _rows(
    text: str,
    at: int,
    names: list[str],
    columns: list[int],
    pair: tuple[int, int] | None,
    secret: Callable[[str], bool],
    whole_only: Callable[[str], bool],
    spend: Callable[[int], None],
) -> Iterator[Span]:
    """The cells to replace in the rows after a delimiter row ending at ``at``: rows run
    to the first line without a "|"."""
    reach = max([*columns, *(pair or ())]) + 1
    wholes = [whole_only(names[i]) for i in columns]
    while at < len(text):
        row_start = at + 1
        row_end = text.find("\n", row_start)
        row_end = len(text) if row_end < 0 else row_end
        line = text[row_start:row_end]
        if "|" not in line:
            return
        spend(ROW_UNITS)
        cells = (
            _cells(text, row_start, row_end, reach)
            if "\\" in line
            else _split(line, row_start, reach)
        )
        for i, whole in zip(columns, wholes, strict=True):
            if i < len(cells):
                span = _value(text, cells[i])
                if span is not None and not _kept(text[span[0] : span[1]], whole, names[i]):
                    yield span
        if pair is not None and max(pair) < len(cells):
            found = _value(text, cells[pair[0]])
            name = text[found[0] : found[1]] if found is not None else ""
            if name and secret(name):
                span = None if pair[1] in columns else _value(text, cells[pair[1]])
                value = text[span[0] : span[1]] if span is not None else ""
                if span is not None and not _kept(value, whole_only(name), name):
                    yield span
        at = row_end


def _kept(value: str, whole: bool, name: str) -> bool:
    """Is a cell under the secret name ``name`` a yes/no answer, a placeholder or a
    label, or a constant under a name secret as a whole only (``whole``: constants.py)?"""
    return (
        kept(value, whole=False)
        or (whole and kept(value, whole=True))
        or constants.label(value, name)
    )


def _split(line: str, start: int, reach: int) -> list[Span]:
    """The first ``reach`` or so cells of a row without escapes, ``line`` starting at
    ``start`` (as _cells gives them, by one str.split)."""
    parts = line.split("|", reach + 1)
    cells = []
    at = start
    for part in parts:
        cells.append((at, at + len(part)))
        at += len(part) + 1
    if len(parts) > 1 and not parts[0].strip():
        del cells[0]
    return cells


def _cells(text: str, start: int, end: int, reach: int = _MAX_COLUMNS) -> list[Span]:
    """The cells of the row ``text[start:end]``: between its unescaped pipes, the outer
    ones left out; only the first ``reach`` or so are read."""
    line = text[start:end].rstrip("\r")
    if "\\" in line:
        pipes = [found.start() for found in islice(_PIPE.finditer(line), reach + 2)]
    else:  # no escape: each "|" is a border, found by str.find
        pipes = []
        at = line.find("|")
        while at >= 0 and len(pipes) < reach + 2:
            pipes.append(at)
            at = line.find("|", at + 1)
    if len(pipes) == reach + 2:
        line = line[: pipes[-1]]
        pipes.pop()
    bounds = [-1, *pipes, len(line)]
    cells = [(start + a + 1, start + b) for a, b in pairwise(bounds)]
    if pipes and not line[: pipes[0]].strip():
        cells = cells[1:]
    if pipes and not line[pipes[-1] + 1 :].strip():
        cells = cells[:-1]
    return cells


def _value(text: str, cell: Span) -> Span | None:
    """The cell's content without the blanks around it (None: empty)."""
    start, end = cell
    content = text[start:end]
    stripped = content.strip()
    if not stripped:
        return None
    first = start + content.index(stripped[0])
    return first, first + len(stripped)
