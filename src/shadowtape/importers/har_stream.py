"""A HAR document read as a stream, so a file of any size imports in bounded memory.

Two passes over the file, each decompressing it again as a stream (gzip ``.har.gz``,
zlib ``.zhar``) within ``max_decompressed``:

1. ``outline`` checks all of it before anything is imported, as parsing it whole did: the
   JSON parses to the end, nests at most 1024 levels (orjson's limit), and has a
   ``log.entries`` list. A bad file is one error and nothing is written.
2. ``entries`` yields the entries one at a time (ijson's C parser builds each as the
   Python objects orjson would), so what is held is one entry, never the document.

JSON that lets an object repeat a key keeps the last value (as orjson does): when
``log`` or ``entries`` is repeated, or a key with dots in it looks like the path to the
entries, pass 2 follows the structure pass 1 found instead of matching the path. The C
parser refuses integers beyond 64 bits, which orjson reads (as floats): such a file is
read with ijson's pure-Python parser, about fifteen times slower.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

import ijson  # type: ignore[import-untyped]

from shadowtape.coding import Decoding, TooLarge, Undecodable
from shadowtape.errors import CaptureError
from shadowtape.importers.base import open_capture, unreadable

#: Bytes a compressed HAR (``.har.gz``, ``.zhar``) may decompress to: a long session's HAR
#: can run to gigabytes, but a few megabytes of gzip can expand to terabytes. It is
#: decompressed as a stream (the text is never held whole), so this bounds work, not memory.
MAX_DECOMPRESSED = 4 << 30
#: The deepest nesting accepted (orjson's limit, which parsing the file whole had).
MAX_DEPTH = 1024
#: Bytes the parser asks for at a time.
_BUFFER = 1 << 16
#: Compressed bytes decompressed at a time: gzip expands at most ~1,000-fold, so one
#: step holds at most ~16 MB however the file was made.
_COMPRESSED_CHUNK = 1 << 14
_BOM = b"\xef\xbb\xbf"
_FAST = ijson.get_backend("yajl2_c")
_SLOW = ijson.get_backend("python")
_STARTS = frozenset({"start_map", "start_array"})
_ENDS = frozenset({"end_map", "end_array"})
_CREATOR = frozenset({"log.creator.name", "log.creator.version"})


class _Text:
    """The JSON text of a HAR file as a binary stream for the parser: compression undone
    within ``limit``, a UTF-8 byte-order mark dropped. ``consumed`` counts what the parser
    was given, so an error can say how far into the text it is."""

    def __init__(self, handle: BinaryIO, label: str, limit: int) -> None:
        self.label = label
        self.consumed = 0
        self._handle = handle
        self._pending = bytearray()
        self._decoding: Decoding | None = None
        self._limit = limit
        self._coding = ""
        head = self._read(2)
        if head == b"\x1f\x8b":
            self._coding = "gzip"
        elif len(head) == 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0:
            self._coding = "deflate"
        if self._coding:
            self._decoding = Decoding(self._coding, limit=limit)
            self._decompress(head)
        else:
            self._pending += head
        while len(self._pending) < len(_BOM) and self._fill():
            pass
        if self._pending.startswith(_BOM):
            del self._pending[: len(_BOM)]
        #: The first bytes of the text, to tell what else the file may be.
        self.head = bytes(self._pending[:64])

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._pending) < size) and self._fill():
            pass
        if size < 0 or size >= len(self._pending):
            out = bytes(self._pending)
            self._pending.clear()
        else:
            out = bytes(self._pending[:size])
            del self._pending[:size]
        self.consumed += len(out)
        return out

    def drain(self) -> None:
        """Decompress the rest, unread: CaptureError if it is damaged or too large."""
        if self._decoding is None:
            return
        while self._fill():
            self._pending.clear()

    def _fill(self) -> bool:
        """More text into the pending buffer; False at the end of the file."""
        if self._decoding is None:
            piece = self._read(_BUFFER)
            self._pending += piece
            return bool(piece)
        piece = self._read(_COMPRESSED_CHUNK)
        if not piece:
            try:
                self._decoding.close()
            except Undecodable:
                raise self._damaged() from None
            self._decoding = None
            return False
        self._decompress(piece)
        return True

    def _read(self, size: int) -> bytes:
        try:
            return self._handle.read(size)
        except OSError as exc:
            raise unreadable(self.label, exc) from None

    def _decompress(self, piece: bytes) -> None:
        assert self._decoding is not None
        try:
            self._decoding.feed(piece)
        except TooLarge:
            raise CaptureError(
                f"{self.label}: decompresses to more than {_size(self._limit)}, the limit (a "
                "decompression bomb?); if it is a real capture, raise --max-decompressed or "
                "decompress it first"
            ) from None
        except Undecodable:
            raise self._damaged() from None
        self._pending += self._decoding.take()

    def _damaged(self) -> CaptureError:
        what = "gzip-compressed" if self._coding == "gzip" else "zlib-compressed HAR"
        return CaptureError(f"{self.label}: {what} but damaged (not decodable as {self._coding})")


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"


@dataclass(frozen=True, slots=True)
class Outline:
    """What pass 1 found: enough to read the entries in pass 2 exactly as a parse of the
    whole file would give them."""

    #: The writer, "name version" from ``log.creator`` ("" when it says none).
    creator: str
    #: Entries in the ``log.entries`` list that counts (the last one, if repeated).
    entries: int
    #: Which value of ``log.entries`` in the file is that list (0 = the first).
    occurrence: int
    #: Only that list's items have the path ``log.entries.item``: pass 2 may match it.
    by_path: bool
    #: A number needs the pure-Python parser (an integer beyond 64 bits).
    slow: bool


class _TooDeep(Exception):
    pass


class _Walk:
    """Pass 1's state, fed one parser event at a time: the nesting, which value is the
    document's ``log.entries`` list, and the writer."""

    def __init__(self) -> None:
        self.depth = 0
        self.top_key: Any = None
        self.log_key: Any = None
        self.in_log = False
        self.log_is_map = False
        self.in_entries = False
        self.occurrences = 0
        #: (occurrence, is a list, items) of the last ``entries`` of the last ``log``.
        self.current: tuple[int, bool, int] | None = None
        self.by_path = 0
        self.creator: dict[str, Any] = {}

    def run(self, events: Iterator[tuple[str, str, Any]]) -> None:
        for prefix, event, value in events:
            if event == "map_key":
                if self.depth == 1:
                    self.top_key = value
                elif self.depth == 2 and self.in_log:
                    self.log_key = value
                continue
            if event in _ENDS:
                self.depth -= 1
                if self.depth == 2:
                    self.in_entries = False
                elif self.depth == 1:
                    self.in_log = False
                continue
            # A value starts here.
            if prefix == "log.entries.item":
                self.by_path += 1
            depth = self.depth
            if depth == 3 and self.in_entries:
                assert self.current is not None
                occurrence, is_list, count = self.current
                self.current = (occurrence, is_list, count + 1)
            elif depth == 2 and self.in_log:
                if self.log_key == "entries":
                    self.in_entries = event == "start_array"
                    self.current = (self.occurrences, self.in_entries, 0)
                    self.occurrences += 1
                elif self.log_key == "creator":
                    self.creator = {}
            elif depth == 1 and self.top_key == "log":
                self.in_log = self.log_is_map = event == "start_map"
                self.current = None
                self.log_key = None
            elif depth == 3 and self.in_log and prefix in _CREATOR:
                self.creator[prefix[12:]] = value
            if event in _STARTS:
                self.depth = depth + 1
                if depth >= MAX_DEPTH:
                    raise _TooDeep


