"""URL parts: the request path, query strings and form bodies, URLs inside header values.

Pairs are split by hand rather than with ``parse_qsl``, so that a pair nothing was found
in is kept byte for byte (same encoding, same order, same repeats). Values are scanned
both as they are and percent-decoded, because a secret is as often encoded as not.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote, unquote_plus

from shadowtape.sanitize.context import Context, Scope
from shadowtape.sanitize.percent import quote, quote_plus

#: Characters left unencoded when a replaced value is written back into a URL.
_SAFE = "@:!$'()*,-._~"


def scope_of(text: str, ctx: Context, *, fields: bool = False) -> Scope:
    """The scope of a URL part, percent-decoded forms included."""
    if "%" in text or "+" in text:
        text = f"{text}\n{unquote_plus(text)}"
    return ctx.scope(text, fields=fields)


def params(
    text: str,
    ctx: Context,
    location: Callable[[str], str],
    *,
    plus: bool = True,
    scope: Scope | None = None,
) -> str:
    """A query string or form body: secret-named values replaced, the rest scanned."""
    if not text:
        return text
    policy = ctx.policy
    if scope is None:
        scope = scope_of(text, ctx, fields=True)
    scan = not scope.empty
    pairs = text.split("&")
    changed = False
    for i, pair in enumerate(pairs):
        raw_name, eq, raw_value = pair.partition("=")
        name = _decode(raw_name, plus)
        if policy.allowed_field.matches(name):
            continue
        if eq and policy.secret_field.matches(name):
            if not raw_value:
                continue
            value = _decode(raw_value, plus)
            new = ctx.secret(value, location(name))
            if new != value:
                pairs[i] = f"{raw_name}={_encode(new, plus)}"
                changed = True
            continue
        if not scan:
            continue
        where = location(name)
        new_name = component(raw_name, ctx, where, plus=plus, scope=scope)
        new_value = component(raw_value, ctx, where, plus=plus, scope=scope) if eq else ""
        if new_name != raw_name or new_value != raw_value:
            pairs[i] = f"{new_name}{eq}{new_value}"
            changed = True
    return "&".join(pairs) if changed else text


def path(text: str, ctx: Context, location: str, *, scope: Scope | None = None) -> str:
    """A URL path: each segment scanned as is and decoded; ``;name=value`` params by name."""
    if not text:
        return text
    if scope is None:
        scope = scope_of(text, ctx)
    if scope.empty and ";" not in text:
        return text
    segments = text.split("/")
    changed = False
    for i, segment in enumerate(segments):
        if not segment:
            continue
        head, semi, matrix = segment.partition(";")
        new = component(head, ctx, location, plus=False, scope=scope)
        if semi:
            new += ";" + ";".join(
                params(p, ctx, lambda _name: location, plus=False, scope=scope)
                for p in matrix.split(";")
            )
        if new != segment:
            segments[i] = new
            changed = True
    return "/".join(segments) if changed else text


def url(text: str, ctx: Context, location: str, *, scope: Scope | None = None) -> str:
    """A URL or path in a header value (Location, Referer): path, query and fragment."""
    if scope is None:
        scope = scope_of(text, ctx)
    head, question, rest = text.partition("?")
    query, hash_, fragment = rest.partition("#") if question else ("", "", "")
    if not question:
        head, hash_, fragment = text.partition("#")
    scheme, sep, after = head.partition("://")
    if sep:
        host, slash, tail = after.partition("/")
        userinfo, at, hostport = host.rpartition("@")
        if at:
            user, colon, password = userinfo.partition(":")
            userinfo = user + colon + (ctx.secret(password, location) if colon else "")
            host = ctx.text(userinfo, location, scope=scope) + at + hostport
        new_head = f"{scheme}://{host}{slash}{path(tail, ctx, location, scope=scope)}"
    else:
        new_head = path(head, ctx, location, scope=scope)
    new_query = params(query, ctx, lambda _name: location, scope=scope)
    new_fragment = (
        params(fragment, ctx, lambda _name: location, scope=scope)
        if "=" in fragment
        else component(fragment, ctx, location, plus=False, scope=scope)
    )
    out = f"{new_head}{question}{new_query}{hash_}{new_fragment}"
    return out if out != text else text


def component(
    raw: str, ctx: Context, location: str, *, plus: bool, scope: Scope | None = None
) -> str:
    """One percent-encoded component: scanned as is, then decoded if it is encoded."""
    if not raw:
        return raw
    out = ctx.text(raw, location, scope=scope)
    if "%" in out or (plus and "+" in out):
        decoded = _decode(out, plus)
        if decoded != out:
            # Decoded, a value may hold a document: {"password": ...} sent in a form field.
            new = ctx.text(decoded, location, fields=True, scope=scope)
            if new != decoded:
                out = _encode(new, plus)
    return out


def _decode(raw: str, plus: bool) -> str:
    if "%" not in raw and not (plus and "+" in raw):
        return raw
    return unquote_plus(raw) if plus else unquote(raw)


def _encode(value: str, plus: bool) -> str:
    return quote_plus(value, safe=_SAFE) if plus else quote(value, safe=_SAFE)
