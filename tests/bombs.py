"""Decompression bombs: a few kilobytes that expand to gigabytes, made in well under a second.

Made from repeats rather than by compressing gigabytes: a gzip member of 1 MiB of zeros
repeated is a valid multi-member gzip stream; a deflate block of zeros ended by a full
flush does not refer back, so it can be repeated too; each then compresses again to
almost nothing (``gzip, gzip``). Shared by the coding, capture and end-to-end tests.
"""

from __future__ import annotations

import gzip
import zlib
from functools import cache

import brotli  # type: ignore[import-untyped]
import zstandard

MiB = 1 << 20
_ZEROS = b"\0" * MiB


@cache
def _member() -> bytes:
    return gzip.compress(_ZEROS, 9)


def gzip_members(mib: int) -> bytes:
    """One gzip layer: ``mib`` members of 1 MiB of zeros (about 1 KB each)."""
    return _member() * mib


@cache
def _flushed_block(wbits: int) -> tuple[bytes, bytes]:
    """(stream head, a repeatable piece of 1 MiB of zeros) for a zlib or raw deflate stream."""
    stream = zlib.compressobj(9, zlib.DEFLATED, wbits)
    first = stream.compress(_ZEROS) + stream.flush(zlib.Z_FULL_FLUSH)
    piece = stream.compress(_ZEROS) + stream.flush(zlib.Z_FULL_FLUSH)
    return first, piece


def deflate_blocks(mib: int, *, raw: bool = False) -> bytes:
    """One deflate layer (zlib, or raw): ``mib`` MiB of zeros, never ended (a bomb need not
    end: the decoder must stop it first)."""
    first, piece = _flushed_block(-15 if raw else 15)
    return first + piece * (mib - 1)


def gzip_member(mib: int) -> bytes:
    """One gzip member of ``mib`` MiB of zeros, never ended: a decoder that reads only the
    first member (mitmproxy's) meets all of it."""
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + deflate_blocks(mib, raw=True)


@cache
def brotli_zeros(mib: int) -> bytes:
    stream = brotli.Compressor(quality=5, lgwin=24)
    out = [stream.process(_ZEROS) for _ in range(mib)]
    return b"".join(out) + stream.finish()


@cache
def zstd_zeros(mib: int) -> bytes:
    stream = zstandard.ZstdCompressor(level=1).compressobj()
    out = [stream.compress(_ZEROS) for _ in range(mib)]
    return b"".join(out) + stream.flush()


GiB = 1024


@cache
def bombs() -> dict[str, tuple[str, bytes]]:
    """Each kind of bomb as (Content-Encoding, body): ids say the coding and its size."""
    inner_gzip = gzip_members(GiB)
    return {
        "gzip-members-64MiB": ("gzip", gzip_members(64)),
        "x-gzip-members-64MiB": ("x-gzip", gzip_members(64)),
        "gzip-gzip-1GiB": ("gzip, gzip", gzip.compress(inner_gzip, 9)),
        "deflate-zlib-64MiB": ("deflate", deflate_blocks(64)),
        "deflate-raw-64MiB": ("deflate", deflate_blocks(64, raw=True)),
        "deflate-deflate-1GiB": ("deflate, deflate", zlib.compress(deflate_blocks(GiB), 9)),
        "br-256MiB": ("br", brotli_zeros(256)),
        "gzip-br-1GiB": ("gzip, br", brotli.compress(inner_gzip, quality=5)),
        "zstd-64MiB": ("zstd", zstd_zeros(64)),
        "zstd-zstd-1GiB": ("zstd, zstd", zstandard.ZstdCompressor(19).compress(zstd_zeros(GiB))),
    }
