"""A batch's skip reasons and request bytes, worked out in Arrow, equal what the Preparer
makes of each row's Job in Python (reference.py: the path the replayer used to run)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.replay.prepare.batchwire import skip_column, wire_column
from shadowtape.replay.rules.targets import Target
from shadowtape.tape.schema import SCHEMA
from tests.replay.reference import Preparer, jobs_from_batch

Headers = tuple[tuple[str, str], ...]


def _batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    """Rows of request columns (the rest null) in the tape schema."""
    base = {"id": "x", "recorded_at": 0, "method": "GET", "path": "/", "port": 80}
    full = [base | {"id": f"r{i}"} | row for i, row in enumerate(rows)]
    columns = [pa.array([row.get(f.name) for row in full], f.type) for f in SCHEMA]
    return pa.RecordBatch.from_arrays(columns, schema=SCHEMA)


def _reference(
    batch: pa.RecordBatch,
    target: Target,
    *,
    allow_mutating: bool,
    keep_host: bool,
    extra: Headers,
    traceparent: bool = False,
) -> tuple[list[str | None], list[bytes | None]]:
    prepare = Preparer(
        {"candidate": target},
        allow_mutating=allow_mutating,
        keep_host=keep_host,
        extra=extra,
        repeat_sample=0.0,
        traceparent=traceparent,
    )
    jobs = [prepare(job) for job in jobs_from_batch(batch)]
    wires = [job.wires["candidate"][1] if "candidate" in job.wires else None for job in jobs]
    return [job.skip for job in jobs], wires


def _both(
    batch: pa.RecordBatch,
    target: Target,
    *,
    allow_mutating: bool = False,
    keep_host: bool = False,
    extra: Headers = (),
    traceparent: bool = False,
) -> tuple[list[str | None], list[bytes | None]]:
    skip = skip_column(batch, allow_mutating=allow_mutating)
    wire = wire_column(
        batch, target, keep_host=keep_host, extra=extra, send=skip.is_null(),
        traceparent=traceparent,
    )  # fmt: skip
    skip.validate(full=True)
    wire.validate(full=True)
    assert wire.type == pa.large_binary()
    got = skip.to_pylist(), wire.to_pylist()
    assert got == _reference(
        batch, target, allow_mutating=allow_mutating, keep_host=keep_host, extra=extra,
        traceparent=traceparent,
    )  # fmt: skip
    return got


TARGET = Target("http", "candidate.test", 8080, "/v2")


def test_a_get_is_sent_to_the_target_with_its_headers_cleaned() -> None:
    batch = _batch(
        [
            {
                "path": "/items",
                "query": "a=1",
                "host": "api.prod.test",
                "request_headers": [
                    {"name": "Host", "value": "api.prod.test"},
                    {"name": "Connection", "value": "keep-alive"},
                    {"name": "Accept-Encoding", "value": "br, zstd"},
                    {"name": "X-Token", "value": "recorded"},
                    {"name": "Accept", "value": "*/*"},
                ],
            }
        ]
    )
    skip, wire = _both(batch, TARGET, extra=(("x-token", "mine"),))
    assert skip == [None]
    assert wire == [
        b"GET /v2/items?a=1 HTTP/1.1\r\nHost: candidate.test:8080\r\n"
        b"Accept-Encoding: br, zstd\r\nAccept: */*\r\nx-token: mine\r\n\r\n"
    ]


def test_a_post_carries_its_body_and_length_and_can_keep_its_host() -> None:
    batch = _batch([{"method": "POST", "host": "a.test", "port": 81, "request_body": b"{}"}])
    assert _both(batch, TARGET) == (["mutating"], [None])
    _, wire = _both(batch, TARGET, allow_mutating=True, keep_host=True)
    assert wire == [b"POST /v2/ HTTP/1.1\r\nHost: a.test:81\r\nContent-Length: 2\r\n\r\n{}"]


def test_the_recorded_traceparent_gives_way_to_a_placeholder_with_its_flags() -> None:
    recorded = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
    rows = [
        {"request_headers": [{"name": "traceparent", "value": recorded}]},
        {"request_headers": [{"name": "Traceparent", "value": "garbage"}]},
        {"request_headers": []},
    ]
    _, wires = _both(_batch(rows), TARGET, traceparent=True)
    zeros = "00-" + "0" * 32 + "-" + "0" * 16
    assert [w.split(b"\r\n")[1] if w else None for w in wires] == [
        f"traceparent: {zeros}-00".encode(),
        f"traceparent: {zeros}-01".encode(),
        f"traceparent: {zeros}-01".encode(),
    ]
    assert all(w is not None and w.count(b"raceparent") == 1 for w in wires)


def test_each_unsafe_row_gets_its_reason_and_no_bytes() -> None:
    batch = _batch(
        [
            {"method": "G3T"},
            {"method": "CONNECT", "path": "other:443"},
            {"path": "http://other.test/"},
            {"path": "/a b"},
            {"request_headers": [{"name": "X", "value": "a\r\nHost: evil"}]},
            {"method": "PUT", "request_body": b"ab", "request_body_size": 9,
             "request_body_truncated": True},
            {"method": "get", "path": None, "host": None, "port": None},
        ]
    )  # fmt: skip
    skip, wire = _both(batch, TARGET, allow_mutating=True)
    assert skip == [
        "malformed", "unsafe_host", "unsafe_host", "malformed", "malformed", "truncated_body",
        None,
    ]  # fmt: skip
    # As recorded, "get" is not a safe method name to the server: it gets a length.
    assert wire[:-1] == [None] * 6
    assert (
        wire[-1] == b"get /v2/ HTTP/1.1\r\nHost: candidate.test:8080\r\nContent-Length: 0\r\n\r\n"
    )


def test_a_slice_of_a_batch_reads_its_own_rows() -> None:
    batch = _batch(
        [{"path": f"/{i}", "request_headers": [{"name": "N", "value": str(i)}]} for i in range(5)]
    )
    _, wire = _both(batch.slice(2, 2), Target("https", "c.test", 443), extra=(("Host", "h"),))
    assert wire == [b"GET /%d HTTP/1.1\r\nHost: h\r\nN: %d\r\n\r\n" % (i, i) for i in (2, 3)]


def test_rows_not_to_send_and_headers_under_a_null_list_are_left_out() -> None:
    entries = pa.array([{"name": "X-Gone", "value": "1"}, {"name": "X-Here", "value": "2"}])
    headers = pa.ListArray.from_arrays(
        pa.array([0, 1, 2], pa.int32()), entries, mask=pa.array([True, False])
    )  # Arrow lets a null list cover entries: the first row's X-Gone
    batch = _batch([{}, {}])
    batch = batch.set_column(SCHEMA.get_field_index("request_headers"), "request_headers", headers)
    assert skip_column(batch, allow_mutating=False).to_pylist() == [None, None]
    send = pa.array([True, True])
    wire = wire_column(batch, Target("http", "t", 80), keep_host=False, extra=(), send=send)
    assert wire.to_pylist() == [
        b"GET / HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nX-Here: 2\r\n\r\n",
    ]
    for send in (pa.array([False, None]), pa.array([None, False])):
        wire = wire_column(batch, Target("http", "t", 80), keep_host=False, extra=(), send=send)
        assert wire.to_pylist() == [None, None]


# Hypothesis: batches with every awkward value the columns can hold. Most rows draw their
# text from safe characters, so that many are sent, headers and all; of those, some get
# one odd character in one place, to find the one check that catches it.

_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",))
_ODD = st.sampled_from([" ", "\t", "\r", "\n", "\x00", "\x7f", "?", "/", "\u212a", "\u0130"])
_odd_text = st.text(st.one_of(_CHARS, _ODD), max_size=8)
_clean_text = st.text(st.sampled_from("aZ09-_.:=%/\u00e9\u212a\u0130"), max_size=8)
_one_odd = st.tuples(_clean_text, _ODD, _clean_text).map("".join)
_METHODS = ["GET", "get", "Get", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "CONNECT",
            "connect", "G3T", "GE T", "G\u00c9T", "OPTION\u017f", "", None]  # fmt: skip
_NAMES = ["Host", "HOST", "host", "Connection", "KEEP-ALIVE", "Transfer-Encoding",
          "content-length", "Te", "Accept-Encoding", "accept-encoding", "X-Token", "x-token",
          "Cookie", "\u212aeep-alive", "Proxy-Author\u0130zation", "traceparent",
          "TraceParent"]  # fmt: skip
_VALUES = ["", "h.test", "a.test:81", "gzip, br",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
           "00-00000000000000000000000000000000-00f067aa0ba902b7-00",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-00",
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-00",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x"]  # fmt: skip


def _row_of(text: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A row whose free text is drawn from ``text``."""
    header = st.fixed_dictionaries(
        {
            "name": st.one_of(st.sampled_from(_NAMES), text),
            "value": st.one_of(st.sampled_from(_VALUES), text),
        }
    )
    path = st.one_of(st.sampled_from(["", "/", "/a", "a", "*"]), text.map("/".__add__))
    return st.fixed_dictionaries(
        {
            "method": st.one_of(st.sampled_from(["GET", "HEAD"]), st.sampled_from(_METHODS)),
            "scheme": st.sampled_from(["http", "https", "", None]),
            "host": st.one_of(st.none(), st.sampled_from(["api.test", ""]), text),
            "port": st.sampled_from([80, 443, 0, 8080, -1, None]),
            "path": st.one_of(st.none(), path),
            "query": st.one_of(st.none(), st.sampled_from(["", "a=1"]), text),
            "request_headers": st.one_of(st.none(), st.lists(header, max_size=8)),
            "request_body": st.one_of(st.none(), st.binary(max_size=12)),
            "request_body_size": st.one_of(st.none(), st.integers(0, 20)),
            "request_body_truncated": st.one_of(st.none(), st.booleans()),
        }
    )


