"""Flow to Exchange: mitmproxy's test flows through capture (the hook) and to_exchange
(the worker), and the same flow imported from a dump written by mitmproxy's FlowWriter."""

from __future__ import annotations

import gzip
import os
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
import zstandard

with warnings.catch_warnings():
    # mitmproxy 12.2's flowfilter still calls pyparsing's deprecated camelCase API on import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy import flow, http
    from mitmproxy.io import FlowWriter
    from mitmproxy.test import tflow

from shadowtape.exchange import ErrorKind, Exchange
from shadowtape.importers import read_mitm
from shadowtape.record.capture import (
    ERROR_KINDS,
    capture,
    decode_body,
    error_kind,
    to_exchange,
)
from shadowtape.record.stream import Tap
from shadowtape.sanitize import Sanitizer
from tests.bombs import bombs
from tests.record.support import make_flow


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_bodies_are_stored_decoded_with_their_content_encoding_header_kept(
    encoding: str,
) -> None:
    body = b'{"items": [' + b'{"id": 1}, ' * 200 + b"{}]}"
    f = make_flow(body=body, encoding=encoding)
    assert f.response is not None and f.response.raw_content != body
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.response is not None
    assert ex.response.body == body
    assert ex.response.body_size == len(body)
    assert ex.response.header("content-encoding") == encoding


def test_a_body_longer_than_max_body_is_cut_and_flagged_with_its_full_size() -> None:
    body = b"x" * 5000
    f = make_flow(body=body, encoding="gzip")
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1000)
    assert ex.response is not None
    assert ex.response.body == b"x" * 1000
    assert ex.response.body_truncated
    assert ex.response.body_size == 5000


def test_a_huge_compressed_body_cut_in_the_hook_still_decodes_its_prefix() -> None:
    body = os.urandom(300_000).hex().encode()  # 600 KB of text, compressible
    f = make_flow(body=body, encoding="gzip")
    assert f.response is not None
    raw_size = len(f.response.raw_content or b"")
    captured = capture(f, raw_cap=50_000)
    assert captured.response_raw is not None and len(captured.response_raw) == 50_000
    ex = to_exchange(captured, source="s", max_body=20_000)
    assert ex.response is not None
    assert ex.response.body == body[:20_000]
    assert ex.response.body_truncated
    assert ex.response.body_size >= raw_size


@pytest.mark.parametrize(
    ("encode", "name"),
    [
        (gzip.compress, "gzip"),
        (zlib.compress, "deflate"),
        (brotli.compress, "br"),
        (zstandard.ZstdCompressor().compress, "zstd"),
    ],
)
def test_decode_body_handles_every_encoding(encode: Callable[[bytes], bytes], name: str) -> None:
    assert decode_body(encode(b"hello"), 5, ((b"Content-Encoding", name.encode()),), 10) == (
        b"hello",
        5,
        False,
    )


def test_a_body_that_does_not_decode_is_dropped_never_kept_raw() -> None:
    # It used to be kept as it came: a password in it reached the tape still compressed.
    dropped: list[str] = []
    fields = ((b"content-encoding", b"gzip"),)
    assert decode_body(b"not gzip", 8, fields, 100, dropped=dropped.append) == (b"", 8, True)
    assert dropped == ["not decodable as gzip"]


@pytest.mark.parametrize(
    ("encoded", "header"),
    [
        (gzip.compress(b"password=hunter2", mtime=0), "x-gzip"),
        (gzip.compress(gzip.compress(b"password=hunter2", mtime=0), mtime=0), "gzip, gzip"),
        (gzip.compress(b"password=", mtime=0) + gzip.compress(b"hunter2", mtime=0), "gzip"),
        (zlib.compress(b"password=hunter2"), "deflate"),
        (zlib.compress(b"password=hunter2")[2:-4], "deflate"),
        (brotli.compress(gzip.compress(b"password=hunter2", mtime=0)), "gzip, br"),
        (zstandard.ZstdCompressor().compress(b"password=hunter2"), "zstd"),
        (b"password=hunter2", "identity"),
    ],
)
def test_decode_body_undoes_aliases_stacks_members_and_raw_deflate(
    encoded: bytes, header: str
) -> None:
    fields = ((b"Content-Encoding", header.encode()),)
    assert decode_body(encoded, len(encoded), fields, 100) == (b"password=hunter2", 16, False)


def test_an_unknown_coding_is_dropped() -> None:
    dropped: list[str] = []
    fields = ((b"Content-Encoding", b"compress"),)
    assert decode_body(b"password=x", 10, fields, 100, dropped=dropped.append)[0] == b""
    assert dropped == ["not decodable as compress"]


def test_a_streamed_body_is_recorded_empty_and_truncated() -> None:
    f = make_flow()
    assert f.response is not None
    f.response.stream = True
    f.response.raw_content = None
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.response is not None
    assert ex.response.body == b""
    assert ex.response.body_truncated


