"""SAML ``RelayState``: a return URL to keep, or opaque state to replace.

A service provider puts one of two things in ``RelayState``: a key into its own session
store (a secret, replaced whole as OAuth's ``state`` is), or where to send the user back
after login (``/dashboard``, ``https://app.example/orders?tab=open``), which is no secret
and which a replay and a diff need as it was. A value is read as a return URL only when
it is written as one:

* an absolute ``http`` or ``https`` URL with a host, or
* a path from the root (``/``, not ``//``) whose every segment, up to ``?`` or ``#``,
  reads as words, numbers or one-case hex ids joined by ``-``, ``_``, ``.`` or ``~``
  (``/orders/1234/edit``, ``/app/v2/userSettings``); digits may only end a word.

The caller then scans it as a URL (urls.url), so a token in its path or query and a
password in its userinfo are still replaced. Anything else (``ss:mem:4f1c...``, hex or
base64 state, a relative path without its ``/``) is replaced whole as before.

Why no secret gets through: a random value must be written as a URL to be kept (and is
then scanned as one), or start with ``/`` and read as words in every segment. Standard
base64 starts with ``/`` once in 64 values, and then a 12-byte one reads as words about
once in 300 (none of 20,000 tries at 16 bytes or more); hex and base64url never start
with ``/``.
"""

from __future__ import annotations

import re2

from shadowtape.sanitize.names import normalise

#: Parameters that hold either opaque state or a return URL (normalised names).
RETURN_PARAMS = frozenset({"relay_state"})

#: A word (lower, Title, camelCase, CAPS, digits only at its end), a number, a hex id.
_PART = r"(?:[0-9]+|[0-9a-f]+|[0-9A-F]+|[A-Za-z][a-z]*(?:[A-Z][a-z]+)*[0-9]*|[A-Z]+[0-9]*)"
_SEGMENT = rf"{_PART}(?:[\-._~]+{_PART})*"
#: RE2 (linear): the path part of a value, from its first "/".
_PATH = re2.compile(rf"(?:/(?:{_SEGMENT})?)+")
_ABSOLUTE = re2.compile(r"(?i:https?)://[A-Za-z0-9\[]")


def holds_return_url(name: str, value: str) -> bool:
    """Is ``value`` (decoded) of parameter ``name`` a return URL rather than state?"""
    if normalise(name) not in RETURN_PARAMS or not value:
        return False
    if _ABSOLUTE.match(value) is not None:
        return True
    if not value.startswith("/") or value.startswith("//"):
        return False
    end = len(value)
    for stop in "?#":
        at = value.find(stop, 0, end)
        if at >= 0:
            end = at
    return _PATH.fullmatch(value, 0, end) is not None
