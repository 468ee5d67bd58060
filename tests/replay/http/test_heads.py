"""Response heads as the client reads them while they arrive."""

from __future__ import annotations

from shadowtape.replay.http.heads import framing, persistent, reason_phrase, split_head

NGINX = (
    b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 22 Nov 2026 10:00:00 GMT\r\n"
    b'Content-Type: application/json\r\nContent-Length: 2048\r\nETag: "6a-800"'
)


def test_split_head_waits_for_the_blank_line() -> None:
    assert split_head(b"HTTP/1.1 200 OK\r\nA: 1\r\n") is None
    assert split_head(b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\nbody\n\nmore") == (
        b"HTTP/1.1 200 OK\r\nA: 1",
        b"body\n\nmore",
    )


def test_framing_reads_length_and_encoding_whatever_their_case() -> None:
    assert framing(NGINX) == (True, "")
    assert framing(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked") == (True, "")
    assert framing(b"HTTP/1.1 200 OK\r\nCONTENT-ENCODING:  gzip \r\nX: 1") == (False, "gzip")
    # A header that only ends with the name is not it.
    assert framing(b"HTTP/1.1 200 OK\r\nX-Content-Length: 3") == (False, "")


def test_a_transfer_encoding_frames_the_body_only_when_its_final_coding_is_chunked() -> None:
    # RFC 9112 section 6.3: otherwise the body ends when the connection does. llhttp reads
    # the last coding of the last Transfer-Encoding line, as these do.
    def framed(*lines: bytes) -> bool:
        return framing(b"\r\n".join([b"HTTP/1.1 200 OK", *lines]))[0]

    assert framed(b"Transfer-Encoding: gzip, chunked")
    assert framed(b"Transfer-Encoding: gzip", b"transfer-encoding: Chunked \t")
    assert not framed(b"Transfer-Encoding: identity")
    assert not framed(b"Transfer-Encoding: chunked, gzip", b"X: 1")
    assert not framed(b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip")
    assert not framed(b"Transfer-Encoding: chunked;q=1")


def test_the_reason_phrase_is_the_rest_of_the_status_line() -> None:
    assert reason_phrase(NGINX) == "OK"
    assert reason_phrase(b"HTTP/1.1 404 Not  Found \r\nX: 1") == "Not  Found "
    assert reason_phrase(b"HTTP/1.1 204") == reason_phrase(b"HTTP/1.1 204 ") == ""


def test_a_connection_persists_as_rfc_9112_says() -> None:
    def persists(version: bytes, *lines: bytes) -> bool:
        return persistent(b"\r\n".join([b"HTTP/" + version + b" 200 OK", *lines]))

    assert persists(b"1.1") and persists(b"1.1", b"Connection: Keep-Alive")
    assert not persists(b"1.1", b"Connection: upgrade, Close")
    assert not persists(b"1.1", b"Connection: keep-alive", b"connection:close ")
    assert persists(b"1.1", b"Proxy-Connection: close", b"X-Connection: close")
    assert not persists(b"1.0") and persists(b"1.0", b"Connection: keep-alive")
    assert not persists(b"1.0", b"Connection: keep-alive, close")
