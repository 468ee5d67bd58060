"""The state keys of a whole batch of requests, computed with Arrow on the reader thread.

The same keys, in the same order, as the per-request rule (tests/replay/reference.py's
``keys_for``; tests/replay/prepare/test_batchkeys.py checks it on random batches): header
names and session cookie names in ASCII case, cookies and the client address trimmed of
what ``str.strip`` trims, the last of repeated tags. The event loop makes none of these
objects, and each kernel lets go of the GIL.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from shadowtape.replay.rules.ordering import CLIENT_TAGS, SESSION_COOKIE

KEYS = pa.list_(pa.string())

#: What ``str.strip()`` strips (the test checks it against ``str.isspace``).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

# Headers of which the first one counts, in the order of their slots; then Cookie.
_FIRST = ("authorization", "x-forwarded-for", "x-real-ip", "idempotency-key")
_NAMES = pa.array([*_FIRST, "cookie"])
_COOKIE = pa.scalar(len(_FIRST), pa.int32())
_TAGS = pa.array(CLIENT_TAGS)
# A cookie item (lower-cased) whose name, before the first "=", holds one of the words:
# what ``sep and name and SESSION_COOKIE.search(name)`` accepts.
_SESSION_ITEM = f"^[^=]*(?:{SESSION_COOKIE.pattern})[^=]*="

# Arrow scalars: a Python int given to a compute function costs a failed import of
# dateutil (pyarrow looks for relativedelta) each time.
_ZERO = pa.scalar(0, pa.int32())
_ONE = pa.scalar(1, pa.int64())
_MINUS_ONE = pa.scalar(-1, pa.int64())
_EMPTY = pa.scalar("", pa.string())
_NO_TEXT = pa.scalar(None, pa.string())
_NO_ROW = pa.scalar(None, pa.int64())
_counted = pa.array([], pa.int64())


def keys_column(
    headers: pa.Array | pa.ChunkedArray, tags: pa.Array | pa.ChunkedArray
) -> pa.ListArray:
    """Row i is ``keys_for(headers[i], tags[i])``: the same keys in the same order.

    ``headers`` is a tape's ``request_headers`` column, ``tags`` its ``tags`` column;
    null rows read as none.
    """
    headers, tags = _whole(headers), _whole(tags)
    n = len(headers)
    if len(tags) != n:
        raise ValueError(f"{n} rows of headers but {len(tags)} of tags")
    if n == 0:
        return pa.array([], KEYS)
    rows, pairs = _entries(headers)
    values = pairs.field("value")
    slot = pc.index_in(pc.ascii_lower(pairs.field("name")), value_set=_NAMES)
    firsts = values.take(_firsts(slot, rows, n, len(_FIRST)))
    addresses = _address(firsts.slice(n, 2 * n))  # X-Forwarded-For's, then X-Real-IP's
    is_cookie = pc.equal(slot, _COOKIE)
    cookies, cookie_rows = _session_cookies(values.filter(is_cookie), rows.filter(is_cookie))
    every = _counting(n)
    keys = pa.concat_arrays(
        [
            cookies,
            _prefixed("auth:", firsts.slice(0, n)),
            _prefixed("client:", pc.coalesce(*_client_tags(tags, n), *_cut(addresses, n))),
            _prefixed("idem:", firsts.slice(3 * n, n)),
        ]
    )
    owners = pc.if_else(
        pc.is_valid(keys), pa.concat_arrays([cookie_rows, every, every, every]), _NO_ROW
    )
    # Stable: a row's cookies, in order, then its auth, client and idem keys; then the
    # keys a row does not have (null), left out.
    order = pc.sort_indices(owners).slice(0, len(keys) - keys.null_count)
    owners = owners.take(order)
    # A row starts where its first key is, or else where the next row starts.
    starts = pc.index_in(every, value_set=owners)
    offsets = pc.fill_null_backward(pa.concat_arrays([starts, pa.array([len(owners)], pa.int32())]))
    return pa.ListArray.from_arrays(offsets, keys.take(order), type=KEYS)


def _whole(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _entries(column: pa.Array) -> tuple[pa.Array, pa.Array]:
    """A list column's entries and the row of each, as ``header_tuples`` and ``dict``
    read them: a slice's own rows, nothing from a null row."""
    if pa.types.is_map(column.type):
        # list_parent_indices aborts the process on a map (pyarrow 26); same layout.
        entry = pa.struct([column.type.key_field, column.type.item_field])
        column = column.view(pa.list_(entry))
    offsets = column.offsets
    start, end = offsets[0].as_py(), offsets[len(column)].as_py()
    entries = column.values.slice(start, end - start)
    rows = pc.list_parent_indices(column)
    if column.null_count:
        kept = pc.is_valid(column).take(rows)
        return rows.filter(kept), entries.filter(kept)
    return rows, entries


def _firsts(slot: pa.Array, rows: pa.Array, n: int, slots: int) -> pa.Array:
    """For slot s (0 to ``slots`` - 1) of row r, at s * n + r, the index of the row's
    first entry in that slot, null if it has none."""
    where = pc.add(pc.multiply(slot, pa.scalar(n, pa.int32())), rows)
    # index_in gives the first of equal values (Arrow maps repeats to their first index).
    return pc.index_in(_counting(slots * n), value_set=where)


def _cut(column: pa.Array, n: int) -> list[pa.Array]:
    return [column.slice(start, n) for start in range(0, len(column), n)]


def _client_tags(tags: pa.Array, n: int) -> list[pa.Array]:
    """Each CLIENT_TAGS value by row, null where empty (``keys_for`` skips a falsy one)."""
    rows, entries = _entries(tags)
    if not len(rows):
        return []
    slot = pc.index_in(entries.field("key"), value_set=_TAGS)
    if slot.null_count == len(slot):
        return []
    # dict() keeps the last of repeated keys: the first when the entries are reversed.
    last = pa.scalar(len(rows) - 1, pa.int32())
    back = pc.subtract(last, _counting(len(rows)))
    found = pc.subtract(last, _firsts(slot.take(back), rows.take(back), n, len(CLIENT_TAGS)))
    value = entries.field("value").take(found)
    return _cut(pc.if_else(pc.equal(value, _EMPTY), _NO_TEXT, value), n)


def _address(forwarded: pa.Array) -> pa.Array:
    """The first address a forwarding header lists."""
    first = pc.list_element(pc.split_pattern(forwarded, ",", max_splits=1), _ZERO)
    return pc.utf8_trim(first, WHITESPACE)


def _session_cookies(lines: pa.Array, rows: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The ``cookie:`` keys of these Cookie header values, in order, and their rows."""
    items = pc.split_pattern(lines, ";")
    item = pc.list_flatten(items)
    # Trimming first would not change which match (whitespace is neither "=" nor a letter).
    session = pc.match_substring_regex(pc.ascii_lower(item), _SESSION_ITEM)
    owners = rows.take(pc.list_parent_indices(items).filter(session))
    return _prefixed("cookie:", pc.utf8_trim(item.filter(session), WHITESPACE)), owners


def _prefixed(prefix: str, values: pa.Array) -> pa.Array:
    return pc.utf8_replace_slice(values, 0, 0, prefix)


def _counting(count: int) -> pa.Array:
    """0, 1, ..., count - 1 (a slice of one array, grown as needed)."""
    global _counted
    counted = _counted  # one reader thread per tape source: another may replace it
    if len(counted) < count:
        size = max(count, 2 * len(counted), 4096)
        counted = _counted = pc.cumulative_sum(pa.repeat(_ONE, size), start=_MINUS_ONE)
    return counted.slice(0, count)
