"""When a body streams (the headers decide) and what its Tap passes on and keeps."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy.test import tflow, tutils

from shadowtape.record.stream import Tap, plan, request_bodyless, response_bodyless

CAP, WIRE = 1000, 4000


def _response(**headers: str) -> object:
    f = tflow.tflow(resp=True)
    assert f.response is not None
    f.response.headers.clear()
    for name, value in headers.items():
        f.response.headers[name.replace("_", "-")] = value
    return f.response


@pytest.mark.parametrize(
    ("headers", "keep", "hold"),
    [
        ({"content_length": "1001"}, CAP, 0),
        ({"content_length": "5000", "content_encoding": "gzip"}, WIRE, 0),
        ({"content_type": "text/event-stream; charset=utf-8"}, CAP, 0),
        ({"transfer_encoding": "chunked", "content_type": "application/json"}, CAP, CAP),
        ({}, CAP, CAP),  # read until the connection closes
    ],
)
def test_large_and_unknown_length_bodies_get_a_tap(
    headers: dict[str, str], keep: int, hold: int
) -> None:
    response = _response(**headers)
    plan(response, CAP, WIRE)
    tap = response.stream  # type: ignore[attr-defined]
    assert isinstance(tap, Tap)
    assert (tap.keep, tap.hold) == (keep, hold)


@pytest.mark.parametrize("length", ["0", "1000", "not a number"])
def test_a_known_length_up_to_the_cap_keeps_mitmproxys_path(length: str) -> None:
    response = _response(content_length=length)
    plan(response, CAP, WIRE)
    assert response.stream is False  # type: ignore[attr-defined]


def test_bodyless_messages_and_other_addons_streams_are_left_alone() -> None:
    response = _response()
    plan(response, CAP, WIRE, bodyless=True)
    assert response.stream is False  # type: ignore[attr-defined]

    def theirs(chunk: bytes) -> bytes:
        return chunk

    response.stream = theirs  # type: ignore[attr-defined]
    plan(response, CAP, WIRE)
    assert response.stream is theirs  # type: ignore[attr-defined]
    response.stream = True  # type: ignore[attr-defined]
    plan(response, CAP, WIRE)  # mitmproxy's stream_large_bodies: a copy is kept all the same
    assert isinstance(response.stream, Tap)  # type: ignore[attr-defined]


def test_which_messages_have_no_body() -> None:
    get = tflow.tflow(req=tutils.treq(method=b"GET", content=b""), resp=True)
    get.request.headers.clear()
    assert request_bodyless(get.request)
    get.request.headers["transfer-encoding"] = "chunked"
    assert not request_bodyless(get.request)
    get.request.http_version = "HTTP/2.0"
    del get.request.headers["transfer-encoding"]
    assert not request_bodyless(get.request)
    assert get.response is not None
    for status, bodyless in ((200, False), (204, True), (304, True), (101, True)):
        get.response.status_code = status
        assert response_bodyless(get) is bodyless
    get.response.status_code = 200
    get.request.method = "HEAD"
    assert response_bodyless(get)


def test_a_passing_tap_sends_every_chunk_at_once_and_keeps_the_first_bytes() -> None:
    tap = Tap(keep=5)
    assert tap(b"abc") == b"abc"
    assert tap(b"defgh") == b"defgh"
    assert tap(b"") == b""
    assert (tap.body, tap.sent) == (b"abcde", 8)


def test_a_holding_tap_sends_a_short_body_in_one_piece_at_its_end() -> None:
    tap = Tap(keep=100, hold=10)
    assert tap(b"abc") == []
    assert tap(b"def") == []
    assert tap.sent == 0 and tap.body == b""  # nothing reached the other side yet
    assert tap(b"") == [b"abcdef"]
    assert (tap.body, tap.sent) == (b"abcdef", 6)


def test_a_holding_tap_streams_once_the_body_outgrows_the_hold() -> None:
    tap = Tap(keep=4, hold=5)
    assert tap(b"abc") == []
    assert tap(b"def") == [b"abc", b"def"]
    assert tap(b"gh") == b"gh"
    assert tap(b"") == b""
    assert (tap.body, tap.sent) == (b"abcd", 8)