def outline(path: str | os.PathLike[str], *, max_decompressed: int = MAX_DECOMPRESSED) -> Outline:
    """Pass 1: the file checked whole, or CaptureError saying what is wrong with it."""
    try:
        walk = _check(path, max_decompressed, _FAST)
        slow = False
    except _Overflow:
        walk = _check(path, max_decompressed, _SLOW)
        slow = True
    label = os.fspath(path)
    current = walk.current
    if not walk.log_is_map or current is None or not current[1]:
        raise CaptureError(f"{label}: not a HAR file (no log.entries list in the JSON)")
    occurrence, _, count = current
    creator = " ".join(str(walk.creator.get(k) or "") for k in ("name", "version")).strip()
    return Outline(
        creator=creator,
        entries=count,
        occurrence=occurrence,
        by_path=walk.by_path == count,
        slow=slow,
    )


class _Overflow(Exception):
    """The C parser met an integer it cannot hold."""


def _check(path: str | os.PathLike[str], limit: int, backend: Any) -> _Walk:
    walk = _Walk()
    with _open(path, limit) as text:
        try:
            walk.run(backend.parse(text, buf_size=_BUFFER, use_float=True))
        except _TooDeep:
            error = CaptureError(
                f"{text.label}: not a HAR file, the JSON does not parse (nested deeper than "
                f"{MAX_DEPTH} levels, within its first {text.consumed:,} bytes)"
            )
        except ijson.JSONError as exc:
            if backend is _FAST and "integer overflow" in _first_line(exc):
                raise _Overflow from None
            error = _not_json(text, exc)
        else:
            return walk
        # A file that is not JSON may still be a decompression bomb or damaged: that
        # is what it is first, as when it was decompressed whole before parsing.
        text.drain()
        raise error


