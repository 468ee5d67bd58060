"""Content-Encoding, undone within a limit: the one decoder for every body shadowtape reads
from traffic (recorded, imported, a build's answer to the replayer, a call to a mocked
dependency) and for compressed capture files.

``gzip`` and its alias ``x-gzip`` (several members too), ``deflate`` as zlib or raw
(servers send both), ``br``, ``zstd`` (several frames too) and ``identity``, stacked in
any order (``gzip, br``: undone right to left), at most ``MAX_CODINGS`` of them.

A kilobyte of gzip, brotli or zstd can expand to gigabytes (a decompression bomb), and
every byte the recorder sees may come from an attacker. So decoding streams: each coding
is undone in bounded steps, only the first ``keep`` bytes of the result are kept, and a
body whose codings give more than ``limit`` bytes (at any stage of a stack) is refused
with ``TooLarge``. Time is linear in the bytes produced, which the limit bounds; memory is
``keep`` plus one step per coding. A body that does not decode as it claims raises
``Undecodable``: the caller drops it rather than store bytes the sanitizer cannot read.
``decode`` takes a whole body; ``Decoding`` takes one as it arrives.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

#: Decoded bytes a body may expand to before it is dropped as a decompression bomb (the
#: recorder allows its body cap instead, when that is larger).
LIMIT = 32 * 1024 * 1024
#: More codings than this on one body are refused (real servers stack two at most).
MAX_CODINGS = 4
#: Output of one decompression step (zlib, brotli).
_STEP = 256 * 1024
#: Input of one zstd step: a zstd block of 4 bytes can expand to 128 KiB, so 128 bytes of
#: input give at most about 4 MiB (python-zstandard's streaming API takes no output limit).
_ZSTD_STEP = 128
#: Input of one brotli step when the installed brotli has no output limit (before 1.2):
#: a brotli meta-block, at least a few bytes, expands to 16 MiB at most.
_BROTLI_STEP = 8

#: zlib's window bits for "gzip only" and "raw deflate".
_GZIP = 16 + zlib.MAX_WBITS
_RAW = -zlib.MAX_WBITS


class Undecodable(ValueError):
    """A body does not decode as its Content-Encoding says; ``str()`` is the reason, as a
    redaction gives it (``not decodable as gzip``)."""


class TooLarge(Undecodable):
    """A body's codings give more than the limit (``decompressed size over limit``)."""

    REASON = "decompressed size over limit"


class Decoded(NamedTuple):
    """A decoded body: its first ``keep`` bytes and the size of all of it."""

    body: bytes
    size: int


def codings(header: str) -> list[str]:
    """``"gzip, x-gzip"`` -> ``["gzip", "gzip"]``, identity left out, in applied order."""
    out = []
    for item in header.lower().split(","):
        name = item.strip()
        if name and name != "identity":
            out.append("gzip" if name == "x-gzip" else name)
    return out


def decode(
    data: bytes,
    header: str,
    *,
    partial: bool = False,
    keep: int = sys.maxsize,
    limit: int = LIMIT,
) -> Decoded:
    """``data`` with every coding of ``header`` undone: its first ``keep`` bytes, and its size.

    ``partial``: ``data`` is the start of a longer body (cut by a cap); what decodes of it
    is returned (when something does). An empty body decodes to nothing whatever its
    header says. Raises ``TooLarge`` when a coding gives more than ``limit`` bytes and
    ``Undecodable`` when one does not apply (unknown, damaged, or cut short unless
    ``partial``).
    """
    if not data:  # a HEAD or 304 answer keeps its Content-Encoding: nothing to undo
        return Decoded(b"", 0)
    stream = Decoding(header, keep=keep, limit=limit)
    stream.feed(data)
    return stream.close(partial=partial)


def known(header: str) -> bool:
    """Whether ``Decoding`` can undo every coding ``header`` names."""
    names = codings(header)
    return len(names) <= MAX_CODINGS and all(name in _STAGES for name in names)


class Decoding:
    """A body's codings undone as its bytes arrive (a client reading a response): ``feed``
    each piece, then ``close``. The same limits as ``decode``: ``TooLarge`` as soon as a
    coding has given more than ``limit`` bytes, only the first ``keep`` bytes kept.

    Raises ``Undecodable`` at once for a header naming a coding not known, or too many.
    """

    def __init__(self, header: str, *, keep: int = sys.maxsize, limit: int = LIMIT) -> None:
        self.header = header.strip().lower()
        self.limit = limit
        names = codings(header)
        if len(names) > MAX_CODINGS:
            raise Undecodable(f"not decodable as {self.header}")
        self._stages: list[_Stage] = []
        for name in reversed(names):
            make = _STAGES.get(name)
            if make is None:
                raise Undecodable(f"not decodable as {self.header}")
            self._stages.append(_Stage(make(), limit))
        self._sink = _Sink(keep)
        self._fed = False

    @property
    def size(self) -> int:
        """Decoded bytes so far."""
        return self._sink.size

    def feed(self, data: bytes) -> None:
        """Undo the codings of the next piece of the body."""
        if not data:
            return
        self._fed = True
        try:
            _pump(self._stages, 0, data, self._sink)
        except TooLarge:
            raise
        except Exception:  # zlib.error, brotli.error, zstandard.ZstdError...
            raise Undecodable(f"not decodable as {self.header}") from None

    def take(self) -> bytes:
        """The kept bytes decoded since the last ``take`` (a caller that keeps them itself,
        so they are not held twice)."""
        kept = self._sink.kept
        self._sink.kept = []
        return kept[0] if len(kept) == 1 else b"".join(kept)

    def close(self, *, partial: bool = False) -> Decoded:
        """The decoded body (what was not taken): ``partial`` as for ``decode``. A body
        that was empty decodes to nothing."""
        if not self._fed:
            return Decoded(b"", 0)
        complete = all(stage.decoder.done() for stage in self._stages)
        if not complete and (not partial or not self._sink.size):
            # Cut short, or cut and not one byte of it decoded.
            raise Undecodable(f"not decodable as {self.header}")
        return Decoded(self.take(), self._sink.size)


