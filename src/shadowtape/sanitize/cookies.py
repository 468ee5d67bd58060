"""Cookie values: every value of a ``Cookie`` or ``Set-Cookie`` line replaced, names,
spacing and ``Set-Cookie`` attributes kept. Used for the headers themselves and for a
cookie line that a JSON document carries (a header list, a name/value pair object).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shadowtape.sanitize.percent import unquote

if TYPE_CHECKING:
    from shadowtape.sanitize.context import Context

#: Folded Set-Cookie values ("a=1; Path=/, b=2"): split before each "name=". The look-ahead
#: stops at the first of ``;,=`` or a blank, so each comma costs at most its own item.
_FOLD = re.compile(r",\s*(?=[^;,=\s]+=)")


def cookies(value: str, ctx: Context, prefix: str, *, named: bool = True) -> str:
    """``a=1; b=2``: every value replaced (unless allow-listed), names and spacing kept.
    ``named``: each cookie's location is ``prefix.<name>``, else ``prefix``."""
    parts = value.split(";")
    for i, part in enumerate(parts):
        parts[i] = _cookie_pair(part, ctx, prefix, named)
    return ";".join(parts)


def set_cookies(value: str, ctx: Context, prefix: str, *, named: bool = True) -> str:
    """``sid=abc; Path=/; HttpOnly``: the value replaced, the attributes kept."""
    items = _FOLD.split(value) if "," in value else [value]
    out = []
    for item in items:
        first, semi, attributes = item.partition(";")
        out.append(_cookie_pair(first, ctx, prefix, named) + semi + attributes)
    return ", ".join(out) if len(out) > 1 else out[0]


def _cookie_pair(part: str, ctx: Context, prefix: str, named: bool = True) -> str:
    name, eq, raw = part.partition("=")
    if not eq:  # a bare value with no name
        name, raw = "", part
    stripped = raw.strip()
    if not stripped:
        return part
    cookie_name = name.strip()
    if cookie_name in ctx.policy.allowed_cookies:
        return part
    quoted = len(stripped) >= 2 and stripped[0] == stripped[-1] == '"'
    inner = stripped[1:-1] if quoted else stripped
    if not inner:
        return part
    new = ctx.secret(inner, f"{prefix}.{cookie_name}" if named else prefix)
    if "%" in inner:
        decoded = unquote(inner)
        if decoded != inner:
            ctx.remember(decoded, ctx.pseudonym(decoded))
    start = raw.index(stripped)
    new_raw = raw[:start] + (f'"{new}"' if quoted else new) + raw[start + len(stripped) :]
    return f"{name}{eq}{new_raw}" if eq else new_raw
