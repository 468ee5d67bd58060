"""Letters and digits beyond ASCII told from other characters, for a whole text at once.

A pseudonym turns each letter or digit beyond ASCII (``str.isalnum``) into a lower-case
ASCII letter and keeps every other character beyond ASCII. Told one character at a time
(a regular expression's matches, ``str.translate`` with a dict) that costs 40 to 120 ns
a character, so a secret of kilobytes of such text would cost more than anything else
the sanitizer does with it. Here a long text is told in a few whole-text operations in
C++: its code points are looked up all at once in a table of every code point's class
(Arrow's ``take``), and its kept characters are put back the same way (``if_else``),
about 4 ns a character. The table (1.1 MB) is built on first use, from the same regular
expression the short path uses, so both tell every character alike.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (text decoded with surrogateescape) as U+FFFD,
    one character for one: RE2 takes UTF-8, which cannot hold them; neither is a word,
    digit nor space. One regular expression, not ``str.translate`` with a table, which
    looks every character up in Python."""
    return _SURROGATE.sub("\ufffd", text)


#: A letter or digit beyond ASCII (``str.isalnum``), and any character beyond ASCII.
NON_ASCII_ALNUM = re.compile(r"(?![\x00-\x7f])[^\W_]")
NON_ASCII = re.compile(r"[^\x00-\x7f]")
#: What a letter or digit beyond ASCII stands as in ``marked``, and any other character
#: beyond ASCII (kept, like punctuation).
LETTER = "z"
KEPT = "\x00"
_CODE_POINTS = 0x110000
#: What a kept character stands as in the table (no ASCII character: told apart from NUL).
_KEPT_CODE = 0x80
#: Runs of letters and digits (ASCII too: the table's first 128 are set afterwards).
_RUNS = re.compile(r"[^\W_]+")
#: The table's values as ``marked``'s characters.
_TO_MARKED = bytes(ord(KEPT) if i == _KEPT_CODE else i for i in range(256))


@lru_cache(maxsize=1)
def _table() -> Any:
    """Per code point: itself (ASCII), LETTER (a letter or digit beyond ASCII) or
    _KEPT_CODE (any other character beyond ASCII), as an Arrow uint8 array."""
    import pyarrow as pa  # the sanitizer's import stays light until a long text needs it

    table = bytearray([_KEPT_CODE]) * _CODE_POINTS
    for found in _RUNS.finditer(_every()):
        start, end = found.span()
        table[start:end] = LETTER.encode() * (end - start)
    table[:128] = bytes(range(128))
    return pa.Array.from_buffers(pa.uint8(), len(table), [None, pa.py_buffer(bytes(table))])


def _every() -> str:
    """Every code point, in order (built as UTF-32 lanes: a range of ints is slow)."""
    lanes = bytearray(4 * _CODE_POINTS)
    lanes[0::4] = bytes(range(256)) * (_CODE_POINTS // 256)
    lanes[1::4] = b"".join(bytes([block & 0xFF]) * 256 for block in range(_CODE_POINTS // 256))
    lanes[2::4] = b"".join(bytes([plane]) * 0x10000 for plane in range(_CODE_POINTS // 0x10000))
    return lanes.decode("utf-32-le", "surrogatepass")


def prepare() -> None:
    """Import Arrow's compute functions and build the table now (about 0.2 s, once per
    process), rather than in the exchange that first holds a long text beyond ASCII."""
    import pyarrow.compute  # noqa: F401

    _table()


class Marked:
    """A text beyond ASCII as ASCII (``marked``), and how to put its kept characters back.

    ``marked`` has each ASCII character as it is, each letter or digit beyond ASCII as
    LETTER and each other character beyond ASCII as KEPT, one for one, so it is exactly
    ``NON_ASCII.sub(KEPT, NON_ASCII_ALNUM.sub(LETTER, text))``.
    """

    __slots__ = ("_codes", "_kept", "kept", "marked")

    def __init__(self, text: str) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        data = text.encode("utf-32-le", "surrogatepass")
        self._codes = pa.Array.from_buffers(pa.uint32(), len(text), [None, pa.py_buffer(data)])
        classes = pc.take(_table(), self._codes)
        self.marked: str = _bytes(classes, 1).translate(_TO_MARKED).decode("ascii")
        self._kept = pc.equal(classes, _kept_code())
        #: Whether the text holds a character beyond ASCII that is no letter or digit.
        self.kept: bool = self._kept.true_count > 0

    def put_back(self, shaped: str) -> str:
        """``shaped`` (ASCII, as long as the text) with the text's kept characters back
        in their places."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not self.kept:
            return shaped
        data = shaped.encode("utf-32-le")
        codes = pa.Array.from_buffers(pa.uint32(), len(shaped), [None, pa.py_buffer(data)])
        out = pc.if_else(self._kept, self._codes, codes)
        return _bytes(out, 4).decode("utf-32-le", "surrogatepass")


@lru_cache(maxsize=1)
def _kept_code() -> Any:
    import pyarrow as pa

    return pa.scalar(_KEPT_CODE, pa.uint8())


def _bytes(values: Any, width: int) -> bytes:
    """An Arrow array's values (``width`` bytes each) as bytes."""
    start = values.offset * width
    return memoryview(values.buffers()[1])[start : start + len(values) * width].tobytes()