class _Decoder:
    """One coding, undone in steps: ``feed`` yields its output in bounded pieces."""

    def feed(self, data: bytes) -> Iterator[bytes]:
        raise NotImplementedError

    def done(self) -> bool:
        """The input so far ends a whole stream (not cut inside a member or frame)."""
        raise NotImplementedError


class _Stage:
    """A decoder and the bytes it produced so far, against the limit."""

    __slots__ = ("decoder", "limit", "produced")

    def __init__(self, decoder: _Decoder, limit: int) -> None:
        self.decoder = decoder
        self.limit = limit
        self.produced = 0


class _Sink:
    """The end of the stages: keeps the first ``keep`` bytes, counts them all."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.kept: list[bytes] = []
        self.size = 0

    def take(self, data: bytes) -> None:
        room = self.keep - self.size
        if room > 0:
            self.kept.append(data[:room] if len(data) > room else data)
        self.size += len(data)


def _pump(stages: list[_Stage], i: int, data: bytes, sink: _Sink) -> None:
    """Feed ``data`` to stage ``i`` and each of its output pieces on to the next stage."""
    if i == len(stages):
        sink.take(data)
        return
    stage = stages[i]
    for piece in stage.decoder.feed(data):
        stage.produced += len(piece)
        if stage.produced > stage.limit:
            raise TooLarge(TooLarge.REASON)
        _pump(stages, i + 1, piece, sink)


class _Gunzip(_Decoder):
    """Every member of a gzip stream in turn (RFC 1952 allows several), NUL padding
    between members skipped (it is common)."""

    def __init__(self) -> None:
        self.member = zlib.decompressobj(_GZIP)
        self.between = False  # after a whole member

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self.between:
                data = data.lstrip(b"\0")
                if not data:
                    return
                self.member = zlib.decompressobj(_GZIP)
                self.between = False
            out = self.member.decompress(data, _STEP)
            if out:
                yield out
            if self.member.eof:
                data, self.between = self.member.unused_data, True
            else:
                data = self.member.unconsumed_tail

    def done(self) -> bool:
        return self.between


class _Inflate(_Decoder):
    """``deflate``: a zlib stream (RFC 9110 section 8.4.1.2), or raw deflate as some
    servers send it; the first two bytes tell them apart (a zlib header, RFC 1950: method
    8, a window of at most 32 KB, a multiple of 31). Bytes after the stream are ignored."""

    def __init__(self) -> None:
        self.head = b""
        self.stream: Any = None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.stream is None:
            data = self.head + data
            if len(data) < 2:
                self.head = data
                return
            cmf = data[0]
            wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and int.from_bytes(data[:2]) % 31 == 0
            self.stream = zlib.decompressobj(zlib.MAX_WBITS if wrapped else _RAW)
        while data and not self.stream.eof:
            out = self.stream.decompress(data, _STEP)
            if out:
                yield out
            data = self.stream.unconsumed_tail

    def done(self) -> bool:
        return self.stream is not None and bool(self.stream.eof)


class _Unbrotli(_Decoder):
    """``br``, with brotli's output limit (brotli 1.2), or in small input steps before it."""

    def __init__(self) -> None:
        import brotli  # type: ignore[import-untyped]

        self.stream = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        if _brotli_limits():
            out = self.stream.process(data, output_buffer_limit=_STEP)
            while True:
                if out:
                    yield out
                if self.stream.can_accept_more_data():
                    return
                out = self.stream.process(b"", output_buffer_limit=_STEP)
        view = memoryview(data)
        for at in range(0, len(view), _BROTLI_STEP):
            out = self.stream.process(view[at : at + _BROTLI_STEP])
            if out:
                yield out

    def done(self) -> bool:
        return bool(self.stream.is_finished())


class _Unzstd(_Decoder):
    """``zstd``: every frame in turn (RFC 8878 allows several), fed in small steps."""

    def __init__(self) -> None:
        import zstandard

        self.make = zstandard.ZstdDecompressor().decompressobj
        self.frame = self.make()
        self.between = False  # after a whole frame

    def feed(self, data: bytes) -> Iterator[bytes]:
        for at in range(0, len(data), _ZSTD_STEP):
            piece = data[at : at + _ZSTD_STEP]
            while piece:
                if self.between:
                    self.frame = self.make()
                    self.between = False
                out = self.frame.decompress(piece)
                if out:
                    yield out
                piece = b""
                if self.frame.eof:
                    piece, self.between = self.frame.unused_data, True

    def done(self) -> bool:
        return self.between


_BROTLI_LIMITS: list[bool] = []


def _brotli_limits() -> bool:
    """Whether the installed brotli takes ``output_buffer_limit`` (1.2 and later)."""
    if not _BROTLI_LIMITS:
        import brotli

        try:
            brotli.Decompressor().process(b"", output_buffer_limit=1)
            _BROTLI_LIMITS.append(True)
        except TypeError:
            _BROTLI_LIMITS.append(False)
    return _BROTLI_LIMITS[0]


_STAGES: dict[str, Callable[[], _Decoder]] = {
    "gzip": _Gunzip,
    "deflate": _Inflate,
    "br": _Unbrotli,
    "zstd": _Unzstd,
}
