"""Skip reasons and request bytes for a whole record batch, in Arrow, on the reader thread.

They equal, byte for byte, what the per-request rules make of each row
(tests/replay/reference.py: ``skip_reason_of``, ``wire_headers``, ``serialize``);
tests/replay/prepare/test_batchwire.py holds them to it. The event loop never makes a
Python object per header, and each kernel lets go of the GIL. The characters safety
refuses are looked for in a column's bytes at once; only a column that holds one is
searched string by string (string-by-string kernels cost tens of ns a string).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from shadowtape.replay.rules import tracing
from shadowtape.replay.rules.safety import SAFE_METHODS, SkipReason
from shadowtape.replay.rules.targets import HOP_HEADERS, Target, ascii_lower

_STR = pa.string()
_BYTES = pa.large_binary()
_I32 = pa.int32()


# Arrow scalars throughout: a Python int given to a compute function costs a failed
# import of dateutil each time (see shadowtape.results.heads).
def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, _STR)


def _i(number: int) -> pa.Scalar:
    return pa.scalar(number, _I32)


_EMPTY, _SLASH, _HTTP, _NO_STR = _s(""), _s("/"), _s("http"), pa.scalar(None, _STR)
_FALSE = pa.scalar(False)
_ZERO, _ZERO64, _DEL = _i(0), pa.scalar(0, pa.int64()), pa.scalar(0x7F, pa.uint8())
_NO_BYTES = pa.scalar(b"", _BYTES)
_SAFE = pa.array(sorted(SAFE_METHODS), _STR)
_DEFAULT_HTTP_PORTS = pa.array([0, 80], _I32)
#: What skip_reason_of refuses in the path, the query, the host and a header name (all below "!"
#: but DEL), and in a header value (all below 14).
_BAD, _BAD_VALUE = r"[ \t\r\n\x00\x7f]", r"[\r\n\x00]"


def skip_column(batch: pa.RecordBatch, *, allow_mutating: bool) -> pa.Array:
    """string array: null where the row may be sent, else the SkipReason value"""
    method = pc.fill_null(batch.column("method"), _EMPTY)
    upper = pc.ascii_upper(method)
    path = _or(batch.column("path"), _SLASH)
    headers = _headers(batch)
    names, values = _names_values(headers)
    bad_header = _either(
        _matching(names, _BAD, 0x21, dels=True), _matching(values, _BAD_VALUE, 14, dels=False)
    )
    malformed = _either(
        _matching(path, _BAD, 0x21, dels=True),
        _matching(pc.fill_null(batch.column("query"), _EMPTY), _BAD, 0x21, dels=True),
    )
    malformed = _either(
        malformed, _matching(pc.fill_null(batch.column("host"), _EMPTY), _BAD, 0x21, dels=True)
    )
    if bad_header is not None:
        malformed = _either(malformed, _any_per_row(headers, bad_header))
    body_size = pc.fill_null(pc.binary_length(batch.column("request_body")), _ZERO)
    # In skip_reason_of's order: the first that holds is the reason.
    checks = [(pc.invert(pc.ascii_is_alpha(method)), SkipReason.MALFORMED)]
    if not allow_mutating:
        checks.append((pc.invert(pc.is_in(upper, value_set=_SAFE)), SkipReason.MUTATING))
    unsafe_host = pc.or_(pc.equal(upper, _s("CONNECT")), pc.invert(pc.starts_with(path, "/")))
    checks.append((unsafe_host, SkipReason.UNSAFE_HOST))
    if malformed is not None:
        checks.append((malformed, SkipReason.MALFORMED))
    truncated = pc.and_(
        pc.fill_null(batch.column("request_body_truncated"), _FALSE),
        pc.greater(pc.fill_null(batch.column("request_body_size"), _ZERO64), body_size),
    )
    checks.append((truncated, SkipReason.TRUNCATED_BODY))
    fields = [str(i) for i in range(len(checks))]
    conditions = pc.make_struct(*(c for c, _ in checks), field_names=fields)
    return pc.case_when(conditions, *(_s(r.value) for _, r in checks))


def wire_column(
    batch: pa.RecordBatch,
    target: Target,
    *,
    keep_host: bool,
    extra: tuple[tuple[str, str], ...],
    send: pa.BooleanArray,
    traceparent: bool = False,
) -> pa.LargeBinaryArray:
    """null where send is false; else the exact request bytes for that target (with
    ``traceparent``, a placeholder traceparent first, tracing.py)"""
    # A null method makes its row's head null, and then its bytes: rows not sent cost
    # no copy of their body.
    method = pc.if_else(send, pc.fill_null(batch.column("method"), _EMPTY), _NO_STR)
    query = pc.fill_null(batch.column("query"), _EMPTY)
    has_query = pc.not_equal(query, _EMPTY)
    body = batch.column("request_body").cast(_BYTES)
    size = pc.fill_null(pc.binary_length(body), _ZERO64)
    with_length = pc.or_(pc.greater(size, _ZERO64), pc.invert(pc.is_in(method, _SAFE)))

    headers = _headers(batch)
    names, values = _names_values(headers)
    lower = pc.ascii_lower(names)
    dropped_names = HOP_HEADERS | {ascii_lower(name) for name, _ in extra}
    trace: pa.Scalar | pa.Array = _EMPTY
    if traceparent and tracing.HEADER not in dropped_names:  # a user's traceparent wins
        dropped_names |= {tracing.HEADER}
        trace = _trace_line(headers, pc.equal(lower, _s(tracing.HEADER)), values)
    dropped = pa.array(sorted(dropped_names), _STR)
    kept = pc.invert(pc.is_in(lower, value_set=dropped))
    lines = pc.binary_join_element_wise(names.filter(kept), values.filter(kept), _s(": "))
    rows = pa.ListArray.from_arrays(_per_row(headers, _running_count(kept)), lines)
    recorded = pc.binary_join(rows, _s("\r\n"))

    host: pa.Scalar | pa.Array = _s(target.netloc)
    if keep_host:
        host = _recorded_host(batch, headers, pc.equal(lower, _s("host")), values)
    extra_lines = ""
    for name, value in extra:
        if ascii_lower(name) == "host":
            host = _s(value)
        else:
            extra_lines += f"\r\n{name}: {value}"
    head = pc.binary_join_element_wise(
        method, _s(" " + target.prefix), _or(batch.column("path"), _SLASH),
        pc.if_else(has_query, _s("?"), _EMPTY), query,
        _s(" HTTP/1.1"), trace, _s("\r\nHost: "), host,
        pc.if_else(pc.greater(pc.list_value_length(rows), _ZERO), _s("\r\n"), _EMPTY), recorded,
        _s(extra_lines),
        pc.if_else(with_length, _s("\r\nContent-Length: "), _EMPTY),
        pc.if_else(with_length, size.cast(_STR), _EMPTY),
        _s("\r\n\r\n"), _EMPTY,
    )  # fmt: skip
    return pc.binary_join_element_wise(head.cast(_BYTES), pc.fill_null(body, _NO_BYTES), _NO_BYTES)


def _or(column: pa.Array, default: pa.Scalar | pa.Array) -> pa.Array:
    """``value or default``, as a row's Python value is read: an empty path is "/"."""
    column = pc.fill_null(column, default)
    return pc.if_else(pc.equal(column, _EMPTY), default, column)