def test_timing_comes_from_the_flow_timestamps() -> None:
    f = make_flow()
    assert f.response is not None
    f.request.timestamp_start = 1_700_000_000.0
    f.response.timestamp_start = 1_700_000_000.25
    f.response.timestamp_end = 1_700_000_000.5
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.ttfb_us == 250_000
    assert ex.duration_us == 500_000
    assert ex.recorded_at.timestamp() == 1_700_000_000.0
    assert ex.request.path == "/api/items"
    assert ex.request.query == "page=2"
    assert ex.request.host == "api.example.com"


def test_an_error_flow_becomes_an_exchange_with_an_error_kind_and_duration() -> None:
    f = tflow.tflow(err=flow.Error("[Errno 111] Connect call failed ('127.0.0.1', 9)"))
    assert f.error is not None
    f.request.timestamp_start = 100.0
    f.error.timestamp = 100.5
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.response is None
    assert ex.error is not None and ex.error.kind is ErrorKind.REFUSED
    assert ex.duration_us == 500_000


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("[Errno 111] Connect call failed ('127.0.0.1', 9)", ErrorKind.REFUSED),
        ("Connection refused", ErrorKind.REFUSED),
        ("Server disconnected.", ErrorKind.RESET),
        ("server closed connection", ErrorKind.RESET),
        ("[Errno 104] Connection reset by peer", ErrorKind.RESET),
        ("Connection killed.", ErrorKind.RESET),
        ("TimeoutError: timed out", ErrorKind.TIMEOUT),
        ("Server TLS handshake failed. certificate verify failed", ErrorKind.TLS),
        ("Cannot parse HTTP response: bad status line", ErrorKind.PROTOCOL),
        ("HTTP/2 protocol error: invalid header", ErrorKind.PROTOCOL),
        ("something else entirely", ErrorKind.OTHER),
    ],
)
def test_error_messages_map_to_error_kinds(message: str, kind: ErrorKind) -> None:
    assert error_kind(message) is kind


def test_a_websocket_upgrade_is_recorded_as_its_101_exchange() -> None:
    f = tflow.twebsocketflow()
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.response is not None and ex.response.status == 101
    assert ex.request.path == "/ws"


def test_http2_flows_are_recorded_like_any_other() -> None:
    f = make_flow()
    f.request.http_version = "HTTP/2.0"
    assert f.response is not None
    f.response.http_version = "HTTP/2.0"
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.request.http_version == "HTTP/2.0"
    assert ex.response is not None and ex.response.http_version == "HTTP/2.0"


# -- the same Exchange recorded live and imported from a dump ---------------------------------

#: At least one message for every row of the error-kind table (checked below), among them
#: the ones the importer once read differently from the recorder.
MESSAGES = {
    "net::ERR_CONNECTION_REFUSED": ErrorKind.REFUSED,
    "net::ERR_CONNECTION_CLOSED": ErrorKind.RESET,
    "net::ERR_CERT_AUTHORITY_INVALID": ErrorKind.TLS,
    "net::ERR_HTTP2_PROTOCOL_ERROR": ErrorKind.PROTOCOL,
    "net::ERR_FAILED": ErrorKind.OTHER,
    "Server TLS handshake failed. certificate verify failed": ErrorKind.TLS,
    "TimeoutError: timed out": ErrorKind.TIMEOUT,
    "[Errno 111] Connect call failed ('127.0.0.1', 9)": ErrorKind.REFUSED,
    "Connection killed.": ErrorKind.RESET,
    "Client disconnected.": ErrorKind.RESET,
    "unexpected EOF": ErrorKind.RESET,
    "Cannot parse HTTP response: bad status line": ErrorKind.PROTOCOL,
    "something else entirely": ErrorKind.OTHER,
}


def test_every_row_of_the_error_kind_table_has_a_message() -> None:
    rows = [kind for kind, _ in ERROR_KINDS]

    def row(message: str) -> int:
        hits = (i for i, (_, pattern) in enumerate(ERROR_KINDS) if pattern.search(message))
        return next(hits, len(rows))

    assert {row(m) for m in MESSAGES} == set(range(len(rows) + 1))
    assert all(MESSAGES[m] is [*rows, ErrorKind.OTHER][row(m)] for m in MESSAGES)


def _recorded_and_imported(f: http.HTTPFlow, tmp_path: Path) -> tuple[Exchange, Exchange]:
    max_body = 1 << 20  # the recorder's defaults: shadowtape_max_body, and its raw cap
    live = to_exchange(capture(f, 4 * max_body), source="s", max_body=max_body)
    path = tmp_path / "flows.mitm"
    with path.open("wb") as handle:
        FlowWriter(handle).add(f)
    [imported] = list(read_mitm(path, source="s"))
    assert isinstance(imported, Exchange)
    tags = {k: v for k, v in imported.tags.items() if k != "import.file"}
    return live, imported.replace(id=live.id, tags=tags)


