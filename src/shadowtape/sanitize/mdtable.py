"""Markdown tables whose header names a secret column: that column's cells, every row.

``| user | password |`` over ``|---|---|`` is a CSV export written for people (issue
trackers, chat, model output, READMEs in a body): the values under a secret-named header
are secret as CSV columns are (csvbody.py), by the same name rules; under ``key`` or
``code`` (or ``<word>_code``) a constant is kept (``| Country | Code |`` lists ``DE``,
``| key | description |`` lists settings: constants.is_constant), and under any secret
name a yes/no cell. A table of name/value pairs (``| name | value |`` with a row
``| DB_PASSWORD | ... |``) has the value of each secret-named row replaced.

One RE2 pass finds the delimiter rows (``|---|:--:|``); only a table whose header holds
a secret-named or pair-name cell is read. Its rows are counted in C (to the first line
without a "|") and charged to the work budget before any is read, then split a chunk at
a time, each distinct value of a column judged once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import accumulate, islice, pairwise

import re2

from shadowtape.sanitize.constants import cell_kept
from shadowtape.sanitize.names import PAIR_NAMES

#: A delimiter row: cells of dashes (colons for alignment), at least one "|".
_DELIMITER = r"(?m)^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?\r?$"
_DELIMITER_BYTES = re2.compile(_DELIMITER.encode())
_DELIMITER_STR = re2.compile(_DELIMITER)
#: A line without a "|": where a table's rows end.
_PLAIN_LINE = re2.compile(rb"(?m)^[^|\n]*$")
_PLAIN_LINE_TEXT = re.compile(r"\n[^|\n]*+(?:\n|\Z)")
#: A cell border: "|" not escaped.
_PIPE = re.compile(r"(?<!\\)\|")
#: The headers of a name/value table's value column.
_VALUE_HEADERS = frozenset({"value", "val", "values", "data", "content", "secret"})
#: Work units per delimiter row found (its header read and matched); per
#: ``ROWS_PER_UNIT`` body rows (split in C a chunk at a time, a column's cells taken at
#: once: 0.4 us a row of empty cells, measured); per ``VERDICTS_PER_UNIT`` distinct
#: values in a column (each judged once, constants.kept: 0.4 to 0.6 us); and per row
#: read on its own (in a chunk with a backslash, or in a name/value table: 1.3 to 4.5 us).
#: A row of three bytes thus costs 1 unit for 0.4 us: a hostile table fails at once.
TABLE_UNITS = 8
ROW_UNITS = 1
ROWS_PER_UNIT = 1
VERDICT_UNITS = 1
VERDICTS_PER_UNIT = 4
ROW_BY_ROW_UNITS = 4
#: Rows are split this many characters at a time.
_CHUNK = 16 * 1024
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
    *,
    labels: bool = False,
) -> Iterator[Span]:
    """The spans of the cells to replace in ``text``'s markdown tables.

    ``secret``: is a header (or a pair's name) secret; ``whole_only``: is it secret as
    a whole name only (``key``), so that a constant under it is kept; ``spend``: charges
    work units (``Context.spend``); ``labels``: a label of its column is kept
    (constants.label: a localised export's ``Mot de passe``; not in a request)."""
    if not may_hold_table(text):
        return
    data = text.encode("ascii") if text.isascii() else None
    if data is not None:
        found_all = _DELIMITER_BYTES.finditer(data)
    else:
        # Lone surrogates (which UTF-8 cannot encode) as "?", one character each, so
        # indexes hold: two C passes.
        found_all = _DELIMITER_STR.finditer(text.encode("utf-8", "replace").decode("utf-8"))
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
        # The table's rows, up to the first line without a "|" (found in C), paid for at
        # once: a table of a million empty rows fails before one is read.
        last = _table_end(text, data, end)
        spend((text.count("\n", end + 1, last) + 1) * ROW_UNITS // ROWS_PER_UNIT + 1)
        verdicts = _Verdicts(spend, whole_only, labels)
        yield from _rows(text, end, names, columns, pair, secret, verdicts)


def _table_end(text: str, data: bytes | None, end: int) -> int:
    """Where the first line without a "|" after ``end`` (a line break) starts, or the
    text's length: by RE2 over ``data`` (``text`` in ASCII), else by a search for a
    line break (Python's ``re`` finds it by its literal first character)."""
    if data is not None:
        plain = _PLAIN_LINE.search(data, end + 1)
        return len(data) if plain is None else plain.start()
    found = _PLAIN_LINE_TEXT.search(text, end)
    return len(text) if found is None else found.start() + 1


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
    verdicts: _Verdicts,
) -> Iterator[Span]:
    """The cells to replace in the rows after a delimiter row ending at ``at`` (their
    rows paid for): rows run to the first line without a "|".

    Rows are read a chunk at a time (``_CHUNK`` characters, split in C). A chunk without
    escapes has its cells split at once, and each distinct value in a column is judged
    once for the table (a column often repeats its values: ``USD``, ``yes``)."""
    reach = max([*columns, *(pair or ())]) + 1
    wholes = [verdicts.whole_only(names[i]) for i in columns]
    row_start = at + 1
    while row_start <= len(text):
        lines, complete = _chunk(text, row_start)
        rows = next((i for i, line in enumerate(lines) if "|" not in line), len(lines))
        body = lines[:rows]
        size = sum(map(len, body)) + rows
        if pair is None and text.find("\\", row_start, row_start + size) < 0:
            split = [
                parts[1:] if len(parts) > 1 and not parts[0].strip() else parts
                for parts in (line.split("|", reach + 1) for line in body)
            ]
            starts: list[int] = []
            for i, whole in zip(columns, wholes, strict=True):
                values = [parts[i].strip() if i < len(parts) else "" for parts in split]
                known = verdicts.judged(values, whole, names[i])
                for row in [k for k, value in enumerate(values) if value and not known[value]]:
                    if not starts:
                        starts = list(
                            accumulate((len(line) + 1 for line in body), initial=row_start)
                        )
                    parts, first = _split(body[row], starts[row], reach)
                    yield _span(parts, first, i)
        else:
            line_start = row_start
            for line in body:
                yield from _row(
                    text, line, line_start, names, columns, wholes, pair, reach, secret, verdicts
                )
                line_start += len(line) + 1
        row_start += size
        if rows < len(lines) or complete:
            return


def _row(
    text: str,
    line: str,
    row_start: int,
    names: list[str],
    columns: list[int],
    wholes: list[bool],
    pair: tuple[int, int] | None,
    reach: int,
    secret: Callable[[str], bool],
    verdicts: _Verdicts,
) -> Iterator[Span]:
    """The cells to replace in one row (in a chunk with escapes, or of a name/value
    table), read on its own."""
    verdicts.spend(ROW_BY_ROW_UNITS)
    if "\\" in line:
        cells = _cells(text, row_start, row_start + len(line), reach)
        parts = [text[a:b] for a, b in cells]
        starts = [a for a, _ in cells]
    else:
        parts, starts = _split(line, row_start, reach)
    for i, whole in zip(columns, wholes, strict=True):
        if i < len(parts):
            value = parts[i].strip()
            if value and not verdicts.kept(value, whole, names[i]):
                yield _span(parts, starts, i)
    if pair is not None and max(pair) < len(parts):
        name = parts[pair[0]].strip()
        if name and secret(name) and pair[1] not in columns:
            value = parts[pair[1]].strip()
            if value and not verdicts.kept(value, verdicts.whole_only(name), name):
                yield _span(parts, starts, pair[1])


class _Verdicts:
    """Whether a cell's value is kept (constants.cell_kept), judged once per value and
    column name in a table, each judgement paid for (``VERDICT_UNITS`` per
    ``VERDICTS_PER_UNIT``)."""

    __slots__ = ("_known", "labels", "spend", "whole_only")

    def __init__(
        self, spend: Callable[[int], None], whole_only: Callable[[str], bool], labels: bool
    ) -> None:
        self.spend = spend
        self.whole_only = whole_only
        self.labels = labels
        self._known: dict[tuple[bool, str], dict[str, bool]] = {}

    def kept(self, value: str, whole: bool, name: str) -> bool:
        return self.judged([value], whole, name)[value]

    def judged(self, values: list[str], whole: bool, name: str) -> dict[str, bool]:
        """The verdicts of the ``values`` of the column ``name`` (and of others judged
        before)."""
        known = self._known.setdefault((whole, name if self.labels else ""), {})
        new = set(values).difference(known)
        new.discard("")
        if new:
            self.spend(len(new) * VERDICT_UNITS // VERDICTS_PER_UNIT + 1)
            for value in new:
                known[value] = cell_kept(value, name, whole=whole, response=self.labels)
        return known


def _chunk(text: str, start: int) -> tuple[list[str], bool]:
    """The whole lines of ``text`` from ``start`` within about ``_CHUNK`` characters (at
    least one), and whether they run to the end of ``text``."""
    end = start + _CHUNK
    if end >= len(text):
        return text[start:].split("\n"), True
    cut = text.rfind("\n", start, end)
    if cut < 0:
        cut = text.find("\n", end)
        if cut < 0:
            return text[start:].split("\n"), True
    return text[start:cut].split("\n"), False


def _split(line: str, start: int, reach: int) -> tuple[list[str], list[int]]:
    """The first ``reach`` or so cells of a row without escapes, ``line`` starting at
    ``start``, by one str.split (as _cells finds them): their texts, and where the first
    one starts (one element; see _span)."""
    parts = line.split("|", reach + 1)
    if len(parts) > 1 and not parts[0].strip():
        return parts[1:], [start + len(parts[0]) + 1]
    return parts, [start]


def _span(parts: list[str], starts: list[int], i: int) -> Span:
    """Where cell ``i``'s text lies without the blanks around it: ``starts`` holds where
    each cell starts or, for cells split from one row (one "|" between two), the first."""
    at = starts[i] if len(starts) > i else starts[0] + sum(map(len, parts[:i])) + i
    part = parts[i]
    first = at + len(part) - len(part.lstrip())
    return first, first + len(part.strip())


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
