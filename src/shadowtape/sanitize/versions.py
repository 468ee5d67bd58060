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
4111.1111.1111.1111`` is still a card. The label is read back from each dotted card
candidate once it is paid for: a bounded window, a few string operations in C, and the
name split into words only when it ends like a label.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from shadowtape.sanitize.names import words

#: Work units (``Context.spend``, about a microsecond each) per dotted card candidate
#: looked back from for a label (a window sliced and stripped, its name split: ~1 us).
LOOK_BACK_COST = 1

#: What may stand between a label and its number, and how much of it.
_SEPARATORS = " \t:=\"'>#."
_MAX_SEPARATORS = 6
#: How far back a label is read: its separators, then a name of up to _NAME_REACH.
_NAME_REACH = 40
#: A name read backwards from its last character: one bounded run, in C.
_NAME_REVERSED = re.compile(rf"[A-Za-z0-9_\-]{{1,{_NAME_REACH}}}")


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
    return _names_a_version(name)


#: The endings one of which a label's name has, lower-cased (a quick test before words()).
_ENDINGS = tuple(sorted(_LONG_NAMES | _SHORT_NAMES | _NAME_SUFFIXES))
#: How much of a name's end the quick test reads: the longest ending.
_ENDING_REACH = max(map(len, _ENDINGS))


def labelled(text: str, start: int) -> bool:
    """Is ``text[start:]`` a dotted number (``text[start + 4]`` is a dot, as in both of a
    card's dotted groupings) that a version label stands right before?"""
    if text[start + 4 : start + 5] != ".":
        return False
    window = text[max(0, start - _MAX_SEPARATORS - _NAME_REACH) : start]
    name = window.rstrip(_SEPARATORS)
    if not 0 < len(window) - len(name) <= _MAX_SEPARATORS:
        return False
    if not name[-_ENDING_REACH:].lower().endswith(_ENDINGS):
        return False
    found = _NAME_REVERSED.match(name[::-1])
    return found is not None and _names_a_version(found.group(0)[::-1])


def _names_a_version(name: str) -> bool:
    parts = words(name)
    if len(parts) > 1 and parts[-1] in _NAME_SUFFIXES:
        parts = parts[:-1]
    return bool(parts) and (parts[-1] in _LONG_NAMES or parts[-1] in _SHORT_NAMES)


def unlabelled(
    text: str, spans: list[tuple[int, int]], spend: Callable[[int], None] | None
) -> list[tuple[int, int]]:
    """``spans`` (card candidates in ``text``) less the dotted numbers a version label
    names; the dotted ones are paid for with ``spend`` before any is looked back from."""
    dotted = [start for start, _ in spans if text[start + 4 : start + 5] == "."]
    if not dotted:
        return spans
    if spend is not None:
        spend(len(dotted) * LOOK_BACK_COST)
    ruled_out = {start for start in dotted if labelled(text, start)}
    return [span for span in spans if span[0] not in ruled_out] if ruled_out else spans
