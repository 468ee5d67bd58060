"""MessagePack bodies, sanitized like JSON."""

from __future__ import annotations

import math

import msgpack  # type: ignore[import-untyped]

from shadowtape.sanitize.bodies import sanitize_body
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.msgpackbody import sanitize_msgpack
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy


def _ctx() -> Context:
    return Context(Policy.build(), Pseudonymizer(b"k"))


def test_secret_fields_and_detected_values_are_replaced() -> None:
    body = msgpack.packb({"user": "ann", "password": "hunter22", "note": "mail ann@corp.example"})
    out = sanitize_body(body, "application/msgpack", _ctx(), "request.body")
    doc = msgpack.unpackb(out)
    assert doc["user"] == "ann"
    assert doc["password"] != "hunter22" and "ann@corp.example" not in doc["note"]


def test_an_unchanged_document_is_returned_as_is() -> None:
    body = msgpack.packb({"user": "ann", "n": [1, 2.5]})
    assert sanitize_msgpack(body, _ctx(), "request.body") is body


def test_what_json_cannot_hold_is_scanned_as_bytes() -> None:
    key = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    body = msgpack.packb({1: b"\x00\xff", "token": key}, use_bin_type=True)  # an integer key
    assert sanitize_msgpack(body, _ctx(), "request.body") is None
    out = sanitize_body(body, "application/x-msgpack", _ctx(), "request.body")
    assert key.encode() not in out and len(out) == len(body)


def test_binary_values_are_walked_like_strings_and_stay_binary() -> None:
    secret = b"\xffZq8vR3xW9pLm2Tn7Kc4Y"
    doc = {"a": [{"token": secret}], "raw": b"\x00\xff\x10", "note": "x"}
    c = _ctx()
    out = msgpack.unpackb(sanitize_msgpack(msgpack.packb(doc, use_bin_type=True), c, "r.body"))
    token = out["a"][0]["token"]
    assert isinstance(token, bytes) and len(token) == len(secret) and token != secret
    assert b"Zq8vR3xW9pLm2Tn7Kc4Y" not in token
    assert out["raw"] == b"\x00\xff\x10" and out["note"] == "x"
    assert list(c.redactions) == ["r.body$.a[0].token"]


def test_values_json_cannot_write_are_kept_when_a_secret_is_replaced() -> None:
    # The document is walked as decoded, not written as JSON and read back: NaN stays
    # NaN (JSON would make it null) and the largest unsigned integer keeps every digit.
    body = msgpack.packb({"password": "hunter22", "ratio": float("nan"), "id": 2**64 - 1})
    doc = msgpack.unpackb(sanitize_msgpack(body, _ctx(), "request.body"))
    assert doc["password"] != "hunter22"
    assert math.isnan(doc["ratio"]) and doc["id"] == 2**64 - 1


def test_a_body_labelled_messagepack_that_holds_json_text_is_read_as_text() -> None:
    """A client's label is no promise: JSON sent as application/msgpack (or a multipart
    part so labelled) has its secret-named fields replaced, not only its token shapes."""
    body = b'{"api_key": "k-123456", "user": "ann"}'
    out = sanitize_body(body, "application/msgpack", _ctx(), "request.body")
    assert b"k-123456" not in out and b'"user"' in out
