"""URL parts: the request path, query strings and form bodies, URLs inside header values.

Pairs are split by hand rather than with ``parse_qsl``, so that a pair nothing was found
in is kept byte for byte (same encoding, same order, same repeats). Values are scanned
both as they are and percent-decoded, because a secret is as often encoded as not.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise
from urllib.parse import unquote, unquote_plus

import re2

from shadowtape.sanitize.context import Context, Scope
from shadowtape.sanitize.names import normalise, words
from shadowtape.sanitize.percent import quote, quote_plus

#: Characters left unencoded when a replaced value is written back into a URL.
_SAFE = "@:!$'()*,-._~"
#: Parameters that carry a credential in URLs and forms whatever the field-name rules say:
#: OAuth and PKCE (``code``, ``state``, ``code_verifier``), SAML, webhook and signed-URL
#: signatures, keys. Compared whole, after normalising (``SAMLResponse`` ->
#: ``saml_response``), so ``zip_code`` or ``country_code`` stay as they are.
URL_SECRET_PARAMS = frozenset(
    {
        "code", "state", "code_verifier", "code_challenge", "saml_response", "saml_request",
        "relay_state", "hmac", "signature", "sig", "key", "id_token", "access_token",
        "refresh_token", "token", "oauth_token", "oauth_verifier", "ticket", "nonce",
        "x_amz_signature", "x_amz_credential", "x_amz_security_token", "x_goog_signature",
        "x_goog_credential", "jsessionid", "phpsessid", "sid", "apikey", "api_key",
    }
)  # fmt: skip
#: A path segment after a segment holding one of these words is a credential: password
#: reset, e-mail verification, invitation, magic-link and unsubscribe links.
PATH_TRIGGERS = frozenset(
    {
        "reset", "verify", "verification", "token", "tokens", "key", "keys", "invite",
        "invites", "invitation", "invitations", "confirm", "confirmation", "unsubscribe",
        "magic", "activate", "activation", "otp", "passwordless", "recover", "recovery",
    }
)  # fmt: skip
#: Segments longer than this are not read for trigger words (names are cached by value).
_TRIGGER_REACH = 64
#: A high-entropy segment is at least this long (shorter ones are ids, codes, words).
ENTROPY_MIN_LENGTH = 20
#: ... changes between upper case, lower case and digits at least this often ...
ENTROPY_MIN_SWITCHES = 0.3
#: ... and has at least this many bits of Shannon entropy per character.
ENTROPY_MIN_BITS = 3.5
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+=/")
_HEX = frozenset("0123456789abcdefABCDEF-")
_SEPARATOR = re2.compile(r"[\-_.~+=/]")
#: Percent-decoding is repeated at most this many times (a value URL-encoded twice).
MAX_DECODE = 3


def scope_of(text: str, ctx: Context, *, fields: bool = False) -> Scope:
    """The scope of a URL part, percent-decoded forms included (up to MAX_DECODE times)."""
    if "%" in text or "+" in text:
        layers = [text]
        for _ in range(MAX_DECODE):
            decoded = unquote_plus(layers[-1])
            if decoded == layers[-1]:
                break
            layers.append(decoded)
        text = "\n".join(layers)
    return ctx.scope(text, fields=fields)


def secret_param(name: str) -> bool:
    """Is ``name`` a URL parameter that carries a credential (URL_SECRET_PARAMS)?"""
    return normalise(name) in URL_SECRET_PARAMS


def params(
    text: str,
    ctx: Context,
    location: Callable[[str], str],
    *,
    plus: bool = True,
    scope: Scope | None = None,
    depth: int = 1,
) -> str:
    """A query string or form body: secret-named values replaced, the rest scanned.

    ``depth``: how many times the text was percent-decoded already (see component).
    """
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
        if eq and (policy.secret_field.matches(name) or secret_param(name)):
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
        new_name = component(raw_name, ctx, where, plus=plus, scope=scope, depth=depth)
        new_value = (
            component(raw_value, ctx, where, plus=plus, scope=scope, depth=depth) if eq else ""
        )
        if new_name != raw_name or new_value != raw_value:
            pairs[i] = f"{new_name}{eq}{new_value}"
            changed = True
    return "&".join(pairs) if changed else text


def path(text: str, ctx: Context, location: str, *, scope: Scope | None = None) -> str:
    """A URL path: each segment scanned as is and decoded; ``;name=value`` params by name.

    A segment is a credential itself when it follows a trigger word (``/reset/<token>``),
    when it looks like a random token (see high_entropy), or when it is an ASP.NET
    cookieless session (``/(S(<id>))/``).
    """
    if not text:
        return text
    if scope is None:
        scope = scope_of(text, ctx)
    segments = text.split("/")
    changed = False
    after_trigger = False
    for i, segment in enumerate(segments):
        if not segment:
            continue
        head, semi, matrix = segment.partition(";")
        decoded = _decode(head, False)
        if (after_trigger and not _plain_word(decoded)) or high_entropy(decoded):
            new = _encode(ctx.secret(decoded, location), False) if decoded else head
        elif decoded.startswith("(") and decoded.endswith(")"):
            new = _cookieless(head, ctx, location)
        elif scope.empty:
            new = head
        else:
            new = component(head, ctx, location, plus=False, scope=scope)
        after_trigger = len(decoded) <= _TRIGGER_REACH and any(
            word in PATH_TRIGGERS for word in words(decoded)
        )
        if semi:
            new += ";" + ";".join(
                params(p, ctx, lambda _name: location, plus=False, scope=scope)
                for p in matrix.split(";")
            )
        if new != segment:
            segments[i] = new
            changed = True
    return "/".join(segments) if changed else text


def _plain_word(segment: str) -> bool:
    """A lower-case word or words (``email``, ``reset-password``): an endpoint, not a token."""
    parts = segment.replace("-", "_").split("_")
    return 0 < len(segment) <= 40 and all(p.isalpha() and p.islower() for p in parts)


def high_entropy(segment: str) -> bool:
    """Does a path segment look like a random token rather than an id, a slug or a word?

    Tokens (base62 or base64url, 20 characters or more) hold digits, switch between upper
    case, lower case and digits often and spread over many characters; slugs (mostly
    words between separators) and camel-case names do not; UUIDs and other hex ids
    (resource ids far more often than secrets) are left alone, as are numbers.
    """
    stem, dot, extension = segment.rpartition(".")
    if dot and 0 < len(extension) <= 5 and extension.isalnum() and extension.islower():
        segment = stem  # a file name: "<content hash>.js"
    if len(segment) < ENTROPY_MIN_LENGTH or len(segment) > 4096:
        return False
    if not set(segment) <= _TOKEN_CHARS or set(segment) <= _HEX:
        return False
    if _slug(segment):
        return False
    classes = [k for k in map(_class, segment) if k != 3]
    if 0 not in classes or len(set(classes)) < 2:  # camelCase names have no digits
        return False
    switches = sum(a != b for a, b in pairwise(classes))
    if switches < ENTROPY_MIN_SWITCHES * (len(classes) - 1):
        return False
    counts: dict[str, int] = {}
    for char in segment:
        counts[char] = counts.get(char, 0) + 1
    size = len(segment)
    bits = -sum(n / size * math.log2(n / size) for n in counts.values())
    return bits >= ENTROPY_MIN_BITS


def _slug(segment: str) -> bool:
    """Words joined by separators (``how-to-Use-HTTP2-in-2024``): most parts are words."""
    parts: list[str] = [p for p in _SEPARATOR.split(segment) if p]
    if len(parts) < 3:
        return False
    return sum(p.isalpha() for p in parts) * 3 >= len(parts) * 2


def _class(char: str) -> int:
    if char.isdigit():
        return 0
    if char.isupper():
        return 1
    if char.islower():
        return 2
    return 3


def _cookieless(raw: str, ctx: Context, location: str) -> str:
    """``(S(id))`` or ``(S(id)F(ticket))``: each inner value replaced, the letters kept."""
    decoded = _decode(raw, False)
    inner = decoded[1:-1]
    pieces = []
    at = 0
    while at < len(inner):
        close = inner.find(")", at)
        if len(inner) - at < 3 or not inner[at].isalpha() or inner[at + 1] != "(" or close < 0:
            return component(raw, ctx, location, plus=False)
        value = inner[at + 2 : close]
        pieces.append(f"{inner[at]}({ctx.secret(value, location) if value else ''})")
        at = close + 1
    return _encode("(" + "".join(pieces) + ")", False)


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
            userinfo = (
                ctx.secret(user, location)
                + colon
                + (ctx.secret(password, location) if colon else "")
            )
            host = userinfo + at + hostport
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
    raw: str,
    ctx: Context,
    location: str,
    *,
    plus: bool,
    scope: Scope | None = None,
    depth: int = 1,
) -> str:
    """One percent-encoded component: scanned as is, then decoded if it is encoded.

    A decoded value that is still encoded (URL-encoded twice) is decoded again, up to
    MAX_DECODE times; a change at any depth is encoded back as many times.
    """
    if not raw:
        return raw
    out = ctx.text(raw, location, scope=scope)
    if "%" in out or (plus and "+" in out):
        decoded = _decode(out, plus)
        if decoded != out:
            # Decoded, a value may hold a document: {"password": ...} sent in a form field.
            new = ctx.text(decoded, location, fields=True, scope=scope)
            if depth < MAX_DECODE and "%" in new:
                new = _inner_url(new, ctx, location, scope, depth + 1)
            if new != decoded:
                out = _encode(new, plus)
    return out


def _inner_url(text: str, ctx: Context, location: str, scope: Scope | None, depth: int) -> str:
    """A decoded value still percent-encoded: a whole URL or query string, or one value."""
    if "?" in text or ("=" in text and "&" in text):
        head, question, query = text.partition("?")
        if not question:
            head, query = "", text
        return (
            head + question + params(query, ctx, lambda _name: location, scope=scope, depth=depth)
        )
    return component(text, ctx, location, plus=False, scope=scope, depth=depth)


def _decode(raw: str, plus: bool) -> str:
    if "%" not in raw and not (plus and "+" in raw):
        return raw
    return unquote_plus(raw) if plus else unquote(raw)


def _encode(value: str, plus: bool) -> str:
    return quote_plus(value, safe=_SAFE) if plus else quote(value, safe=_SAFE)