def _first_line(exc: Exception) -> str:
    """The parser's reason without the excerpt of the file it adds (it may hold secrets)."""
    reason: Any = exc.args[0] if exc.args else ""
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return (str(reason).strip().splitlines() or [type(exc).__name__])[0].strip()


def _not_json(text: _Text, exc: Exception) -> CaptureError:
    reason = _first_line(exc)
    if isinstance(exc, ijson.IncompleteJSONError) and (
        "premature EOF" in reason or "Incomplete JSON content" in reason
    ):
        reason = f"it ends inside the JSON, after {text.consumed:,} bytes: cut short?"
    else:
        reason = f"{reason}, within its first {text.consumed:,} bytes"
    hint = ""
    if re.match(rb"\d+:", text.head):
        hint = "; it looks like a mitmproxy dump: use 'shadowtape import mitm'"
    elif re.match(rb"[123] \S+ \d+", text.head):
        hint = "; it looks like a GoReplay capture: use 'shadowtape import gor'"
    return CaptureError(f"{text.label}: not a HAR file, the JSON does not parse ({reason}){hint}")


def entries(
    path: str | os.PathLike[str],
    found: Outline,
    *,
    max_decompressed: int = MAX_DECOMPRESSED,
) -> Iterator[Any]:
    """Pass 2: the entries of the list ``found`` names, one at a time, in file order."""
    backend = _SLOW if found.slow else _FAST
    with _open(path, max_decompressed) as text:
        try:
            if found.by_path:
                items = backend.items(text, "log.entries.item", buf_size=_BUFFER, use_float=True)
            else:
                events = backend.parse(text, buf_size=_BUFFER, use_float=True)
                items = ijson.items(_only(events, found.occurrence), "log.entries.item")
            for entry in items:
                yield _as_orjson_reads(entry) if found.slow else entry
        except ijson.JSONError as exc:  # the file changed since pass 1
            raise _not_json(text, exc) from None


def _only(events: Iterator[tuple[str, str, Any]], occurrence: int) -> Iterator[Any]:
    """The events inside the ``occurrence``-th ``log.entries`` list (as ``_Walk`` counts)."""
    walk = _Walk()
    inside = False
    for event in events:
        depth = walk.depth
        walk.run(iter((event,)))
        if inside:
            if walk.depth < 3:
                return
            yield event
        elif depth == 2 and walk.in_entries and walk.occurrences == occurrence + 1:
            inside = True


def _as_orjson_reads(value: Any) -> Any:
    """Integers beyond 64 bits as floats, as orjson reads them (the pure-Python parser
    keeps them exact), so an entry is the same whichever parser read it."""
    if _huge(value):
        return float(value)
    todo = [value] if isinstance(value, dict | list) else []
    while todo:
        node = todo.pop()
        for key, item in node.items() if isinstance(node, dict) else enumerate(node):
            if _huge(item):
                node[key] = float(item)
            elif isinstance(item, dict | list):
                todo.append(item)
    return value


def _huge(value: Any) -> bool:
    return type(value) is int and not -(1 << 63) <= value < 1 << 64


@contextmanager
def _open(path: str | os.PathLike[str], limit: int) -> Iterator[_Text]:
    """The file's JSON text, the file closed after."""
    with open_capture(path) as handle:
        yield _Text(handle, os.fspath(path), limit)
