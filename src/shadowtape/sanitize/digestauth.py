"""HTTP Digest credentials written outside an ``Authorization`` header.

An ``Authorization`` header is replaced whole by the header rules, but the same line
also turns up in a JSON string, a log line or an error message: ``Digest
username="bob", realm="x", nonce="...", response="6629fae4..."``. The ``response`` is
a hash of the password that can be attacked offline, and ``nonce`` and ``cnonce`` are
what it was computed with, so those three values are replaced wherever the text holds
a Digest response: the word ``Digest``, a blank, then ``key=value`` pairs joined by
commas (values quoted, also as ``\\"`` inside a JSON text, or plain tokens), one of
them ``response`` or ``cnonce``. ``username``, ``realm``, ``uri``, ``qop``, ``nc`` and
``opaque`` are kept.

A challenge (``WWW-Authenticate: Digest realm=..., nonce=..., opaque=...``) is kept
whole: the server sends it to anyone who asks without credentials, so its nonce proves
nothing, and only a client that knows the password can turn it into a ``response``.
A list is a challenge when it holds neither ``response`` nor ``cnonce`` (RFC 7616: a
client always sends ``response``, and ``cnonce`` whenever ``qop`` is used), so a list
that holds the password hash is never read as a challenge.

Two RE2 passes, both in C: one finds each Digest list that holds ``response`` or
``cnonce``, the other finds the three values within it; each value found is paid for
by the caller.
"""

from __future__ import annotations

from collections.abc import Iterator

import re2

from shadowtape.sanitize.commandline import searchable

_VALUE = r'(?:\\?"[^"\\\r\n]*\\?"|[^\s,"\\]+)'
_PARAM = rf"[A-Za-z][A-Za-z0-9_\-]*[ \t]*=[ \t]*{_VALUE}"
_SEP = r"[ \t]*,[ \t]*"
_NAMES = r"(?i:c?nonce|response)"
#: What makes a list a client's response rather than a server's challenge.
_RESPONSE_NAMES = r"(?i:cnonce|response)"
_LIST_TEXT = (
    rf"(?i:\bdigest)[ \t]+(?:{_PARAM}{_SEP})*{_RESPONSE_NAMES}[ \t]*=[ \t]*{_VALUE}"
    rf"(?:{_SEP}{_PARAM})*"
)
#: One of the three within a list, after a blank or a comma (not ``uri="/?response=1"``):
#: the match ends where its value does (before a closing quote). No capturing group:
#: RE2 would extract it with its slower NFA.
_TARGET_TEXT = rf'[ \t,]{_NAMES}[ \t]*=[ \t]*(?:\\?"[^"\\\r\n]*|[^\s,"\\]+)'
_LIST_BYTES = re2.compile(_LIST_TEXT.encode())
_LIST_STR = re2.compile(_LIST_TEXT)
_TARGET_BYTES = re2.compile(_TARGET_TEXT.encode())
_TARGET_STR = re2.compile(_TARGET_TEXT)
#: Literals one of which a Digest list holds (Detector hints).
HINTS = ("igest ", "IGEST ", "igest\t", "IGEST\t")
_OPENING = ' \t\\"'


def digest_spans(text: str) -> Iterator[tuple[int, int]]:
    """Where each ``response``, ``nonce`` and ``cnonce`` value of a Digest list is."""
    data = searchable(text)
    ascii = isinstance(data, bytes)
    lists, targets = (_LIST_BYTES, _TARGET_BYTES) if ascii else (_LIST_STR, _TARGET_STR)
    for found in lists.finditer(data):
        start, end = found.span()
        for target in targets.finditer(data, start, end):
            at, value_end = target.span()
            value_start = text.index("=", at, value_end) + 1
            while value_start < value_end and text[value_start] in _OPENING:
                value_start += 1
            if value_start < value_end:
                yield value_start, value_end
