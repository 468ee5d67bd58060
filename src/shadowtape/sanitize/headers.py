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
from collections.abc import Callable

import re2

from shadowtape.sanitize import jsonbody, urls
from shadowtape.sanitize.context import Context, Scope
from shadowtape.sanitize.cookies import cookies, set_cookies
from shadowtape.sanitize.detectors import SPACE, fullmatch_str

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
#: Headers that hold URLs among other things: ``Link: <url>; rel=next``, ``Refresh: 0;
#: url=...``. Each URL in them is parsed like a Location.
_URL_LIST_HEADERS = frozenset({"link", "refresh"})
#: Python's re, so each URL costs no Python step to find (and a lone surrogate is text
#: like any other): from a "<", the class stops at the next "<" or ">", and after a
#: "url" each run is read once, so no character is read by more than one attempt.
_LINK_URL = re.compile(r"<([^<>]*)>")
_REFRESH_URL = re.compile(r"(?i:url)[ \t]*=[ \t]*['\"]?([^'\"\s;]+)")
#: Header kinds whose value is a credential when quoted in a text (an error message).
_SECRET_KINDS = frozenset({"secret", "cookie", "set-cookie"})
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
#: The longest header name quoted_lines reads back from a colon.
_NAME_REACH = 64
#: Header names before colons, read from the reversed text: from each colon, at most
#: _NAME_REACH name characters (one bounded run; a colon is the literal it starts with).
_REVERSED_NAME = re.compile(rf":([{_NAME_CHARS.replace('-', '')}\-]{{1,{_NAME_REACH}}})")
_BLANKS = re.compile(r"[ \t]*")
#: Work units (``Context.spend``, about a microsecond each): a distinct header name
#: quoted in a text, matched against the header rules (~3 us), and each colon after a
#: secret header's name, read back to the start of the name (~2 us).
QUOTED_NAME_COST = 3
COLON_COST = 2
#: A quoted header value ends at a line end, a quote or a backslash (``\r\n`` in a repr).
_STOP_CHARS = "\r\n'\"\\"
_BASE64 = re2.compile(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9\-_]+={0,2}")
#: Base64 values shorter than this are not tried as JSON.
_BASE64_MIN = 12
#: Kubernetes-style bearer token subprotocol: the rest of the item is the token.
_WS_TOKEN_PREFIX = "base64url.bearer.authorization.k8s.io."


def secret_positions(headers: Pairs, ctx: Context, side: str) -> list[int]:
    """Replace credentials and cookie values; return the indexes of the other headers."""
    kind_of = ctx.policy.header_kind
    rest: list[int] = []
    for i, (name, value) in enumerate(headers):
        kind = kind_of(name)
        if kind == "other" or kind == "allowed":  # allowed: still scanned by detectors
            rest.append(i)
        elif kind == "cookie":
            headers[i] = (name, cookies(value, ctx, f"{side}.cookie"))
        elif kind == "set-cookie":
            headers[i] = (name, set_cookies(value, ctx, f"{side}.set-cookie"))
        elif kind == "secret":
            headers[i] = (name, credential(value, ctx, f"{side}.header.{name.lower()}"))
    return rest


def free_text(headers: Pairs, indexes: list[int], ctx: Context, side: str) -> None:
    """Scan the values of headers that are not secret themselves.

    Every value goes through the value detectors and echo matching, whatever its name:
    an allow-listed header (``WWW-Authenticate``) is only spared name-based rules.
    """
    static_scope = ctx.policy.static_scope
    kind_of = ctx.policy.header_kind
    any_echo = bool(ctx.echo) and ctx.has_echo("\n".join(headers[i][1] for i in indexes))
    for i in indexes:
        name, value = headers[i]
        if not value:
            continue
        lowered = name.lower()
        where = f"{side}.header.{lowered}"
        allowed = kind_of(name) == "allowed"
        if not allowed:
            value = _special(lowered, value, ctx, where)
        is_url = lowered in _URL_HEADERS and not allowed
        if is_url and ("%" in value or "+" in value):  # its scope has the decoded forms
            new = urls.url(value, ctx, where, scope=urls.scope_of(value, ctx, fields=True))
            if new != headers[i][1]:
                headers[i] = (name, new)
            continue
        # The common case, inlined: most values were seen before and hold nothing.
        found, named = static_scope(value)
        has_echo = any_echo and ctx.has_echo(value)
        if allowed:
            if found or has_echo:
                value = ctx.text(value, where, scope=Scope(found, has_echo, False))
            if value != headers[i][1]:
                headers[i] = (name, value)
            continue
        if is_url:
            new = urls.url(value, ctx, where, scope=Scope(found, has_echo, named))
        elif found or has_echo or (named and ("=" in value or ":" in value)):
            # "=": token=x; ":": JSON ({"password": "x"}) or a quoted line (password: x)
            fields = "=" in value or ":" in value
            new = ctx.text(value, where, fields=fields, scope=Scope(found, has_echo, named))
        else:
            new = value
        if new != headers[i][1]:
            headers[i] = (name, new)


