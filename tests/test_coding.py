"""Content-Encoding undone: aliases, stacks, gzip members, raw deflate, cut streams, and
decompression bombs stopped at the limit with bounded memory."""

from __future__ import annotations

import gzip
import os
import tracemalloc
import zlib

import brotli  # type: ignore[import-untyped]
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from shadowtape import coding
from shadowtape.coding import (
    MAX_CODINGS,
    Decoded,
    Decoding,
    TooLarge,
    Undecodable,
    codings,
    decode,
)
from tests.bombs import MiB, bombs

ENCODERS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstandard.ZstdCompressor().compress,
}


def test_codings_are_listed_in_applied_order_without_identity() -> None:
    assert codings("gzip, identity, X-GZIP ,br") == ["gzip", "gzip", "br"]
    assert codings("") == codings("identity") == []


@pytest.mark.parametrize(
    ("data", "header"),
    [
        (gzip.compress(b"abc", mtime=0) + gzip.compress(b"def", mtime=0), "gzip"),  # two members
        (
            gzip.compress(b"abc", mtime=0) + b"\0\0" + gzip.compress(b"def", mtime=0),
            "x-gzip",
        ),  # padded
        (zlib.compress(b"abcdef")[2:-4], "deflate"),  # raw deflate, as IIS sends it
        (brotli.compress(gzip.compress(b"abcdef", mtime=0)), "gzip, br"),
        (ENCODERS["zstd"](b"abc") + ENCODERS["zstd"](b"def"), "zstd"),  # two frames
        (b"abcdef", "identity"),
    ],
)
def test_decode(data: bytes, header: str) -> None:
    assert decode(data, header) == Decoded(b"abcdef", 6)


@pytest.mark.parametrize(
    ("data", "header"),
    [
        (b"plain", "gzip"),
        (gzip.compress(b"abc", mtime=0)[:-6], "gzip"),
        (gzip.compress(b"abc", mtime=0) + b"junk", "gzip"),
        (ENCODERS["zstd"](b"abc")[:-3], "zstd"),
        (ENCODERS["zstd"](b"abc") + b"junk", "zstd"),
        (zlib.compress(b"abc")[:-6], "deflate"),
        (brotli.compress(b"abc" * 100)[:-2], "br"),
        (b"x", "compress"),
        (b"x", "br"),
    ],
)
def test_what_does_not_decode_raises_undecodable_naming_the_coding(
    data: bytes, header: str
) -> None:
    with pytest.raises(Undecodable, match=rf"^not decodable as {header}$"):
        decode(data, header)


def test_more_codings_than_the_maximum_are_refused() -> None:
    data = b"abc"
    for _ in range(MAX_CODINGS + 1):
        data = gzip.compress(data)
    header = ", ".join(["gzip"] * (MAX_CODINGS + 1))
    with pytest.raises(Undecodable):
        decode(data, header)
    assert decode(gzip.compress(b"abc"), ", ".join(["identity"] * 9) + ", gzip").body == b"abc"


@pytest.mark.parametrize("header", ["gzip", "br", "zstd, deflate", "compress"])
def test_an_empty_body_decodes_to_nothing_whatever_its_header(header: str) -> None:
    # HEAD and 304 answers keep the Content-Encoding of the body they do not send.
    assert decode(b"", header) == Decoded(b"", 0)


