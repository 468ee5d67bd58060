"""Dotted numbers labelled as a version: a build number, not a card.

A card grouped with dots (``4111.1111.1111.1111``) has the shape of a four-part build
number (``6011.0000.0000.0004``), and a random one passes Luhn one time in ten. A dotted
number is therefore no card when a version label stands right before it: a name ending
in ``version``, ``build``, ``release``, ``revision`` or ``firmware`` (``FileVersion``,
``app_version``, ``buildNumber``, ``<Version>``), or the word ``v``, ``ver``, ``vers``,
``rev``, ``rel`` or ``fw``, then at most six blanks, quotes, ``:``, ``=``, ``>``, ``#``
or ``.`` (``version: ``, ``"version": "``, ``ver. ``, ``build #``).

Why no card gets through: only the dotted groupings are affected (a card with blanks,
dashes or no separators is a card whatever stands before it), and a label must name
the number a version at once; ``card 4111.1111.1111.1111`` or ``paid with
4111.1111.1111.1111`` is still a card. One RE2 pass, run only on text that holds a
card's shape.
"""

from __future__ import annotations

import re2

from shadowtape.sanitize.commandline import searchable
from shadowtape.sanitize.names import words

_LONG = r"(?i:version|build|release|revision|firmware)"
#: A long word after a non-letter (``app_version``) or ending a camelCase name.
_LONG_WORDS = rf"(?:(?:^|[^A-Za-z]){_LONG}|[a-z0-9](?:Version|Build|Release|Revision|Firmware))"
_SHORT_WORDS = r"(?:^|[^A-Za-z])(?i:v|ver|vers|rev|rel|fw)"
_SUFFIX = r"(?:[_\-. ]?(?i:number|num|no|nr|id|string|str))?"
#: The label, its separators, and a dotted card's first group and dot.
_LABELLED_TEXT = rf"(?:{_LONG_WORDS}|{_SHORT_WORDS}){_SUFFIX}[ \t:=\"'>#.]{{1,6}}[2-6][0-9]{{3}}\."
_LABELLED_BYTES = re2.compile(_LABELLED_TEXT.encode())
_LABELLED_STR = re2.compile(_LABELLED_TEXT)
#: The first group and its dot, at the end of each match.
_GROUP = 5


def labelled_starts(text: str) -> frozenset[int]:
    """Where each dotted number that follows a version label starts in ``text``."""
    data = searchable(text)
    pattern = _LABELLED_BYTES if isinstance(data, bytes) else _LABELLED_STR
    return frozenset(found.end() - _GROUP for found in pattern.finditer(data))


_LONG_NAMES = frozenset({"version", "build", "release", "revision", "firmware"})
_SHORT_NAMES = frozenset({"v", "ver", "vers", "rev", "rel", "fw"})
_NAME_SUFFIXES = frozenset({"number", "num", "no", "nr", "id", "string", "str"})


def names_version(name: str, value: str) -> bool:
    """Is ``value`` a dotted number under a name that labels a version (a JSON key, a
    query or form parameter: ``"FileVersion": "6011.0000.0000.0004"``, ``build_no=...``)?
    The same labels as in text; the value is digits and dots only, so no detector but
    the card one could find anything in it."""
    if "." not in value or not value.replace(".", "").isdigit() or not value.isascii():
        return False
    parts = words(name)
    if len(parts) > 1 and parts[-1] in _NAME_SUFFIXES:
        parts = parts[:-1]
    return bool(parts) and (parts[-1] in _LONG_NAMES or parts[-1] in _SHORT_NAMES)
