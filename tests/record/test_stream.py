"""When a body streams (the headers decide) and what its Tap passes on and keeps."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy import http
    from mitmproxy.test import tflow, tutils

from shadowtape.record.stream import Tap, plan_request, plan_response

CAP, WIRE = 1000, 4000


def _flow(**headers: str) -> http.HTTPFlow:
    f = tflow.tflow(resp=True)
    assert f.response is not None
    f.response.headers.clear()
    for name, value in headers.items():
        f.response.headers[name.replace("_", "-")] = value
    return f


def _tap(message: http.Message) -> Tap:
    assert isinstance(message.stream, Tap)
    return message.stream


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
    f = _flow(**headers)
    plan_response(f, CAP, WIRE)
    assert f.response is not None
    tap = _tap(f.response)
    assert (tap.keep, tap.hold) == (keep, hold)


@pytest.mark.parametrize("length", ["0", "1000", "not a number"])
def test_a_known_length_up_to_the_cap_keeps_mitmproxys_path(length: str) -> None:
    f = _flow(content_length=length)
    plan_response(f, CAP, WIRE)
    assert f.response is not None and f.response.stream is False


@pytest.mark.parametrize("status", [101, 204, 304])
def test_responses_without_a_body_are_left_alone(status: int) -> None:
    f = _flow(content_length="5000")
    assert f.response is not None
    f.response.status_code = status
    plan_response(f, CAP, WIRE)
    assert f.response.stream is False
    f.response.status_code = 200
    f.request.method = "HEAD"
    plan_response(f, CAP, WIRE)
    assert f.response.stream is False


def test_other_addons_streams_are_left_alone_and_mitmproxys_gets_a_copy() -> None:
    f = _flow()
    assert f.response is not None

    def theirs(chunk: bytes) -> bytes:
        return chunk

    f.response.stream = theirs
    plan_response(f, CAP, WIRE)
    assert f.response.stream is theirs
    f.response.stream = True  # mitmproxy's stream_large_bodies
    plan_response(f, CAP, WIRE)
    assert _tap(f.response).hold == 0


def test_a_request_streams_when_its_headers_frame_a_large_or_unknown_body() -> None:
    f = tflow.tflow(req=tutils.treq(method=b"POST", content=b""))
    f.request.headers.clear()
    plan_request(f.request, CAP, WIRE)
    assert f.request.stream is False  # HTTP/1 without framing headers: no body
    f.request.headers["content-length"] = "1001"
    plan_request(f.request, CAP, WIRE)
    assert _tap(f.request).hold == 0
    f.request.stream = False
    del f.request.headers["content-length"]
    f.request.headers["transfer-encoding"] = "chunked"
    plan_request(f.request, CAP, WIRE)
    assert _tap(f.request).hold == CAP
    f.request.stream = False
    del f.request.headers["transfer-encoding"]
    f.request.http_version = "HTTP/2.0"  # the body's end is a frame flag, not a header
    plan_request(f.request, CAP, WIRE)
    assert _tap(f.request).hold == CAP


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
