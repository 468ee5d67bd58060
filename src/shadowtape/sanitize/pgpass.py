"""Passwords in PostgreSQL password-file lines: ``host:port:database:user:password``.

A ``.pgpass`` (or ``PGPASSFILE``) line is five fields joined by ``:``, one entry a line;
a field may escape ``:`` or ``\\`` with a backslash, and any but the password may be
``*``. Only that exact shape is taken: a line of its own (blanks around it allowed),
five fields without blanks, a port that is ``*`` or a number of two to five digits, a
host that is ``*`` or holds a letter, ``.``, ``/``, ``[`` or an escaped ``:`` (a name,
an address, a socket directory). So a time (``12:30:00``), an IPv6 address (its second group is no
port, or it has more than five), a MAC address, ratios (``1:2:3:4:5``) and compiler
messages (``a.c:12:5: error: ...``, blanks) are not entries.

One RE2 pass finds the lines; where the password starts is found in C from the line's
start (after its fourth unescaped ``:``). A line may also be one line of a JSON text
(between ``"`` or an escaped ``\\n``), so a document whose string holds a file is
found before it is parsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import re2

from shadowtape.sanitize.commandline import searchable

#: A field: characters other than ``:``, ``\``, quotes, blanks and NUL, or an escaped
#: ``:`` or ``\``.
_CHAR = r"""(?:[^:\\\s"'\x00]|\\[:\\])"""
_FIELD = rf"{_CHAR}+"
_HOST = rf"(?:\*|{_CHAR}*(?:[A-Za-z./\[]|\\:){_CHAR}*)"
#: A port PostgreSQL may listen on: ``*`` or 1024 and above (``cache:1000:user:42:x`` is a
#: cache key, not an entry).
_PORT = r"(?:\*|10[2-9][0-9]|1[1-9][0-9]{2}|[2-9][0-9]{3}|[1-9][0-9]{4})"
#: A line: after a line break, also one escaped inside a JSON text (``\n``), or a quote
#: (a JSON string holding one entry), up to the same.
_OPEN = r"""(?:^|["']|\\[nr])"""
_CLOSE = r"""(?:\r?$|["']|\\[nr])"""
_LINE_TEXT = rf"(?m){_OPEN}[ \t]*{_HOST}:{_PORT}:{_FIELD}:{_FIELD}:{_FIELD}[ \t]*{_CLOSE}"
#: ASCII text is searched as bytes (offsets are the same), other text as str.
_LINE_BYTES = re2.compile(_LINE_TEXT.encode())
_LINE_STR = re2.compile(_LINE_TEXT)
#: The opening, blanks, then four fields each with its ``:``: the password starts where
#: this ends, and runs on over field characters. Possessive runs, each character read once.
_HEAD = re.compile(r"""(?:["']|\\[nr])?[ \t]*+(?:(?:[^:\\\s"']++|\\[:\\])*+:){4}""")
_PASSWORD = re.compile(r"""(?:[^:\\\s"']++|\\[:\\])*+""")
#: Colons a text needs before it can hold an entry, and a port between two of them:
#: quick tests before the line pattern's RE2 pass (a fraction of its cost).
MIN_COLONS = 4
_PORT_HINT = re2.compile(rb":(?:\*|[0-9]{2,5}):")


def _utf8(text: str) -> bytes:
    return text.encode("ascii") if text.isascii() else text.encode("utf-8", "surrogatepass")


def may_hold_entry(text: str) -> bool:
    """Does ``text`` hold an entry? A colon count first, then the RE2 pass: an answer
    about texts joined by NUL (which no field holds) is whether one of them holds one,
    as the multipart skim wants (liveparts)."""
    return _first(text) is not None


#: The last long text searched, and where its first entry's line starts: a text is
#: asked about by its scope, then before its detectors run, then by ``entry_spans``.
_LAST: list[tuple[str, int | None]] = []
#: Shorter texts are searched again: a search costs less than a look-up.
_REMEMBERED = 4096


def _first(text: str) -> int | None:
    known = _LAST[0] if _LAST else None  # one read: other threads may replace it
    if known is not None and known[0] is text:
        return known[1]
    found = None
    if text.count(":") >= MIN_COLONS and _PORT_HINT.search(_utf8(text)) is not None:
        found = _search(text, 0)
    if len(text) >= _REMEMBERED:
        _LAST[:] = [(text, found)]
    return found


def _search(text: str, at: int) -> int | None:
    """Where the next entry's line starts, from ``at``."""
    data = searchable(text)
    found = (_LINE_BYTES if isinstance(data, bytes) else _LINE_STR).search(data, at)
    return None if found is None else found.start()


def entry_spans(text: str) -> Iterator[tuple[int, int]]:
    """Where the password of each ``.pgpass`` line in ``text`` is.

    Each search resumes where the last password ended, so the line break or quote that
    closed one entry can open the next."""
    start = _first(text)
    if start is None:
        return
    data = searchable(text)
    pattern = _LINE_BYTES if isinstance(data, bytes) else _LINE_STR
    while True:
        head = _HEAD.match(text, start)
        if head is None:  # pragma: no cover - the line pattern holds four fields
            return
        password = _PASSWORD.match(text, head.end())
        end = password.end() if password is not None else head.end()
        if head.end() < end and text[head.end() : end] != "*":  # "*": a wildcard in docs
            yield head.end(), end
        found = pattern.search(data, max(end, start + 1))
        if found is None:
            return
        start = found.start()
