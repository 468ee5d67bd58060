"""keys_column gives, row by row, the keys ``keys_for`` gives the same request: the same
keys in the same order, for any headers and tags a tape may hold."""

from __future__ import annotations

import re
import sys

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.replay.prepare.batchkeys import KEYS, WHITESPACE, keys_column
from shadowtape.replay.rules.ordering import CLIENT_TAGS, SESSION_COOKIE
from shadowtape.tape.schema import HEADERS, SCHEMA, header_tuples
from tests.replay.reference import keys_for

TAGS = SCHEMA.field("tags").type
Headers = list[tuple[str, str]] | None
Tags = list[tuple[str, str | None]] | None


def _columns(headers: list[Headers], tags: list[Tags]) -> tuple[pa.Array, pa.Array]:
    """The rows as the tape's request_headers and tags columns."""
    return (
        pa.array(
            [None if h is None else [{"name": n, "value": v} for n, v in h] for h in headers],
            HEADERS,
        ),
        pa.array(tags, TAGS),
    )


def _reference(headers: pa.Array, tags: pa.Array) -> list[list[str]]:
    """``keys_for`` on each row, read from the columns as the replayer reads them."""
    rows = header_tuples(headers)
    tag_dicts = [dict(items) if items else {} for items in tags.to_pylist()]
    return [keys_for(h, t) for h, t in zip(rows, tag_dicts, strict=True)]


def _keys(headers: list[Headers], tags: list[Tags] | None = None) -> list[list[str]]:
    """keys_column of the rows, checked against keys_for."""
    header_column, tag_column = _columns(headers, tags or [None] * len(headers))
    got = keys_column(header_column, tag_column)
    assert got.type == KEYS and got.null_count == 0
    assert got.to_pylist() == _reference(header_column, tag_column)
    return list(got.to_pylist())


def _cased(name: str) -> st.SearchStrategy[str]:
    """``name`` with each letter in either case: one drawn bit mask, not a draw a letter."""

    def apply(mask: int) -> str:
        return "".join(c.upper() if mask >> i & 1 else c.lower() for i, c in enumerate(name))

    return st.integers(0, 2 ** len(name) - 1).map(apply)


_WANTED = ("cookie", "authorization", "x-forwarded-for", "x-real-ip", "idempotency-key")
_CASED = {name: _cased(name) for name in _WANTED}  # built once, not at every draw
_names = st.one_of(
    _cased("cookie"),
    st.sampled_from(_WANTED).flatmap(_CASED.__getitem__),
    st.sampled_from(["Coo\u212aie", "Author\u0130zation", "x-real-ip ", "cookie2", "Set-Cookie"]),
    st.text(max_size=6),
)
# Pieces that make cookie lines, address lists and session-looking names, with the
# whitespace and case look-alikes where Unicode and ASCII rules part.
_PIECES = ";|=|,| |\t|sid|SESS|token|uSer|login|Auth|\u017fid|log\u0130n|toKen|10.0.0.1|\u00e9"
_piece = st.one_of(
    st.sampled_from([*_PIECES.split("|"), "\u3000", "\x85", "\x1c", "\n", "\xa0"]),
    st.text(max_size=3),
)
_values = st.lists(_piece, max_size=8).map("".join)
_space = st.sampled_from(["", " ", "\t", " \t ", "\u3000", "\x85", "\n"])
_cookie = st.tuples(
    _space,
    st.lists(
        st.one_of(st.sampled_from(["sid", "SeSS", "\u017fid", "x", "", "token"]), _piece),
        max_size=3,
    ),
    st.sampled_from(["=", "", "=="]),
    _values,
    _space,
).map(lambda p: p[0] + "".join(p[1]) + p[2] + p[3] + p[4])
_cookie_line = st.lists(_cookie, max_size=5).map(";".join)
_headers: st.SearchStrategy[Headers] = st.one_of(
    st.none(), st.lists(st.tuples(_names, st.one_of(_values, _cookie_line)), max_size=8)
)
# Lists, not dicts: a map column may repeat a key (dict() keeps the last).
_tags: st.SearchStrategy[Tags] = st.one_of(
    st.none(),
    st.lists(
        st.tuples(
            st.one_of(st.sampled_from(CLIENT_TAGS), st.text(max_size=4)),
            st.one_of(st.none(), st.just(""), _values),
        ),
        max_size=5,
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_headers, _tags), max_size=30), st.data())
def test_keys_column_equals_keys_for_row_by_row(
    rows: list[tuple[Headers, Tags]], data: st.DataObject
) -> None:
    headers, tags = _columns([h for h, _ in rows], [t for _, t in rows])
    start = data.draw(st.integers(0, len(rows)))
    stop = data.draw(st.integers(start, len(rows)))
    headers, tags = headers.slice(start, stop - start), tags.slice(start, stop - start)
    got = keys_column(headers, tags)
    got.validate(full=True)
    assert got.type == KEYS and got.null_count == 0
    expected = _reference(headers, tags)
    assert got.to_pylist() == expected
    # The same from a column read in pieces.
    cut = data.draw(st.integers(0, len(headers)))
    chunked = [pa.chunked_array([c.slice(0, cut), c.slice(cut)]) for c in (headers, tags)]
    assert keys_column(*chunked).to_pylist() == expected


