"""GoReplay captures: the corpus file, and captures written here in GoReplay's format."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shadowtape.exchange import Exchange
from shadowtape.importers import CaptureError, Skipped, read_gor
from shadowtape.importers.gor import MARKER
from tests.bombs import bombs
from tests.importers.conftest import GOR_FILE


def test_corpus_capture(corpus: Path) -> None:
    path = corpus / GOR_FILE
    raw = path.read_bytes()
    headers = [line for line in raw.split(b"\n") if line[:2] == b"1 "]
    items = list(read_gor(path))
    exchanges = [i for i in items if isinstance(i, Exchange)]
    assert not [i for i in items if isinstance(i, Skipped)]
    assert len(exchanges) == len(headers) == 101
    assert sorted(e.request.method for e in exchanges).count("GET") == 99
    posts = [e for e in exchanges if e.request.method == "POST"]
    assert len(posts) == 2
    for post in posts:
        assert post.request.body.startswith(b'{"variant_id"')
        assert len(post.request.body) == int(post.request.header("content-length") or 0)
    assert {(e.request.host, e.request.port, e.request.scheme) for e in exchanges} == {
        ("localhost", 3000, "http")
    }
    # Capture-time timestamps (nanoseconds) become recorded_at, to the microsecond.
    first_ns = int(headers[0].split()[2])
    assert min(e.recorded_at for e in exchanges) == datetime(2019, 9, 10, 18, 22, 26, 437296, UTC)
    assert first_ns == 1568139746437296000
    # The capture holds requests only: kept, without a response.
    assert all(e.response is None and e.error is None for e in exchanges)


def _capture(tmp_path: Path, records: list[tuple[str, bytes]]) -> Path:
    path = tmp_path / "capture.gor"
    path.write_bytes(b"".join(h.encode() + b"\n" + p + b"\n" + MARKER + b"\n" for h, p in records))
    return path


REQ = b"GET /a?x=1 HTTP/1.1\r\nHost: shop.test:8080\r\nCookie: s=1\r\n\r\n"
BODY = gzip.compress(b'{"items": []}')
RESP = (
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
    + f"{len(BODY):x}".encode()
    + b"\r\n"
    + BODY
    + b"\r\n0\r\n\r\n"
)


def test_pairs_requests_and_responses_by_id(tmp_path: Path) -> None:
    t0 = 1_700_000_000_000_000_000
    path = _capture(
        tmp_path,
        [
            (f"1 aa {t0}", REQ),
            (
                f"1 bb {t0 + 1000}",
                b"POST /b HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 3\r\n\r\nx\ny",
            ),
            (f"2 bb {t0 + 5000} 4000000", b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
            (f"3 bb {t0 + 6000} 3000000", b"HTTP/1.1 500 Oops\r\n\r\n"),
            (f"2 aa {t0 + 9000} 7000000", RESP),
            (f"2 zz {t0 + 9500} 1", b"HTTP/1.1 204 No Content\r\n\r\n"),
        ],
    )
    items = list(read_gor(path, source="shop"))
    exchanges = {i.tags["gor.id"]: i for i in items if isinstance(i, Exchange)}
    skipped = [(i.reason, i.where.split(" (")[0]) for i in items if isinstance(i, Skipped)]
    assert skipped == [
        ("replayed response (type 3), not original traffic", "record 3"),
        ("response without its request", "record 5"),
    ]
    assert next(i.where for i in items if isinstance(i, Skipped)) == "record 3 (line 22)"
    a, b = exchanges["aa"], exchanges["bb"]
    assert (a.request.host, a.request.port, a.request.path, a.request.query) == (
        "shop.test",
        8080,
        "/a",
        "x=1",
    )
    assert a.response is not None and a.response.body == b'{"items": []}'
    assert a.duration_us == 7000 and a.source == "shop"
    assert b.request.body == b"x\ny"  # a newline inside a body is part of it
    assert b.response is not None and (b.response.status, b.response.reason) == (201, "Created")


def test_timestamps_keep_microseconds_at_second_boundaries(tmp_path: Path) -> None:
    path = _capture(tmp_path, [("1 aa 1568139746999999999", REQ)])  # .999999999 s
    [ex] = list(read_gor(path))
    assert isinstance(ex, Exchange)
    assert ex.recorded_at == datetime(2019, 9, 10, 18, 22, 26, 999999, UTC)


def test_a_cut_body_is_marked_truncated(tmp_path: Path) -> None:
    path = _capture(
        tmp_path, [("1 cc 1", b"PUT /c HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc")]
    )
    [ex] = list(read_gor(path))
    assert isinstance(ex, Exchange)
    assert (ex.request.body, ex.request.body_size, ex.request.body_truncated) == (b"abc", 100, True)


def test_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "x.gor"
    path.write_bytes(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    with pytest.raises(CaptureError, match=r"x.gor: not a GoReplay capture"):
        list(read_gor(path))


def test_a_bad_record_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = _capture(tmp_path, [("1 aa 1", REQ), ("garbage", b"???"), ("1 bb 2", b"NOT HTTP")])
    items = list(read_gor(path))
    assert sum(isinstance(i, Exchange) for i in items) == 1
    reasons = sorted(i.reason.split(" (")[0] for i in items if isinstance(i, Skipped))
    assert reasons == ["record header is not 'TYPE ID TIMESTAMP [LATENCY]'", "unparsable request"]


@pytest.mark.parametrize("cut", [b"Host: sh", b"Host: shop.test:8080\r\n", REQ])
def test_a_capture_cut_inside_its_last_record_skips_it_and_says_so(
    tmp_path: Path, cut: bytes
) -> None:
    """The last record of a cut file can lack headers (a Cookie, the Host) or a body;
    imported as whole, it would replay as a different request."""
    whole = _capture(tmp_path, [("1 aa 1", REQ)]).read_bytes()
    path = tmp_path / "cut.gor"
    path.write_bytes(whole + b"1 bb 2\n" + cut)
    items = list(read_gor(path))
    assert [i.tags["gor.id"] for i in items if isinstance(i, Exchange)] == ["aa"]
    assert [(i.reason, i.where) for i in items if isinstance(i, Skipped)] == [
        ("cut short: the file ends before its end marker", "record 1 (line 8)")
    ]


def test_x_gzip_is_decoded_and_an_undecodable_body_dropped(tmp_path: Path) -> None:
    secret = gzip.compress(b"password=hunter22")
    ok = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Encoding: x-gzip\r\n\r\n" + secret
    bad = b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\n\r\nnot gzip at all"
    cut = b"PUT /c HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: 999\r\n\r\n"
    path = _capture(tmp_path, [("1 a1 1", ok), ("1 b1 2", bad), ("1 c1 3", cut + secret[:20])])
    a, b, c = [i for i in read_gor(path) if isinstance(i, Exchange)]
    assert a.request.body == b"password=hunter22"
    # Never stored as captured: the sanitizer cannot read compressed bytes.
    assert (b.request.body, b.request.body_truncated) == (b"", True)
    assert b.redactions == ("request.body: dropped (not decodable as gzip)",)
    assert b"gzip" not in c.request.body and c.request.body_truncated  # a cut one, decoded


def test_a_decompression_bomb_is_dropped_saying_so(tmp_path: Path) -> None:
    header, bomb = bombs()["zstd-zstd-1GiB"]
    head = f"POST /bomb HTTP/1.1\r\nHost: h\r\nContent-Encoding: {header}\r\n\r\n"
    path = _capture(tmp_path, [("1 a1 1", head.encode() + bomb), ("1 b1 2", REQ)])
    bombed, ordinary = [i for i in read_gor(path) if isinstance(i, Exchange)]
    assert (bombed.request.body, bombed.request.body_truncated) == (b"", True)
    assert bombed.redactions == ("request.body: dropped (decompressed size over limit)",)
    assert bombed.tags["gor.request_body"] == "body decompressed size over limit; dropped"
    assert ordinary.request.path == "/a"