def _special(lowered: str, value: str, ctx: Context, where: str) -> str:
    """Formats inside a header value: URL lists, subprotocols, base64-encoded JSON."""
    if lowered in _URL_LIST_HEADERS:
        pattern = _LINK_URL if lowered == "link" else _REFRESH_URL
        # Each URL paid for before any is read, and one scope for all (the first needs it).
        if lowered == "link":
            found = min(value.count("<"), value.count(">"))
        else:
            found = min(value.lower().count("url"), value.count("="))
        ctx.spend(found * urls.URL_COST)
        scopes: list[Scope] = []

        def change(url: str) -> str:
            if not scopes:
                scopes.append(urls.scope_of(value, ctx))
            return urls.url(url, ctx, where, scope=scopes[0])

        return _sub_group(pattern, value, change)
    if lowered == "sec-websocket-protocol":
        return _subprotocols(value, ctx, where)
    return _base64_json(value, ctx, where)


def _sub_group(pattern: re.Pattern[str], value: str, change: Callable[[str], str]) -> str:
    pieces: list[str] = []
    done = 0
    for found in pattern.finditer(value):
        start, end = found.span(1)
        pieces += (value[done:start], change(value[start:end]))
        done = end
    if not pieces:
        return value
    pieces.append(value[done:])
    return "".join(pieces)


def _subprotocols(value: str, ctx: Context, where: str) -> str:
    """``access_token, <token>`` and ``base64url.bearer.authorization.k8s.io.<token>``."""
    items = value.split(",")
    secret_name = False
    for i, item in enumerate(items):
        stripped = item.strip()
        if not stripped:
            continue
        if stripped.startswith(_WS_TOKEN_PREFIX):
            token = stripped[len(_WS_TOKEN_PREFIX) :]
            items[i] = item.replace(stripped, _WS_TOKEN_PREFIX + ctx.secret(token, where))
        elif secret_name:
            items[i] = item.replace(stripped, ctx.secret(stripped, where))
        secret_name = ctx.policy.secret_field.matches(stripped) or stripped.lower() in (
            "bearer",
            "authorization",
        )
    return ",".join(items)


#: The first base64 character of any text that starts with ``{``, ``[`` or whitespace
#: (``str.isspace``, in UTF-8): no other header value can be base64 of a JSON document,
#: and most are ruled out before the RE2 call, which costs microseconds per header.
_JSON_BASE64_FIRST = frozenset("4CDHIWew")


def _base64_json(value: str, ctx: Context, where: str) -> str:
    """A header value that is base64-encoded JSON: decoded, sanitized as JSON, re-encoded."""
    stripped = value.strip()
    if (
        len(stripped) < _BASE64_MIN
        or stripped[0] not in _JSON_BASE64_FIRST
        or fullmatch_str(_BASE64, stripped) is None
    ):
        return value
    urlsafe = "-" in stripped or "_" in stripped
    padded = stripped.endswith("=")
    try:
        raw = (base64.urlsafe_b64decode if urlsafe else base64.b64decode)(
            stripped + "=" * (-len(stripped) % 4)
        )
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return value
    if text.lstrip()[:1] not in ("{", "["):
        return value
    new = jsonbody.sanitize_json(text, ctx, f"{where}:base64")
    if new is None or new == text:
        return value
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(new.encode()).decode()
    if not padded:
        encoded = encoded.rstrip("=")
    return value.replace(stripped, encoded)


