"""Content-Encoding undone: aliases, stacks, gzip members, raw deflate, cut streams."""

from __future__ import annotations

import gzip
import zlib

import brotli  # type: ignore[import-untyped]
import pytest

from shadowtape.record.coding import codings, decode


def test_codings_are_listed_in_applied_order_without_identity() -> None:
    assert codings("gzip, identity, X-GZIP ,br") == ["gzip", "gzip", "br"]
    assert codings("") == codings("identity") == []


@pytest.mark.parametrize(
    ("data", "header"),
    [
        (gzip.compress(b"abc") + gzip.compress(b"def"), "gzip"),  # two members
        (gzip.compress(b"abc") + b"\0\0" + gzip.compress(b"def"), "x-gzip"),  # padded
        (zlib.compress(b"abcdef")[2:-4], "deflate"),  # raw deflate, as IIS sends it
        (brotli.compress(gzip.compress(b"abcdef")), "gzip, br"),
    ],
)
def test_decode(data: bytes, header: str) -> None:
    assert decode(data, header) == b"abcdef"


@pytest.mark.parametrize(
    ("data", "header"),
    [(b"plain", "gzip"), (gzip.compress(b"abc")[:-6], "gzip"), (b"x", "compress"), (b"x", "br")],
)
def test_what_does_not_decode_is_none(data: bytes, header: str) -> None:
    assert decode(data, header) is None


def test_a_cut_stream_decodes_as_far_as_it_goes() -> None:
    data = gzip.compress(b"password=hunter22" * 100)
    out = decode(data[: len(data) // 2], "gzip", partial=True)
    assert out is not None and out.startswith(b"password=hunter")