@pytest.mark.parametrize(("message", "kind"), MESSAGES.items())
def test_an_error_flow_is_the_same_exchange_recorded_live_and_imported_from_a_dump(
    message: str, kind: ErrorKind, tmp_path: Path
) -> None:
    live, imported = _recorded_and_imported(tflow.tflow(err=flow.Error(message)), tmp_path)
    assert live.error is not None and live.error.kind is kind
    assert imported == live


def test_an_answered_flow_is_the_same_exchange_recorded_live_and_imported_from_a_dump(
    tmp_path: Path,
) -> None:
    live, imported = _recorded_and_imported(make_flow(encoding="gzip"), tmp_path)
    assert live.response is not None and live.response.body == b'{"ok": true}'
    assert imported == live


def test_a_response_that_failed_before_it_was_sent_on_is_recorded_as_the_error() -> None:
    """Not streamed: the client got mitmproxy's own 502, not the upstream's status."""
    f = make_flow()
    assert f.response is not None
    f.response.raw_content = None
    f.error = flow.Error("peer closed connection without sending complete message body")
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.response is None
    assert ex.error is not None and ex.error.kind is ErrorKind.RESET


def test_a_streamed_response_cut_by_an_error_keeps_what_was_sent() -> None:
    f = make_flow()
    assert f.response is not None
    f.response.raw_content = None
    tap = Tap(keep=4)
    f.response.stream = tap
    tap(b"abcdef")
    f.error = flow.Error("peer closed connection without sending complete message body")
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.response is not None and ex.response.status == 200
    assert (ex.response.body, ex.response.body_size) == (b"abcd", 6)
    assert ex.response.body_truncated
    assert ex.error is not None and ex.error.kind is ErrorKind.RESET


def test_a_streamed_body_that_does_not_decode_is_dropped_with_a_redaction() -> None:
    f = make_flow()
    assert f.response is not None
    f.response.headers["Content-Encoding"] = "gzip"
    f.response.raw_content = None
    tap = Tap(keep=100)
    f.response.stream = tap
    tap(b"not gzip at all")
    tap(b"")
    ex = to_exchange(capture(f, 1 << 22), source="s", max_body=1 << 20)
    assert ex.response is not None
    assert (ex.response.body, ex.response.body_size) == (b"", 15)
    assert ex.response.body_truncated
    assert "response.body: dropped (not decodable as gzip)" in ex.redactions


def test_a_cut_body_that_does_not_decode_is_dropped_never_kept_raw() -> None:
    dropped: list[str] = []
    fields = ((b"content-encoding", b"gzip, gzip"),)
    assert decode_body(b"\x1f\x8b\x08" * 10, 10_000, fields, 100, dropped=dropped.append) == (
        b"",
        10_000,
        True,
    )
    assert dropped == ["not decodable as gzip, gzip"]


@pytest.mark.parametrize("kind", sorted(bombs()))
def test_a_decompression_bomb_is_dropped_with_a_redaction_through_the_sanitizer(
    kind: str,
) -> None:
    header, bomb = bombs()[kind]
    f = make_flow(path="/upload?x=1")
    assert f.response is not None
    for message in (f.request, f.response):
        message.headers["Content-Encoding"] = header
        message.raw_content = bomb
    raw = to_exchange(capture(f, 4 << 20), source="s", max_body=1 << 20)
    clean = Sanitizer(key=b"bomb-key").sanitize(raw)
    assert clean.response is not None and clean.response.status == 200
    for side, message in (("request", clean.request), ("response", clean.response)):
        assert (message.body, message.body_truncated) == (b"", True)
        assert message.body_size == len(bomb)  # the wire size: the decoded one is unknown
        assert message.header("content-encoding") == header
        assert f"{side}.body: dropped (decompressed size over limit)" in clean.redactions
    assert clean.request.path == "/upload"  # the rest of the exchange is intact


def test_a_large_ordinary_body_under_the_limit_is_still_cut_and_kept() -> None:
    # 20 MB of JSON-like text gzipped: over the body cap, under the 32 MiB limit.
    body = b'{"rows": [' + b'{"id": 12345, "name": "ordinary"}, ' * 570_000 + b"{}]}"
    f = make_flow(body=body, encoding="gzip")
    ex = to_exchange(capture(f, 4 << 20), source="s", max_body=1 << 20)
    assert ex.response is not None
    assert ex.response.body == body[: 1 << 20]
    assert (ex.response.body_size, ex.response.body_truncated) == (len(body), True)
    assert not ex.redactions


def test_the_limit_follows_a_body_cap_above_it() -> None:
    header, bomb = bombs()["gzip-members-64MiB"]
    fields = ((b"Content-Encoding", header.encode()),)
    body, size, cut = decode_body(bomb, len(bomb), fields, 64 << 20)
    assert (len(body), size, cut) == (64 << 20, 64 << 20, False)
