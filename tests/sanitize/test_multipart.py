"""multipart/form-data: fields by name, parts by their own type, bytes kept in place."""

from __future__ import annotations

from shadowtape.sanitize.bodies import sanitize_body
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy

PSEUDO = Pseudonymizer(b"k")
TYPE = "multipart/form-data; boundary=XyZ"


def part(disposition: str, content: bytes, content_type: str = "") -> bytes:
    head = f"Content-Disposition: form-data; {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return b"--XyZ\r\n" + head.encode() + b"\r\n" + content + b"\r\n"


def test_fields_by_name_and_by_content() -> None:
    c = Context(Policy.build(), PSEUDO)
    body = (
        part('name="user"', b"ann")
        + part('name="password"', b"hunter22")
        + part('name="bio"', b"mail ann@example.com")
        + part('name="cfg"; filename="c.json"', b'{"api_key": "k-123456"}', "application/json")
        + part('name="pic"; filename="p.png"', b"\x89PNG\x00\xff", "image/png")
        + b"--XyZ--\r\n"
    )
    out = sanitize_body(body, TYPE, c, "request.body")
    assert b"hunter22" not in out and b"ann@example.com" not in out and b"k-123456" not in out
    assert part('name="user"', b"ann") in out
    assert part('name="pic"; filename="p.png"', b"\x89PNG\x00\xff", "image/png") in out
    assert out.endswith(b"--XyZ--\r\n")
    assert list(c.redactions) == [
        "request.body.multipart.password",
        "request.body.multipart.bio.text:email",
        "request.body.multipart.cfg$.api_key",
    ]


def test_a_binary_secret_field_gets_a_digest() -> None:
    c = Context(Policy.build(), PSEUDO)
    out = sanitize_body(part('name="secret"', b"\xff\xfe\x00") + b"--XyZ--", TYPE, c, "r.body")
    assert b"\xff\xfe\x00" not in out and PSEUDO.digest(b"\xff\xfe\x00").encode() in out


def test_a_cut_body_keeps_what_parses_and_scans_the_rest() -> None:
    c = Context(Policy.build(), PSEUDO)
    body = part('name="password"', b"hunter22") + b"--XyZ\r\nContent-Dispo ann@example.com"
    out = sanitize_body(body, TYPE, c, "request.body")
    assert b"hunter22" not in out and b"ann@example.com" not in out


def test_no_boundary_in_the_body_falls_back_to_text() -> None:
    c = Context(Policy.build(), PSEUDO)
    out = sanitize_body(b"password=hunter22 ann@example.com", TYPE, c, "request.body")
    assert b"hunter22" not in out and b"ann@example.com" not in out
