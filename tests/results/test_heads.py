"""Response heads: the Arrow reading (results thread) and the Python one (API) agree."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from shadowtape.results.heads import decode_head, encode_head, headers_column

NGINX = (
    b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 22 Nov 2026 10:00:00 GMT\r\n"
    b'Content-Type: application/json\r\nContent-Length: 2048\r\nETag: "6a-800"'
)

_TOKEN = st.text(alphabet="!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCXYZ", min_size=1)
_VALUE = st.binary(max_size=20).filter(lambda v: b"\r" not in v and b"\n" not in v)
_LINE = st.one_of(
    st.tuples(_TOKEN.map(str.encode), st.sampled_from([b":", b": ", b":\t", b":  "]), _VALUE).map(
        b"".join
    ),
    # An obsolete folded line, continuing the header before it.
    st.tuples(st.sampled_from([b" ", b"\t", b" \t"]), _VALUE.map(bytes.strip)).map(b"".join),
)


def _head(lines: list[bytes]) -> bytes:
    if lines and lines[0][:1] in (b" ", b"\t"):
        lines = [b"X-First: 1", *lines]  # a fold needs a line to continue
    return b"\r\n".join([b"HTTP/1.1 200 OK", *lines])


@given(st.lists(st.one_of(st.none(), st.lists(_LINE, max_size=6).map(_head)), max_size=8))
def test_the_arrow_column_reads_every_head_as_python_does(heads: list[bytes | None]) -> None:
    column = headers_column(pa.array(heads, pa.binary()))
    expected = [
        None if head is None else [{"name": n, "value": v} for n, v in decode_head(head)]
        for head in heads
    ]
    assert column.to_pylist() == expected


def test_values_lose_surrounding_space_and_keep_their_own() -> None:
    head = b"HTTP/1.1 200 OK\r\nA:  two  words \t\r\nB:\r\nC: x\r\n  continued"
    assert decode_head(head) == (("A", "two  words"), ("B", ""), ("C", "x continued"))
    assert headers_column(pa.array([head, None, b"HTTP/1.1 204 No Content"])).to_pylist() == [
        [
            {"name": "A", "value": "two  words"},
            {"name": "B", "value": ""},
            {"name": "C", "value": "x continued"},
        ],
        None,
        [],
    ]


def test_a_value_that_is_not_utf8_is_replaced_in_its_own_row_only() -> None:
    column = headers_column(pa.array([NGINX, b"HTTP/1.1 200 OK\r\nX: caf\xe9"] * 3))
    rows = column.to_pylist()
    assert rows[1] == [{"name": "X", "value": "caf\ufffd"}]
    assert rows[0] == rows[2] == [{"name": n, "value": v} for n, v in decode_head(NGINX)]


def test_a_head_made_from_strings_reads_back_the_same() -> None:
    headers = (("Content-Type", "text/plain"), ("X-Name", "Zoë"))
    head = encode_head(200, "OK", headers)
    assert decode_head(head) == headers
    assert headers_column(pa.array([head])).to_pylist()[0] == [
        {"name": n, "value": v} for n, v in headers
    ]
