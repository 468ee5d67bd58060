"""Values under a secret-looking name that are plainly not secrets: constants and flags.

Under a name secret only as a whole or by a qualifier (``code``, ``key``, ``device_code``:
NameMatcher.whole_only), a table's column, a CSV export's column or an HTML form's
``state`` usually holds a constant: a country, currency, airport or ledger code (``DE``,
``USD``, ``BER``, ``ASSET``), an error code (``E0042``, ``E_AUTH``), a status (``200``), a
key combination (``Ctrl+S``) or a setting's name (names.is_symbol). A credential (an
OAuth code or state, a one-time or recovery code, an API key) is longer, mixes letters
and digits, or runs to eight capitals or more (``WDJBMJHT``, RFC 8628's user code).
Under any secret name, a cell saying yes or no (``true``, ``n``) says whether, not what,
and a placeholder (``n/a``, ``***``, ``$DB_PASSWORD``) says where, not what.
"""

from __future__ import annotations

import re

from shadowtape.sanitize.names import is_symbol

#: A yes/no answer (``true``, ``No``, ``y``), or a placeholder where a value would be: none
#: set, a mask, a reference to where it is kept (``n/a``, ``-``, ``<nil>``, ``***``,
#: ``$DB_PASSWORD``, ``{{ token }}``).
_FLAG = (
    r"(?i:true|false|yes|no|y|n|none|null|nil|<nil>|n/a|na|unset|empty|optional|required"
    r"|redacted|masked|hidden)|-{1,3}|[*•]+|x{3,}|X{3,}"
)
#: A constant besides names.is_symbol's, in one pattern (a cell is read once): a number
#: below 1,000; codes in capitals (a word of up to seven letters is is_symbol's): words
#: joined by "_", up to four letters and five digits (``E0042``, ``TS2322``, ``F5``); a
#: key combination (``Ctrl+S``, ``Cmd+Shift+P``); a yes/no answer.
_CONSTANT = re.compile(
    r"[0-9]{1,3}|[A-Z]+(?:_[A-Z0-9]+)+|[A-Z]{1,4}[0-9]{1,5}"
    r"|(?i:(?:ctrl|control|cmd|command|alt|option|opt|shift|meta|super|win|fn) ?\+ ?)+"
    rf"[^\s+|]{{1,9}}|{_FLAG}"
)
_FLAGS = re.compile(_FLAG)
#: No constant is longer (names.is_symbol's bound).
_MAX = 64


def kept(value: str, *, whole: bool) -> bool:
    """Is ``value`` (a cell's or an attribute's text, under a secret name) a yes/no
    answer, or, under a name secret as a whole only (``whole``), a constant?"""
    if len(value) > _MAX:
        return False
    if reference(value):
        return True
    if whole:
        return _CONSTANT.fullmatch(value) is not None or is_symbol(value)
    return _FLAGS.fullmatch(value) is not None


def reference(value: str) -> bool:
    """Does the value name a secret rather than hold one: a shell variable or command
    (``"$MYSQL_PASSWORD"``, ``${TOKEN}``, ``$(cat pw)``), a Windows variable (``%PW%``)
    or a template (``{{ password }}``)? Its own text is no secret."""
    value = value.strip("\"'")
    return value.startswith(("$", "{{")) or (
        len(value) > 2 and value[0] == "%" and value[-1] == "%"
    )