def _either(a: pa.Array | None, b: pa.Array | None) -> pa.Array | None:
    """``a or b``, where None is all false (and skips the work)."""
    if a is None or b is None:
        return a if b is None else b
    return pc.or_(a, b)


def _headers(batch: pa.RecordBatch) -> pa.ListArray:
    """The request headers, a null list read as an empty one: Arrow lets a null list
    cover entries, which would then be counted to the wrong row."""
    headers: pa.ListArray = batch.column("request_headers")
    if headers.null_count:
        headers = pc.if_else(pc.is_null(headers), pa.scalar([], headers.type), headers)
    return headers


def _names_values(headers: pa.ListArray) -> tuple[pa.Array, pa.Array]:
    """Every header's name and value, row after row (null as empty: no row has one)."""
    entries = headers.flatten()
    return (
        pc.fill_null(entries.field("name"), _EMPTY),
        pc.fill_null(entries.field("value"), _EMPTY),
    )


def _matching(strings: pa.Array, pattern: str, lowest: int, *, dels: bool) -> pa.Array | None:
    """Which strings hold a character of ``pattern``, or None when none does. Every
    such character is below ``lowest`` (or is DEL, if ``dels``): when no byte of the
    column is, a pass over its bytes says so, ten times faster than a regex a string."""
    if len(strings) == 0:
        return None
    offsets = pa.Array.from_buffers(
        _I32, len(strings) + 1, [None, strings.buffers()[1]], offset=strings.offset
    )
    start, end = offsets[0].as_py(), offsets[len(strings)].as_py()
    if start == end:
        return None
    data = pa.Array.from_buffers(pa.uint8(), end - start, [None, strings.buffers()[2]], 0, start)
    least, most = pc.min_max(data).as_py().values()
    if least >= lowest and (not dels or most < 0x7F or not pc.any(pc.equal(data, _DEL)).as_py()):
        return None
    return pc.match_substring_regex(strings, pattern)


