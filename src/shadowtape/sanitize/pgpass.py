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

#: A field: characters other than ``:``, ``\``, quotes and blanks, or an escaped ``:`` or
#: ``\``.
_CHAR = r"""(?:[^:\\\s"']|\\[:\\])"""
_FIELD = rf"{_CHAR}+"
_HOST = rf"(?:\*|{_CHAR}*(?:[A-Za-z./\[]|\\:){_CHAR}*)"
_PORT = r"(?:\*|[0-9]{2,5})"
#: A line: after a line break, also one escaped inside a JSON text (``\n``), or a quote
#: (a JSON string holding one entry), up to the same.
_OPEN = r"""(?:^|["']|\\[nr])"""
_CLOSE = r"""(?:\r?$|["']|\\[nr])"""
_LINE_TEXT = rf"(?m){_OPEN}[ \t]*{_HOST}:{_PORT}:{_FIELD}:{_FIELD}:{_FIELD}[ \t]*{_CLOSE}"
#: ASCII text is searched as bytes (offsets are the same); other text as str, with lone
#: surrogates (which UTF-8 cannot hold) read as U+FFFD, one character for one.
_LINE_BYTES = re2.compile(_LINE_TEXT.encode())
_LINE_STR = re2.compile(_LINE_TEXT)
_SURROGATES = dict.fromkeys(range(0xD800, 0xE000), 0xFFFD)
#: The opening, blanks, then four fields each with its ``:``: the password starts where
#: this ends, and runs on over field characters. Possessive runs, each character read once.
_HEAD = re.compile(r"""(?:["']|\\[nr])?[ \t]*+(?:(?:[^:\\\s"']++|\\[:\\])*+:){4}""")
_PASSWORD = re.compile(r"""(?:[^:\\\s"']++|\\[:\\])*+""")
#: Colons a text needs before it can hold an entry (a quick test before the RE2 pass).
MIN_COLONS = 4


def may_hold_entry(text: str) -> bool:
    return text.count(":") >= MIN_COLONS


def entry_spans(text: str) -> Iterator[tuple[int, int]]:
    """Where the password of each ``.pgpass`` line in ``text`` is.

    Each search resumes where the last password ended, so the line break or quote that
    closed one entry can open the next."""
    if text.isascii():
        data: str | bytes = text.encode("ascii")
        pattern = _LINE_BYTES
    else:
        data = text.translate(_SURROGATES)
        pattern = _LINE_STR
    found = pattern.search(data)
    while found is not None:
        head = _HEAD.match(text, found.start())
        if head is None:  # pragma: no cover - the line pattern holds four fields
            return
        password = _PASSWORD.match(text, head.end())
        end = password.end() if password is not None else head.end()
        if head.end() < end:
            yield head.end(), end
        found = pattern.search(data, max(end, found.start() + 1))
