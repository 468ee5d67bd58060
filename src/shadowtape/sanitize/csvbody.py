"""CSV bodies (data exports): a column whose header names a secret is replaced in every row.

Only when a column needs it is the document rewritten (with the same delimiter and line
ending); the rest of the text, other columns included, is then scanned as free text.
Reading and writing the rows is charged to the work budget before it starts (a row is
about a microsecond), so a text of a million empty lines fails as too dense to scan.
"""

from __future__ import annotations

import csv
import io

from shadowtape.sanitize.context import Context

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/tab-separated-values"})
_DELIMITERS = (",", ";", "\t", "|")
#: Work units (``Context.spend``) per row read and written again, measured: the csv
#: module's reader and writer and the loop over the secret columns, ~1 us a row.
ROW_UNITS = 1


def sanitize_csv(text: str, ctx: Context, base: str) -> str:
    """``text`` with secret columns replaced; ``text`` itself when there are none."""
    first, _, _ = text.partition("\n")
    delimiter = max(_DELIMITERS, key=first.count)
    try:
        header = next(csv.reader([first.rstrip("\r")], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return text
    policy = ctx.policy
    names = [name.strip("\ufeff \t") for name in header]
    columns = [
        i
        for i, name in enumerate(names)
        if policy.secret_field.matches(name) and not policy.allowed_field.matches(name)
    ]
    if not columns or ctx.echo_only:
        return text
    ctx.spend(_rows(text) * ROW_UNITS)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:  # not CSV after all: the text scan still runs
        return text
    for row in rows[1:]:
        for i in columns:
            if i < len(row) and row[i]:
                row[i] = ctx.secret(row[i], f"{base}.csv.{names[i]}")
    out = io.StringIO()
    ending = "\r\n" if first.endswith("\r") else "\n"
    csv.writer(out, delimiter=delimiter, lineterminator=ending).writerows(rows)
    written = out.getvalue()
    return written if text.endswith(("\n", "\r")) else written[: -len(ending)]


def _rows(text: str) -> int:
    """How many rows the csv module will read at most: lines end in LF, CRLF or CR."""
    return text.count("\n") + text.count("\r") - text.count("\r\n") + 1
