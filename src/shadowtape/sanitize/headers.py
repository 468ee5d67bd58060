"""Headers: credentials, cookies (names kept), and secrets inside other header values.

``Authorization: Bearer x`` keeps its scheme and replaces the credentials; a cookie header
keeps every cookie name and a ``Set-Cookie`` keeps its attributes (Path, Expires...), so
a replayed request still has the shape the service expects. Headers on the allow-list are
kept exactly as they came.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote

import re2

from shadowtape.sanitize import urls
from shadowtape.sanitize.context import Context, Scope
from shadowtape.sanitize.detectors import SPACE

Pairs = list[tuple[str, str]]

#: Authorization schemes whose name is kept in front of the replaced credentials.
_SCHEMES = frozenset(
    {
        "basic",
        "bearer",
        "digest",
        "token",
        "negotiate",
        "ntlm",
        "hoba",
        "mutual",
        "hawk",
        "dpop",
        "gssapi",
        "apikey",
        "aws4-hmac-sha256",
        "jwt",
        "sso-key",
    }
)
_SCHEME = re2.compile(rf"([A-Za-z][A-Za-z0-9\-]*)({SPACE}+)([^{SPACE[1:-1]}][\s\S]*)")
#: Headers whose value is a URL: parsed, so ``?token=`` and encoded secrets are found.
_URL_HEADERS = frozenset({"location", "content-location", "referer", "origin"})
#: Folded Set-Cookie values ("a=1; Path=/, b=2"): split before each "name=". The look-ahead
#: stops at the first of ``;,=`` or a blank, so each comma costs at most its own item.
_FOLD = re.compile(r",\s*(?=[^;,=\s]+=)")


def secret_positions(headers: Pairs, ctx: Context, side: str) -> list[int]:
    """Replace credentials and cookie values; return the indexes of the other headers."""
    kind_of = ctx.policy.header_kind
    rest: list[int] = []
    for i, (name, value) in enumerate(headers):
        kind = kind_of(name)
        if kind == "other":
            rest.append(i)
        elif kind == "cookie":
            headers[i] = (name, cookies(value, ctx, f"{side}.cookie"))
        elif kind == "set-cookie":
            headers[i] = (name, set_cookies(value, ctx, f"{side}.set-cookie"))
        elif kind == "secret":
            headers[i] = (name, credential(value, ctx, f"{side}.header.{name.lower()}"))
    return rest


def free_text(headers: Pairs, indexes: list[int], ctx: Context, side: str) -> None:
    """Scan the values of headers that are not secret themselves."""
    static_scope = ctx.policy.static_scope
    any_echo = bool(ctx.echo) and ctx.has_echo("\n".join(headers[i][1] for i in indexes))
    for i in indexes:
        name, value = headers[i]
        if not value:
            continue
        lowered = name.lower()
        is_url = lowered in _URL_HEADERS
        # The common case, inlined: most values were seen before and hold nothing.
        found, named = static_scope(value)
        has_echo = any_echo and ctx.has_echo(value)
        if is_url:
            encoded = "%" in value or "+" in value or "@" in value
            if not (found or has_echo or named or encoded):
                continue
            scope = Scope(found, has_echo, named)
            if encoded:
                scope = urls.scope_of(value, ctx, fields=True)
        else:
            if not (found or has_echo or (named and "=" in value)):
                continue
            scope = Scope(found, has_echo, named)
        where = f"{side}.header.{lowered}"
        if is_url:
            new = urls.url(value, ctx, where, scope=scope)
        else:
            new = ctx.text(value, where, fields="=" in value, scope=scope)
        if new != value:
            headers[i] = (name, new)


def sanitize(headers: Pairs, ctx: Context, side: str) -> None:
    """Both passes over one side's headers, in place."""
    free_text(headers, secret_positions(headers, ctx, side), ctx, side)


def credential(value: str, ctx: Context, location: str) -> str:
    """``Bearer abc`` -> ``Bearer <pseudonym>``; anything else is replaced whole."""
    found = _SCHEME.fullmatch(value)
    if found is None or found.group(1).lower() not in _SCHEMES:
        return ctx.secret(value, location)
    scheme, space, secret = found.groups()
    if scheme.lower() == "basic":
        _remember_basic_password(secret, ctx)
    return f"{scheme}{space}{ctx.secret(secret, location)}"


def _remember_basic_password(encoded: str, ctx: Context) -> None:
    """The password inside Basic credentials is searched for elsewhere too."""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return
    _user, colon, password = decoded.partition(":")
    if colon and password:
        ctx.remember(password, ctx.pseudo(password))


def cookies(value: str, ctx: Context, prefix: str) -> str:
    """``a=1; b=2``: every value replaced (unless allow-listed), names and spacing kept."""
    parts = value.split(";")
    for i, part in enumerate(parts):
        parts[i] = _cookie_pair(part, ctx, prefix)
    return ";".join(parts)


def set_cookies(value: str, ctx: Context, prefix: str) -> str:
    """``sid=abc; Path=/; HttpOnly``: the value replaced, the attributes kept."""
    items = _FOLD.split(value) if "," in value else [value]
    out = []
    for item in items:
        first, semi, attributes = item.partition(";")
        out.append(_cookie_pair(first, ctx, prefix) + semi + attributes)
    return ", ".join(out) if len(out) > 1 else out[0]


def _cookie_pair(part: str, ctx: Context, prefix: str) -> str:
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
    new = ctx.secret(inner, f"{prefix}.{cookie_name}")
    if "%" in inner:
        decoded = unquote(inner)
        if decoded != inner:
            ctx.remember(decoded, ctx.pseudo(decoded))
    start = raw.index(stripped)
    new_raw = raw[:start] + (f'"{new}"' if quoted else new) + raw[start + len(stripped) :]
    return f"{name}{eq}{new_raw}" if eq else new_raw
