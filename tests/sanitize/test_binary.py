"""Binary bodies: token formats found byte by byte, replaced at the same length."""

from __future__ import annotations

from shadowtape.sanitize.binary import sanitize_binary
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy, Rules

KEY = "sk_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2"


def _ctx(rules: Rules | None = None) -> Context:
    return Context(Policy.build(rules), Pseudonymizer(b"k"))


def _protobuf(value: bytes) -> bytes:
    return b"\x08\x96\x01\x12" + bytes([len(value)]) + value + b"\x1a\x02\xff\xfe"


def test_a_key_inside_protobuf_is_replaced_at_the_same_length() -> None:
    ctx = _ctx()
    body = _protobuf(KEY.encode())
    out = sanitize_binary(body, ctx, "response.body")
    assert KEY.encode() not in out and len(out) == len(body)
    assert out[:5] == body[:5] and out[-4:] == body[-4:]  # the framing is untouched
    assert list(ctx.redactions) == ["response.body.binary:api_key"]


def test_a_private_key_block_in_binary_is_found() -> None:
    block = (
        b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE\n"
        b"-----END OPENSSH PRIVATE KEY-----"
    )
    out = sanitize_binary(b"\x00\xff" + block + b"\x01", _ctx(), "response.body")
    assert b"b3BlbnNzaC1rZXktdjE" not in out


def test_the_rule_can_be_turned_off_and_plain_bytes_are_kept() -> None:
    body = _protobuf(KEY.encode())
    off = _ctx(Rules(disabled_detectors=frozenset({"api_key"})))
    assert sanitize_binary(body, off, "response.body") is body
    assert sanitize_binary(b"\x00\x01\xff", _ctx(), "response.body") == b"\x00\x01\xff"