def test_a_cut_stream_decodes_as_far_as_it_goes() -> None:
    data = gzip.compress(b"password=hunter22" * 100)
    out = decode(data[: len(data) // 2], "gzip", partial=True)
    assert out.body.startswith(b"password=hunter")


def test_keep_cuts_the_body_and_the_size_counts_all_of_it() -> None:
    text = os.urandom(3 * MiB).hex().encode()
    out = decode(gzip.compress(text, 1), "gzip", keep=1000)
    assert out == Decoded(text[:1000], len(text))


def test_a_body_over_the_limit_is_refused_and_one_at_the_limit_is_not() -> None:
    data = gzip.compress(b"a" * 100_000)
    assert decode(data, "gzip", limit=100_000).size == 100_000
    with pytest.raises(TooLarge, match=r"^decompressed size over limit$"):
        decode(data, "gzip", limit=99_999)


def test_an_inner_stage_over_the_limit_is_refused_even_when_the_last_gives_little() -> None:
    # gzip gives 40 KB that zstd skips (a skippable frame) before 3 bytes of output: the
    # limit holds for every stage's output, so padding cannot buy unbounded work.
    skippable = (0x184D2A50).to_bytes(4, "little") + (40_000).to_bytes(4, "little")
    inner = skippable + b"\0" * 40_000 + ENCODERS["zstd"](b"abc")
    with pytest.raises(TooLarge):
        decode(gzip.compress(inner), "zstd, gzip", limit=30_000)
    assert decode(gzip.compress(inner), "zstd, gzip").body == b"abc"


@pytest.mark.parametrize("kind", sorted(bombs()))
def test_a_bomb_is_refused_at_the_limit_in_bounded_memory(kind: str) -> None:
    header, data = bombs()[kind]
    assert len(data) < 70_000
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge):
            decode(data, header, keep=MiB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The body cap kept, plus one step per coding: never the gigabyte, nor the 32 MiB limit.
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB"


def test_a_bomb_cut_by_the_wire_cap_is_refused_too() -> None:
    header, data = bombs()["gzip-gzip-1GiB"]
    with pytest.raises(TooLarge):
        decode(data[: len(data) // 2], header, partial=True, keep=MiB)


def test_brotli_without_an_output_limit_decodes_in_small_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # brotli before 1.2 (the one mitmproxy 11 pins) has no output_buffer_limit.
    monkeypatch.setattr(coding, "_BROTLI_LIMITS", [False])
    text = os.urandom(50_000).hex().encode()
    assert decode(brotli.compress(text), "br").body == text
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge):
            decode(bombs()["br-256MiB"][1], "br", keep=MiB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * MiB, f"{peak / MiB:.0f} MiB"


@given(
    text=st.binary(max_size=5000),
    names=st.lists(st.sampled_from(sorted(ENCODERS)), max_size=3),
    keep=st.integers(min_value=0, max_value=6000),
)
def test_any_stack_round_trips_and_keeps_its_prefix(
    text: bytes, names: list[str], keep: int
) -> None:
    data = text
    for name in names:
        data = ENCODERS[name](data)
    assert decode(data, ", ".join(names), keep=keep) == Decoded(text[:keep], len(text))


@given(
    text=st.binary(max_size=5000),
    names=st.lists(st.sampled_from(sorted(ENCODERS)), max_size=3),
    cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=6),
    keep=st.integers(min_value=0, max_value=6000),
)
def test_a_body_fed_in_pieces_decodes_as_it_does_whole(
    text: bytes, names: list[str], cuts: list[int], keep: int
) -> None:
    data = text
    for name in names:
        data = ENCODERS[name](data)
    stream = Decoding(", ".join(names), keep=keep)
    at = 0
    for cut in sorted(cuts):
        stream.feed(data[at:cut])
        at = max(at, cut)
    stream.feed(data[at:])
    assert stream.close() == Decoded(text[:keep], len(text))


def test_taken_bytes_are_not_returned_again() -> None:
    stream = Decoding("gzip")
    stream.feed(gzip.compress(b"abc" * 1000))
    assert stream.take() == b"abc" * 1000
    assert stream.close() == Decoded(b"", 3000)


def test_a_header_naming_an_unknown_coding_is_refused_before_any_byte() -> None:
    with pytest.raises(Undecodable, match="not decodable as gzip, compress"):
        Decoding("gzip, compress")
    assert not coding.known("gzip, compress")
    assert coding.known("x-gzip, br") and coding.known("identity")


@pytest.mark.parametrize("kind", ["gzip-gzip-1GiB", "br-256MiB", "zstd-zstd-1GiB"])
def test_a_bomb_arriving_in_pieces_is_refused_in_bounded_memory(kind: str) -> None:
    header, data = bombs()[kind]
    stream = Decoding(header, keep=MiB)
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge):
            for at in range(0, len(data), 1024):
                stream.feed(data[at : at + 1024])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB"
    assert stream.size <= coding.LIMIT  # stopped at the limit, not at the gigabyte
