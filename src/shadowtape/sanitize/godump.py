"""Fields of a Go value printed with ``%+v``: ``{Host:db Password:hunter2 Token:abc}``.

Go's ``%+v`` writes a struct as ``{Name:value Name:value}`` (``&{...}`` through a
pointer) and a map as ``map[name:value name:value]``, with strings unquoted, so a log
line that dumps a config or a request carries its secrets as ``Password:hunter2`` in
the middle of a line, where neither a ``name: value`` line nor a quoted pair is. A field
is taken as such when its name is followed by ``:`` and a value with no blank before it,
up to the next blank, ``}`` or ``]`` (so a password with blanks in it is cut at the
first), inside a group on the same line: a ``{`` behind it and a ``}`` after it (or
``map[`` and ``]``), no further than ``REACH`` characters either way, and the group is a
dump: ``&{``, ``map[`` or a ``{`` group with more than one field (a blank in it). So a
route template ``/users/{token:guid}`` or a format string ``{password:>10}`` is not.
"""

from __future__ import annotations

import re

import re2

from shadowtape.sanitize import constants

#: How far back the group's opening, and how far ahead its closing, are looked for.
REACH = 1024
#: A name, ``:``, then a value that opens with neither a blank, a quote nor a bracket
#: (``%#v`` quotes strings, which the quoted-pair rule reads; a nested struct or a slice
#: is no secret string). Possessive: read once.
_FIELD = re.compile(r"(?P<k>[A-Za-z_][\w.\-]{0,63}+):(?P<v>[^\s{}\[\]\"'][^\s{}\[\]]{0,4095}+)")
_CLOSERS = {"{": "}", "[": "]"}


def field_at(text: str, start: int) -> tuple[str, int, int] | None:
    """(name, value start, value end) of a ``%+v`` field whose name starts at ``start``,
    or None when there is none."""
    if start == 0 or text[start - 1] not in "{[ ":
        return None
    found = _FIELD.match(text, start)
    if found is None:
        return None
    end = found.end()
    if end < len(text) and text[end] not in " }]":
        return None  # the value runs on into something else (a quote, a newline)
    low = max(0, start - REACH)
    line = max(text.rfind("\n", low, start), text.rfind("\r", low, start))
    low = max(low, line + 1)
    opener = max(text.rfind("{", low, start), text.rfind("[", low, start))
    if opener < 0:
        return None
    if text[opener] == "[" and not text.startswith("map", opener - 3):
        return None
    high = min(len(text), end + REACH)
    closer = text.find(_CLOSERS[text[opener]], end, high)
    newline = text.find("\n", end, high)
    if closer < 0 or 0 <= newline < closer:
        return None
    pointer = text.startswith("&", opener - 1) or text[opener] == "["
    if not pointer and text.find(" ", opener, closer) < 0:
        return None  # {token:guid}: one field, no blank, no pointer
    if constants.kept(found.group("v"), whole=False):
        return None  # Token:<nil>, APIKey:***: nothing there
    return found.group("k"), found.start("v"), end


#: A field's start as ``field_at`` wants it, searched in C: whether a JSON document's
#: strings may hold a dump (a key of the document itself is quoted, so it is not one).
_HINT = re2.compile(rb"""[{\[ ][A-Za-z_][\w.\-]*:[^\s"'{}\[\]]""")


def may_hold_dump(text: str) -> bool:
    data = text.encode("ascii") if text.isascii() else text.encode("utf-8", "surrogatepass")
    return _HINT.search(data) is not None
