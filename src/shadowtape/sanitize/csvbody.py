"""CSV bodies (data exports): a column whose header names a secret is replaced in every row.

As in a markdown table (mdtable.py), a yes/no cell stays, and so does a constant under
a name secret as a whole only (``code,description`` over ``200,OK``; a ledger's
``ASSET``: constants.py). Only when a cell needs it is the document rewritten (with
the same delimiter and line ending); the rest of the text, other columns included, is
then scanned as free text. Reading the rows is charged to the work budget before it
starts, so a text of a million empty lines fails as too dense to scan.
"""

from __future__ import annotations

import csv
import io
import re

from shadowtape.sanitize.constants import cell_kept, label_at
from shadowtape.sanitize.context import Context

CSV_TYPES = frozenset(
    {
        "text/csv",
        "application/csv",
        "text/tab-separated-values",
        "text/x-csv",
        "application/x-csv",
        "text/comma-separated-values",
        "text/x-comma-separated-values",
        "application/vnd.ms-excel",  # what Windows sends for a .csv upload
    }
)
#: Types that say nothing about the content: a file name ending ``.csv`` then does.
UNTYPED = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/download",
     "application/force-download", "application/x-download"}
)  # fmt: skip
#: A header row of a text that does not say it is CSV: names of letters, digits and
#: ``_.-`` between the delimiters (no blank inside: prose has them).
_HEADER_CELL = re.compile(r'"?[A-Za-z_][\w.\-]{0,63}"?')
_DELIMITERS = (",", ";", "\t", "|")
#: Work units (``Context.spend``) per ten rows: read by the csv module (~0.4 us a row),
#: and each secret column's cell checked (~0.3 us), measured on rows of short cells. A
#: replaced cell counts as a redaction (at most MAX_BODY_REDACTIONS a body).
READ_UNITS_PER_10_ROWS = 4
CELL_UNITS_PER_10_ROWS = 3


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
    per_10_rows = READ_UNITS_PER_10_ROWS + CELL_UNITS_PER_10_ROWS * len(columns)
    ctx.spend(_rows(text) * per_10_rows // 10 + 1)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:  # not CSV after all: the text scan still runs
        return text
    changed = False
    response = label_at(base)
    for i in columns:
        whole = policy.secret_field.whole_only(names[i])
        for row in rows[1:]:
            if (
                i < len(row)
                and row[i]
                and not cell_kept(row[i], names[i], whole=whole, response=response)
            ):
                row[i] = ctx.secret(row[i], f"{base}.csv.{names[i]}")
                changed = True
    if not changed:
        return text
    out = io.StringIO()
    ending = "\r\n" if first.endswith("\r") else "\n"
    csv.writer(out, delimiter=delimiter, lineterminator=ending).writerows(rows)
    written = out.getvalue()
    return written if text.endswith(("\n", "\r")) else written[: -len(ending)]


def _rows(text: str) -> int:
    """How many rows the csv module will read at most: lines end in LF, CRLF or CR."""
    return text.count("\n") + text.count("\r") - text.count("\r\n") + 1


def csv_file(disposition: str) -> bool:
    """Does a ``Content-Disposition`` name a CSV (or TSV) file?"""
    for param in disposition.split(";"):
        name, _, value = param.partition("=")
        named = name.strip().lower() in ("filename", "filename*")
        if named and value.strip().strip('"').lower().endswith((".csv", ".tsv")):
            return True
    return False


def looks_like_csv(text: str) -> bool:
    """Is ``text`` (a plain-text body) a table with a header row? Two rows at least, the
    first made of two or more names, the second as many cells: what a data export sent
    as ``text/plain`` looks like, and prose, logs or key/value files do not."""
    first, _, rest = text[:4096].partition("\n")
    second = rest.partition("\n")[0].rstrip("\r")
    first = first.rstrip("\r")
    delimiter = max(_DELIMITERS, key=first.count)
    cells = first.split(delimiter)
    return (
        len(cells) >= 2
        and bool(second)
        and second.count(delimiter) >= len(cells) - 1
        and all(_HEADER_CELL.fullmatch(cell.strip()) for cell in cells)
    )
