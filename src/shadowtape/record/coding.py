"""Content-Encoding, undone: every coding a recorded or imported body may carry.

``gzip`` and its alias ``x-gzip`` (several members too), ``deflate`` as zlib or raw
(servers send both), ``br``, ``zstd`` and ``identity``, stacked in any order
(``gzip, br``: undone right to left). A body that does not decode gives None: the caller
drops it rather than store bytes the sanitizer cannot read.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

#: zlib's window bits for "gzip only" and "raw deflate".
_GZIP = 16 + zlib.MAX_WBITS
_RAW = -zlib.MAX_WBITS


def codings(header: str) -> list[str]:
    """``"gzip, x-gzip"`` -> ``["gzip", "gzip"]``, identity left out, in applied order."""
    out = []
    for item in header.lower().split(","):
        name = item.strip()
        if name and name != "identity":
            out.append("gzip" if name == "x-gzip" else name)
    return out


def decode(data: bytes, header: str, *, partial: bool = False) -> bytes | None:
    """``data`` with every coding of ``header`` undone, or None when one does not apply.

    ``partial``: ``data`` is the start of a longer body (cut by a cap); what decodes of
    it is returned.
    """
    for name in reversed(codings(header)):
        step = _DECODERS.get(name)
        if step is None:
            return None
        try:
            data = step(data, partial)
        except Exception:  # zlib.error, brotli.error, zstandard.ZstdError, EOFError...
            return None
    return data


def _gunzip(data: bytes, partial: bool) -> bytes:
    """Every member of a gzip stream, concatenated (RFC 1952 allows several)."""
    out: list[bytes] = []
    rest = data
    while rest:
        member = zlib.decompressobj(_GZIP)
        out.append(member.decompress(rest))
        if not member.eof:
            if not partial:
                raise EOFError("gzip stream cut short")
            break
        rest = member.unused_data.lstrip(b"\x00")  # padding between members is common
    if not out:
        raise EOFError("empty gzip stream")
    return b"".join(out)


def _inflate(data: bytes, partial: bool) -> bytes:
    try:
        return _whole(zlib.decompressobj(), data, partial)
    except zlib.error:
        return _whole(zlib.decompressobj(_RAW), data, partial)


def _whole(stream: zlib._Decompress, data: bytes, partial: bool) -> bytes:
    out = stream.decompress(data)
    if not partial and not stream.eof:
        raise EOFError("deflate stream cut short")
    return out


def _unbrotli(data: bytes, partial: bool) -> bytes:
    import brotli  # type: ignore[import-untyped]

    if partial:
        return bytes(brotli.Decompressor().process(data))
    return bytes(brotli.decompress(data))


def _unzstd(data: bytes, partial: bool) -> bytes:
    import zstandard

    stream = zstandard.ZstdDecompressor().decompressobj()
    out = bytes(stream.decompress(data))
    if not partial and not stream.eof:
        raise EOFError("zstd stream cut short")
    return out


_DECODERS: dict[str, Callable[[bytes, bool], bytes]] = {
    "gzip": _gunzip,
    "deflate": _inflate,
    "br": _unbrotli,
    "zstd": _unzstd,
}