def test_a_session_cookie_among_others() -> None:
    line = "theme=dark; SessionId=abc;lang=en ;  csrftoken=t1"
    assert _keys([[("Cookie", line)]]) == [["cookie:SessionId=abc", "cookie:csrftoken=t1"]]


def test_credentials_then_idempotency_key_the_first_of_each() -> None:
    headers = [
        ("Idempotency-Key", "k1"),
        ("authorization", "Bearer a"),
        ("AUTHORIZATION", "Bearer b"),
        ("idempotency-key", "k2"),
    ]
    assert _keys([headers]) == [["auth:Bearer a", "idem:k1"]]


def test_a_client_tag_beats_the_forwarded_address_and_an_empty_one_does_not() -> None:
    forwarded = [("X-Forwarded-For", " 10.1.2.3 , 10.0.0.1"), ("X-Real-IP", "10.9.9.9")]
    tags: list[Tags] = [[("peer", "p1"), ("client_ip", "10.0.0.7")], [("client", "")], None]
    assert _keys([forwarded] * 3, tags) == [
        ["client:10.0.0.7"],  # client_ip comes before peer in CLIENT_TAGS
        ["client:10.1.2.3"],
        ["client:10.1.2.3"],
    ]


def test_null_rows_and_a_slice_have_their_own_keys() -> None:
    headers, tags = _columns(
        [[("Cookie", "sid=1")], None, [("Cookie", "sid=3")]], [None, [("client", "c2")], None]
    )
    expected = [["cookie:sid=1"], ["client:c2"], ["cookie:sid=3"]]
    assert keys_column(headers, tags).to_pylist() == expected
    assert keys_column(headers.slice(1), tags.slice(1)).to_pylist() == expected[1:]
    assert keys_column(headers.slice(3), tags.slice(3)).to_pylist() == []


def test_look_alikes_of_ascii_names_are_not_them() -> None:
    # In Unicode rules the Kelvin sign lower-cases to "k", long s folds to "s", and Arrow
    # lower-cases dotted capital I to "i".
    headers = [
        ("Coo\u212aie", "sid=1"),
        ("Author\u0130zation", "x"),
        ("Cookie", "\u017fid=2; log\u0130n=3"),
    ]
    assert _keys([headers]) == [[]]
    assert SESSION_COOKIE.search("ToKeN")
    # batchkeys hands the pattern to RE2 on lower-cased names: plain lower-case words.
    assert re.fullmatch(r"[a-z]+(\|[a-z]+)*", SESSION_COOKIE.pattern)


def test_whitespace_is_what_str_strip_strips() -> None:
    stripped = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert stripped == WHITESPACE
    line = "\u3000sid=1\x85;\x1csess=2 \t"
    assert _keys([[("Cookie", line)]]) == [["cookie:sid=1", "cookie:sess=2"]]


def test_a_null_row_has_no_headers_whatever_its_offsets_span() -> None:
    # Arrow allows a null list row to span entries; pa.array never writes one.
    pairs = [{"name": "Cookie", "value": f"sid={i}"} for i in (1, 2, 3)]
    headers = pa.ListArray.from_arrays(
        pa.array([0, 1, 2, 3], pa.int32()),
        pa.array(pairs, HEADERS.value_type),
        type=HEADERS,
        mask=pa.array([False, True, False]),
    )
    tags = pa.array([None] * 3, TAGS)
    assert keys_column(headers, tags).to_pylist() == [["cookie:sid=1"], [], ["cookie:sid=3"]]