def _running_count(mask: pa.Array) -> pa.Array:
    """How many entries before each hold in ``mask``, and in all."""
    return pa.concat_arrays([pa.array([0], _I32), pc.cumulative_sum(mask.cast(_I32))])


def _per_row(headers: pa.ListArray, counts: pa.Array) -> pa.Array:
    """``counts`` at each row's first entry, and after the last: as offsets, the rows
    of the entries counted."""
    offsets = headers.offsets
    return pc.take(counts, pc.subtract(offsets, offsets[0]))


def _before_after(headers: pa.ListArray, mask: pa.Array) -> tuple[pa.Array, pa.Array]:
    """For each row, how many entries before it hold in ``mask``, and up to its end."""
    bounds = _per_row(headers, _running_count(mask))
    return bounds.slice(0, len(headers)), bounds.slice(1)


def _any_per_row(headers: pa.ListArray, mask: pa.Array) -> pa.Array:
    """Whether any of each row's entries holds in ``mask``."""
    before, after = _before_after(headers, mask)
    return pc.greater(after, before)


_TRACE_PREFIX = _s(f"\r\n{tracing.HEADER}: " + tracing.placeholder(""))
_DEFAULT_FLAGS = _s(tracing.DEFAULT_FLAGS)


def _trace_line(headers: pa.ListArray, is_trace: pa.Array, values: pa.Array) -> pa.Array:
    """For each row, the placeholder traceparent line (tracing.py), with the flags of its
    first recorded traceparent when that is valid (``tracing.flags_of``), else 01."""
    before, after = _before_after(headers, is_trace)
    nth = pc.if_else(pc.greater(after, before), before, pa.scalar(None, _I32))
    first = pc.take(values, pc.take(pc.indices_nonzero(is_trace), nth))
    valid = pc.and_not(
        pc.match_substring_regex(first, tracing.VALID),
        pc.or_(
            pc.starts_with(first, "ff"),
            pc.or_(
                pc.match_substring(first, f"-{tracing.ZERO_TRACE}-"),
                pc.match_substring(first, f"-{tracing.ZERO_SPAN}-"),
            ),
        ),
    )
    flags = pc.if_else(
        pc.fill_null(valid, _FALSE), pc.utf8_slice_codeunits(first, -2), _DEFAULT_FLAGS
    )
    return pc.binary_join_element_wise(_TRACE_PREFIX, flags, _EMPTY)


def _recorded_host(
    batch: pa.RecordBatch, headers: pa.ListArray, is_host: pa.Array, values: pa.Array
) -> pa.Array:
    """``recorded_host`` for each row: its first Host header if not empty, else the
    recorded host, with the port unless it is the scheme's default."""
    before, after = _before_after(headers, is_host)
    # A row's first Host header is Host header number ``before`` of them all.
    nth = pc.if_else(pc.greater(after, before), before, pa.scalar(None, _I32))
    first = pc.take(values, pc.take(pc.indices_nonzero(is_host), nth))
    scheme = _or(batch.column("scheme"), _HTTP)
    host = pc.fill_null(batch.column("host"), _EMPTY)
    port = pc.fill_null(batch.column("port"), _ZERO)
    http = pc.and_(pc.equal(scheme, _HTTP), pc.is_in(port, value_set=_DEFAULT_HTTP_PORTS))
    https = pc.and_(pc.equal(scheme, _s("https")), pc.equal(port, _i(443)))
    named = pc.if_else(
        pc.or_(http, https), host, pc.binary_join_element_wise(host, port.cast(_STR), _s(":"))
    )
    return _or(first, named)