# Built once: a strategy made inside each draw costs Hypothesis more than the test itself.
_CLEAN_ROW, _ODD_ROW = _row_of(_clean_text), _row_of(_odd_text)


@st.composite
def _row(draw: st.DrawFn) -> dict[str, Any]:
    row = draw(draw(st.sampled_from([_CLEAN_ROW, _CLEAN_ROW, _ODD_ROW])))
    where = draw(st.sampled_from(["nowhere", "path", "query", "host", "name", "value"]))
    if where in ("path", "query"):
        row[where] = "/" + draw(_one_odd)
    elif where == "host":
        row[where] = draw(_one_odd)
    elif where != "nowhere":
        headers = row["request_headers"] = row["request_headers"] or [{"name": "A", "value": ""}]
        headers[draw(st.integers(0, len(headers) - 1))][where] = draw(_one_odd)
    return row


_targets = st.builds(
    Target,
    scheme=st.sampled_from(["http", "https"]),
    host=st.sampled_from(["candidate.test", "::1"]),
    port=st.sampled_from([80, 443, 8443]),
    prefix=st.sampled_from(["", "/v2", "/a b"]),
)
_extra = st.lists(
    st.tuples(
        st.sampled_from(
            ["Host", "HOST", "X-Token", "accept-encoding", "Connection", "X-New", "Traceparent"]
        ),
        st.sampled_from(["v", "h.example", "\u00e9"]),
    ),
    max_size=3,
).map(tuple)


@st.composite
def _batches(draw: st.DrawFn) -> pa.RecordBatch:
    batch = _batch(draw(st.lists(_row(), min_size=1, max_size=12)))
    if draw(st.booleans()):
        return batch
    start = draw(st.integers(0, batch.num_rows))
    return batch.slice(start, draw(st.integers(0, batch.num_rows - start)))


@settings(max_examples=300, deadline=None)
@given(_batches(), _targets, st.booleans(), st.booleans(), _extra, st.booleans())
def test_batch_columns_equal_what_the_preparer_makes_of_each_job(
    batch: pa.RecordBatch,
    target: Target,
    allow_mutating: bool,
    keep_host: bool,
    extra: Headers,
    traceparent: bool,
) -> None:
    _both(
        batch, target, allow_mutating=allow_mutating, keep_host=keep_host, extra=extra,
        traceparent=traceparent,
    )  # fmt: skip