def quoted_lines(text: str, ctx: Context, location: str) -> str:
    """``Authorization: Bearer x`` quoted in a text (an error message): the value replaced.

    The header names before every colon are found in C (on the reversed text) and
    matched once each; then only the colons after a secret header's name are read, each
    back to the start of its name (at most _NAME_REACH characters), and a replaced value
    is not read again, so a text costs one pass.
    """
    if ":" not in text:
        return text
    kind_of = ctx.policy.header_kind
    names = set(_REVERSED_NAME.findall(text[::-1]))
    ctx.spend(len(names) * QUOTED_NAME_COST)
    secret = sorted(
        {found for name in names for found in _secret_names(name[::-1], kind_of)},
        key=len,
        reverse=True,
    )
    if not secret:
        return text
    stops = _Stops(text)
    pieces: list[str] = []
    done = 0
    pattern = re.compile("|".join(re.escape(f"{name}:") for name in secret))
    at = 0
    while (found := pattern.search(text, at)) is not None:
        colon = found.end() - 1
        at = colon + 1  # the next search starts here, or past the value replaced below
        ctx.spend(COLON_COST)
        before = text[max(0, colon - _NAME_REACH) : colon]
        start = colon - (len(before) - len(before.rstrip(_NAME_CHARS)))
        if start < colon and text[start] in "nrt" and text[start - 1 : start] == "\\":
            start += 1  # "\r\nCookie:" in a repr: the n belongs to the escape
        name = text[start:colon]
        kind = kind_of(name) if name else "other"
        if kind not in _SECRET_KINDS:
            continue
        blanks = _BLANKS.match(text, colon + 1)
        value_start = blanks.end() if blanks else colon + 1
        end = stops.end(value_start)
        value = text[value_start:end].rstrip()
        if value:
            end = value_start + len(value)
            new = _header_value(kind, f"{location}.header.{name.lower()}", value, ctx)
            pieces += (text[done:value_start], new)
            done = at = end
    if not pieces:
        return text
    pieces.append(text[done:])
    ctx.record(location)
    return "".join(pieces)


def _secret_names(name: str, kind_of: Callable[[str], str]) -> list[str]:
    """The secret header names a name read back from a colon may be: itself, or itself
    without a first n, r or t (the end of a ``\\n`` escape)."""
    out = [name] if kind_of(name) in _SECRET_KINDS else []
    if len(name) > 1 and name[0] in "nrt" and kind_of(name[1:]) in _SECRET_KINDS:
        out.append(name[1:])
    return out


class _Stops:
    """Where a quoted header value ends: the next line end, quote or backslash.

    The next occurrence of each stop character is remembered, and looked for again only
    once a value starts past it: positions only grow, so each character is read once.
    """

    __slots__ = ("_next", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._next = dict.fromkeys(_STOP_CHARS, -1)

    def end(self, start: int) -> int:
        text, found = self._text, self._next
        for char, at in found.items():
            if at != len(text) and at < start:
                at = text.find(char, start)
                found[char] = len(text) if at < 0 else at
        return min(found.values())


def _header_value(kind: str, where: str, value: str, ctx: Context) -> str:
    if kind == "cookie":
        return cookies(value, ctx, where)
    if kind == "set-cookie":
        return set_cookies(value, ctx, where)
    return credential(value, ctx, where)


def sanitize(headers: Pairs, ctx: Context, side: str) -> None:
    """Both passes over one side's headers, in place."""
    free_text(headers, secret_positions(headers, ctx, side), ctx, side)


def credential(value: str, ctx: Context, location: str) -> str:
    """``Bearer abc`` -> ``Bearer <pseudonym>``; anything else is replaced whole."""
    found = fullmatch_str(_SCHEME, value)
    if found is None:
        return ctx.secret(value, location)
    scheme, space, secret = (value[slice(*found.span(group))] for group in (1, 2, 3))
    if scheme.lower() not in _SCHEMES:
        return ctx.secret(value, location)
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
        ctx.remember(password, ctx.pseudonym(password))
