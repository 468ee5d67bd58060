"""A response's head (status line and header lines) as stored bytes, read as header pairs.

The client keeps each head as one slice of what it received, with no Python object per
header (why: benchmarks/README.md, "Response heads kept as bytes").
``headers_column`` parses a whole column of heads with Arrow compute functions on the
results thread, where they let go of the GIL; ``decode_head`` reads one head in Python,
for the API. Both read a head the same way: names as latin-1 (they are tokens), values as
UTF-8 with replacement, surrounding spaces and tabs dropped.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from shadowtape.tape.schema import HEADER, HEADERS

#: Obsolete line folding: a line that continues the one before; read as one space.
_FOLD = re.compile(rb"\r\n[ \t]+")
_FOLD_PATTERN = _FOLD.pattern.decode()
_SPACE = b" \t"
# Arrow scalars: a Python int given to a compute function costs a failed import of
# dateutil (pyarrow looks for relativedelta) each time.
_ZERO = pa.scalar(0, pa.int32())
_ONE = pa.scalar(1, pa.int32())


def decode_head(head: bytes) -> tuple[tuple[str, str], ...]:
    """The header pairs of one head, in order, as ``headers_column`` reads them."""
    pairs = []
    for line in _FOLD.sub(b" ", head).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        pairs.append((name.decode("latin-1"), value.strip(_SPACE).decode("utf-8", "replace")))
    return tuple(pairs)


def encode_head(
    status: int | None, reason: str | None, headers: tuple[tuple[str, str], ...]
) -> bytes:
    """A head for headers given as strings (a Reply made by hand, not by the client)."""
    lines = [f"HTTP/1.1 {status or 0} {reason or ''}".encode("latin-1", "replace")]
    lines += [n.encode("latin-1", "replace") + b": " + v.encode() for n, v in headers]
    return b"\r\n".join(lines)


def headers_column(heads: pa.Array) -> pa.Array:
    """A binary column of heads (null where there was no response) as the results'
    list<struct<name, value>>. A few milliseconds for two thousand heads, without the
    GIL (a regular expression per line was five times slower)."""
    if pc.any(pc.match_substring_regex(heads, _FOLD_PATTERN)).as_py():
        heads = pc.replace_substring_regex(heads, _FOLD_PATTERN, " ")
    lines = pc.list_slice(pc.split_pattern(heads, "\r\n"), 1)  # the status line dropped
    counts = pc.fill_null(pc.list_value_length(lines), _ZERO)
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(counts)])
    parts = pc.split_pattern(lines.flatten(), ":", max_splits=1)
    if len(parts) and pc.min(pc.list_value_length(parts)).as_py() != 2:
        return _decoded(heads)  # a line without a colon: the parser would have refused it
    try:
        names = pc.list_element(parts, _ZERO).cast(pa.string())
        values = pc.list_element(parts, _ONE).cast(pa.string())
    except pa.ArrowInvalid:  # not UTF-8 somewhere
        return headers_column(_as_utf8(heads))
    pairs = pa.StructArray.from_arrays([names, pc.utf8_trim(values, " \t")], fields=list(HEADER))
    mask = pc.is_null(heads) if heads.null_count else None
    return pa.ListArray.from_arrays(offsets, pairs, type=HEADERS, mask=mask)


def _as_utf8(heads: pa.Array) -> pa.Array:
    """The heads that are not ASCII, decoded as ``decode_head`` does (names are tokens,
    so ASCII: UTF-8 with replacement throughout is the same) and encoded again."""
    other = pc.invert(pc.string_is_ascii(heads.view(pa.string())))
    fixed = [head.decode("utf-8", "replace").encode() for head in heads.filter(other).to_pylist()]
    return pc.replace_with_mask(heads, other, pa.array(fixed, pa.binary()))


def _decoded(heads: pa.Array) -> pa.Array:
    rows = [None if head is None else decode_head(head) for head in heads.to_pylist()]
    return pa.array(
        [None if row is None else [{"name": n, "value": v} for n, v in row] for row in rows],
        HEADERS,
    )
