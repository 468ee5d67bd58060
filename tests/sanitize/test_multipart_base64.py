"""Multipart parts sent with ``Content-Transfer-Encoding: base64`` (multipart.py):
decoded, sanitized as any part, and encoded back wrapped as they came."""

from __future__ import annotations

import base64

from shadowtape.sanitize import Sanitizer
from tests.sanitize.posted import posted

SANITIZER = Sanitizer(key=b"k")


def _part(name: str, content: bytes, content_type: str = "text/plain", wrap: int = 0) -> str:
    encoded = base64.b64encode(content).decode()
    if wrap:
        encoded = "\r\n".join(encoded[i : i + wrap] for i in range(0, len(encoded), wrap))
    return (
        f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n'
        f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{encoded}\r\n"
    )


def _stored(body: str) -> bytes:
    return SANITIZER.sanitize(posted(body, "multipart/form-data; boundary=b")).request.body


def _decoded_parts(body: bytes) -> list[bytes]:
    parts = body.split(b"--b")[1:-1]
    return [base64.b64decode(b"".join(p.split(b"\r\n\r\n", 1)[1].split())) for p in parts]


def test_a_secret_inside_a_base64_part_is_replaced_and_the_part_stays_base64() -> None:
    config = b"host=db.internal\npassword=hunter2hunter2X\n" * 4
    body = _part("config", config, wrap=76) + _part("password", b"s3cr3tzzQ99") + "--b--\r\n"
    stored = _stored(body)
    config_out, password_out = _decoded_parts(stored)
    assert b"hunter2hunter2X" not in config_out and b"host=db.internal" in config_out
    assert b"s3cr3tzzQ99" not in password_out and len(password_out) == len(b"s3cr3tzzQ99")
    for encoded in (base64.b64encode(b"hunter2hunter2X"), base64.b64encode(b"s3cr3tzzQ99")):
        assert encoded[:12] not in stored
    lines = stored.split(b"\r\n\r\n", 1)[1].split(b"\r\n--b")[0].split(b"\r\n")
    assert {len(line) for line in lines[:-1]} == {76}  # wrapped as it came


def test_a_base64_part_with_nothing_secret_is_kept_byte_for_byte() -> None:
    body = _part("note", b"hello there, nothing to see\n" * 5, wrap=60) + "--b--\r\n"
    assert _stored(body) == body.encode()


def test_a_part_that_is_not_base64_after_all_is_read_as_it_is() -> None:
    body = (
        '--b\r\nContent-Disposition: form-data; name="note"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\npassword=hunter2hunter2X\r\n--b--\r\n"
    )
    assert b"hunter2hunter2X" not in _stored(body)
