"""Hypothesis strategies for open-ended shadowtape inputs, shared by the test modules."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hypothesis import strategies as st

from shadowtape import ErrorKind, Exchange, ExchangeError, Request, Response

# Header text as it can reach us: non-ASCII, empty, spaces; never surrogates (not UTF-8).
header_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
headers = st.lists(st.tuples(header_text, header_text), max_size=8).map(tuple)
# Repeats kept: a list that contains the same name more than once, in order.
repeated_headers = st.tuples(header_text, header_text, header_text).map(
    lambda t: ((t[0], t[1]), ("Other", "x"), (t[0], t[2]))
)
# A 100 KB body of random bytes, from a drawn seed: Hypothesis draws a long binary()
# byte by byte in Python (about 80 ms each), and these bytes are only there to be many.
big_body = st.integers(0, 2**64 - 1).map(lambda seed: random.Random(seed).randbytes(100_000))
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=64),
    big_body,
    st.text(max_size=200).map(str.encode),
)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    body = draw(bodies)
    return Request(
        method=draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])),
        scheme=draw(st.sampled_from(["http", "https"])),
        host=draw(st.sampled_from(["api.example.test", "127.0.0.1", "bücher.example"])),
        port=draw(st.integers(1, 65535)),
        path=draw(st.text(min_size=0, max_size=30).map(lambda p: "/" + p)),
        query=draw(st.text(max_size=30)),
        http_version=draw(st.sampled_from(["HTTP/1.1", "HTTP/2.0", "HTTP/1.0"])),
        headers=draw(st.one_of(headers, repeated_headers)),
        body=body,
        body_size=len(body) + draw(st.sampled_from([0, 0, 12345])),
        body_truncated=draw(st.booleans()),
    )


@st.composite
def responses(draw: st.DrawFn) -> Response:
    body = draw(bodies)
    return Response(
        status=draw(st.integers(100, 599)),
        reason=draw(header_text),
        http_version=draw(st.sampled_from(["HTTP/1.1", "HTTP/2.0"])),
        headers=draw(st.one_of(headers, repeated_headers)),
        body=body,
        body_size=len(body),
        body_truncated=draw(st.booleans()),
    )


@st.composite
def exchanges(draw: st.DrawFn) -> Exchange:
    response = draw(st.one_of(st.none(), responses()))
    error = None
    if response is None:
        error = ExchangeError(
            kind=draw(st.sampled_from(list(ErrorKind))), message=draw(header_text)
        )
    return Exchange(
        request=draw(requests()),
        response=response,
        error=error,
        recorded_at=draw(times),
        source=draw(st.sampled_from(["edge", "api-1", ""])),
        duration_us=draw(st.one_of(st.none(), st.integers(0, 10**10))),
        ttfb_us=draw(st.one_of(st.none(), st.integers(0, 10**10))),
        redactions=tuple(draw(st.lists(header_text, max_size=3))),
        tags=draw(st.dictionaries(header_text, header_text, max_size=3)),
    )
