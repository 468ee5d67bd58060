"""URL parts: the request path, query strings and form bodies, URLs inside header values.

Pairs are split by hand rather than with ``parse_qsl``, so that a pair nothing was found
in is kept byte for byte (same encoding, same order, same repeats). Values are scanned
both as they are and percent-decoded, because a secret is as often encoded as not.

Pairs, path segments and matrix parameters are looked at one by one in Python, so each
spends its cost (``Context.spend``) before the loop, and a pair scanned by the detectors
more as it is: a URL or form packed with thousands of them per kilobyte fails closed (a
form body is dropped as too dense to scan) instead of costing a second. A text with no
secret-looking name and nothing the detectors find is not split at all; a large form is
scoped in chunks, so only the pairs near what was found are scanned one by one.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from itertools import accumulate, repeat
from operator import itemgetter

import re2

from shadowtape.sanitize import graphqlget
from shadowtape.sanitize.constants import key_path
from shadowtape.sanitize.context import Context, Scope, without_cards
from shadowtape.sanitize.names import NameMatcher, words
from shadowtape.sanitize.params import URL_SECRET_PARAMS, secret_param
from shadowtape.sanitize.percent import quote, quote_plus, unquote
from shadowtape.sanitize.relaystate import holds_return_url
from shadowtape.sanitize.versions import names_version

#: Characters left unencoded when a replaced value is written back into a URL.
_SAFE = "@:!$'()*,-._~"
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
#: One character class, no nesting: linear in Python's ``re`` (C, no call per match).
_SEPARATOR = re.compile(r"[\-_.~+=/]")
#: Token characters -> their class (digit, upper, lower); separators are dropped.
_CLASS_OF = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "0" * 10 + "1" * 26 + "2" * 26,
    "-_.~+=/",
)
_SWITCHES = ("01", "02", "10", "12", "20", "21")
#: Percent-decoding is repeated at most this many times (a value URL-encoded twice).
MAX_DECODE = 3
#: Names longer than this are matched by their last this many characters (the words
#: that end a name decide; matchers cache names by value).
_NAME_REACH = 256
#: A percent escape of a letter or digit: decoded, it could complete a word in a name.
_WORD_ESCAPE = re.compile(rb"%(?:3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa])")
#: A word each URL_SECRET_PARAMS name holds (lower-cased), for a whole-text pre-check.
_PARAM_HINTS = tuple(sorted({max(words(p), key=len) for p in URL_SECRET_PARAMS}))

#: Work units (``Context.spend``, about a microsecond each) for what is looked at one by
#: one in Python, measured on the adversarial cases (tests/sanitize/adversarial.py):
#: a query or form pair whose name is read (split, a dict look-up: ~0.3 us) ...
PAIRS_PER_UNIT = 2
#: ... a distinct pair name, told apart from the rest in one pass (~0.5 us) ...
NAMES_PER_UNIT = 2
#: ... a name holding a word secret names hold, decoded and matched (~5 us) ...
NAME_COST = 5
#: ... a pair, path segment or matrix parameter scanned by the detectors (~25 us) ...
SCAN_COST = 25
#: ... a path segment read for trigger words and tokens (~2 us) ...
SEGMENT_COST = 2
#: ... a URL inside a header value (``Link: <url>``; parsed: ~10 us) ...
URL_COST = 10
#: ... and the scope of a chunk of CHUNK pairs (a call per detector; their passes over
#: the chunk are C, as over the whole text before).
CHUNK_COST = 50
#: ... a KiB of a text's second or third percent-decoded layer (scanned whole for the
#: scope alone: ~20 us on a quiet host, 35-55 under load) ...
LAYER_COST = 20
#: A later layer is made of pieces of at least this many characters.
LAYER_PIECE = 256
#: Past this many pairs, a text with something to scan is scoped chunk by chunk, so
#: that a large form with one e-mail address in it is not scanned pair by pair.
CHUNK = 256


def scope_of(
    text: str, ctx: Context, *, fields: bool = False, plus: bool = True, paid: bool = False
) -> Scope:
    """The scope of a URL part, percent-decoded forms included (up to MAX_DECODE times).

    ``plus=False`` for a path, where ``+`` is not a space. ``paid``: the layers of a text
    holding this one were paid for already (a chunk of a form).
    """
    return ctx.scope(_layers(text, ctx, plus, paid), fields=fields)


def _layers(text: str, ctx: Context, plus: bool, paid: bool = False) -> str:
    """``text`` and each of its percent-decoded forms, one per line.

    Decoded once, a text is what it says. Decoding it again changes only what still
    holds an escape: a later layer is the pieces (between ``&``) of the one before that
    hold one, and pays LAYER_COST per KiB, so a value encoded three times over a
    megabyte fails closed instead of being scanned four times.
    """
    if "%" not in text and not (plus and "+" in text):
        return text
    layers = [text]
    part = text
    for depth in range(1, MAX_DECODE + 1):
        decoded = _decode(part, plus)
        if decoded == part:
            break
        if depth > 1 and not paid:
            ctx.spend(len(part) * LAYER_COST // 1024)
        layers.append(decoded)
        if depth == MAX_DECODE:
            break
        part = _escaped(decoded)
    return "\n".join(layers)


def _escaped(text: str) -> str:
    """The ``&``-separated pieces of ``text`` that hold a ``%``, with what follows each up
    to the first ``&`` LAYER_PIECE characters on (a Python step per piece kept, at least
    LAYER_PIECE characters each: paid for with the layer they make)."""
    parts = []
    done = 0
    while (at := text.find("%", done)) >= 0:
        amp = text.rfind("&", done, at)
        end = text.find("&", at + LAYER_PIECE)
        end = len(text) if end < 0 else end
        parts.append(text[done if amp < 0 else amp + 1 : end])
        done = end
    return "&".join(parts)


def params(
    text: str,
    ctx: Context,
    location: Callable[[str], str],
    *,
    plus: bool = True,
    scope: Scope | None = None,
    depth: int = 1,
    sep: str = "&",
    scanned: bool = False,
    named: bool = True,
) -> str:
    """A query string or form body: secret-named values replaced, the rest scanned.

    ``depth``: how many times the text was percent-decoded already (see component).
    ``sep``: what separates pairs (``;`` for a path segment's matrix parameters).
    ``scanned``: the text as it is was scanned whole already (a decoded value).
    ``named=False``: the caller found that no name in a text holding this one may be
    secret (a path's matrix parameters, told once for the whole path).
    """
    if not text:
        return text
    if depth == 1 and not scanned and sep == "&":
        known = len(ctx.order)
        link_tokens(text, ctx)
        if scope is not None and len(ctx.order) > known:
            scope = Scope(scope.detectors, True, scope.fields)  # a token to echo now
    if scope is None:
        scope = scope_of(text, ctx, fields=True, plus=plus)
    scan = not scope.empty
    if not scan and not (named and _may_name_secret(text, ctx, plus)):
        return text
    pairs, seps = _split(text, sep)
    if scan and len(pairs) > CHUNK:
        return _params_by_chunk(
            pairs, seps, text, ctx, location, plus=plus, depth=depth, sep=sep, scanned=scanned
        )
    ctx.spend(len(pairs) // PAIRS_PER_UNIT)  # and each pair scanned, as it is (see _pairs)
    graphql = depth == 1 and sep == "&" and graphqlget.may_hold(text)
    graphql = graphql and graphqlget.bind(pairs, ctx, location, plus=plus)
    changed = graphql | _pairs(
        pairs, ctx, location, plus=plus, scope=scope, depth=depth, scanned=scanned
    )
    return _join(pairs, seps, sep) if changed else text


def _split(text: str, sep: str) -> tuple[list[str], str | None]:
    """The pairs of ``text`` and what separates them, one character each in order (None:
    ``sep`` throughout; with "&", pairs are split at ";" too, as older servers and
    matrix-like query strings write them: ``a=1;token=...;b=2``). Split in C: a regular
    expression's split costs a Python string per separator twice over."""
    if sep != "&" or ";" not in text:
        return text.split(sep), None
    # In UTF-8 no byte of a character beyond ASCII is "&" or ";".
    seps = text.encode("utf-8", "surrogatepass").translate(None, _NOT_SEPARATOR)
    return text.replace(";", "&").split("&"), seps.decode("ascii")


#: Every byte but "&" and ";".
_NOT_SEPARATOR = bytes(sorted(set(range(256)) - set(b"&;")))


def _join(pairs: list[str], seps: str | None, sep: str = "&") -> str:
    if seps is None:
        return sep.join(pairs)
    parts = [""] * (len(pairs) + len(seps))
    parts[::2] = pairs
    parts[1::2] = seps
    return "".join(parts)


def _params_by_chunk(
    pairs: list[str],
    seps: str | None,
    text: str,
    ctx: Context,
    location: Callable[[str], str],
    *,
    plus: bool,
    depth: int,
    sep: str,
    scanned: bool,
) -> str:
    """Many pairs with something to scan somewhere: each CHUNK of pairs gets its own
    scope, and only the pairs of a chunk where something was found are scanned."""
    ctx.spend(len(pairs) // PAIRS_PER_UNIT + (len(pairs) // CHUNK + 1) * CHUNK_COST)
    changed = False
    for first in range(0, len(pairs), CHUNK):
        chunk = pairs[first : first + CHUNK]
        scope = scope_of(sep.join(chunk), ctx, fields=True, plus=plus, paid=True)
        if _pairs(chunk, ctx, location, plus=plus, scope=scope, depth=depth, scanned=scanned):
            pairs[first : first + CHUNK] = chunk
            changed = True
    return _join(pairs, seps, sep) if changed else text


def _pairs(
    pairs: list[str],
    ctx: Context,
    location: Callable[[str], str],
    *,
    plus: bool,
    scope: Scope,
    depth: int,
    scanned: bool = False,
) -> bool:
    """Replace secret-named values in ``pairs`` and scan the rest (in place): changed?"""
    scan = not scope.empty
    changed = False
    verdicts = _verdicts(pairs, ctx, plus)
    for i, pair in enumerate(pairs):
        raw_name, eq, raw_value = pair.partition("=")
        verdict = verdicts[raw_name]
        if verdict is _ALLOWED or not (scan or (eq and verdict is _SECRET)):
            continue
        name = _decode(raw_name, plus)
        if eq and verdict is _SECRET:
            if not raw_value:
                continue
            value = _decode(raw_value, plus)
            if not key_path(name, value, location(name), ctx.policy.secret_field.whole_only):
                if holds_return_url(name, value):
                    # RelayState=/dashboard: a return URL, scanned as one (relaystate.py).
                    ctx.spend(URL_COST)
                    new = url(value, ctx, location(name))
                    kept = value is raw_value  # url() wrote its own escapes
                else:
                    new = ctx.secret(value, location(name))
                    # Sent unencoded, written back so: a pseudonym adds no "%" or "+".
                    kept = value is raw_value and "%" not in new and "+" not in new
                if new != value:
                    pairs[i] = f"{raw_name}={new if kept else _encode(new, plus)}"
                    changed = True
                continue
            if not scan:
                continue  # a storage path, with nothing to look for in it
        ctx.spend(SCAN_COST)
        where = location(name)
        new_name = component(
            raw_name, ctx, where, plus=plus, scope=scope, depth=depth, scanned=scanned
        )
        # build=6011.0000.0000.0004: a version, not a card (versions.py).
        value_scope = without_cards(scope) if names_version(name, raw_value) else scope
        new_value = (
            component(
                raw_value, ctx, where, plus=plus, scope=value_scope, depth=depth, scanned=scanned
            )
            if eq
            else ""
        )
        if new_name != raw_name or new_value != raw_value:
            pairs[i] = f"{new_name}{eq}{new_value}"
            changed = True
    return changed


def _verdicts(pairs: list[str], ctx: Context, plus: bool) -> dict[str, str]:
    """Each distinct raw name of ``pairs`` -> allowed, secret or other.

    Names holding none of the words a secret name needs are told apart all at once:
    one RE2 pass over the names joined, and only a name a word was found in is decoded
    and matched against the rules. That holds for the decoded name too unless an escape
    decodes to a letter or digit (then every name with an escape is matched one by one).
    """
    raws = list(dict.fromkeys(map(itemgetter(0), map(str.partition, pairs, repeat("=")))))
    ctx.spend(len(raws) // NAMES_PER_UNIT)
    verdicts = dict.fromkeys(raws, _OTHER)
    policy = ctx.policy
    hints = _hints(policy.secret_field)
    encoded = [raw.encode("utf-8", "surrogatepass") for raw in raws]
    joined = b"\n".join(encoded)
    if hints is None or policy.allowed_field or _WORD_ESCAPE.search(joined) is not None:
        for raw in raws:
            verdicts[raw] = _name(raw, ctx, plus)
        return verdicts
    ends = list(accumulate(len(raw) + 1 for raw in encoded))  # just past each "\n"
    at = 0
    while (found := hints.search(joined, at)) is not None:
        index = bisect.bisect_right(ends, found.start())
        verdicts[raws[index]] = _name(raws[index], ctx, plus)
        at = ends[index]  # the next name
    return verdicts


_ALLOWED = "allowed"
_SECRET = "secret"
_OTHER = "other"


def _name(raw: str, ctx: Context, plus: bool) -> str:
    """Is a pair's name (decoded) allowed, secret or neither?"""
    ctx.spend(NAME_COST)
    name = _decode(raw, plus)
    key = name if len(name) <= _NAME_REACH else name[-_NAME_REACH:]
    policy = ctx.policy
    if policy.allowed_field and policy.allowed_field.matches(key):
        return _ALLOWED
    if policy.secret_field.matches(key) or secret_param(key):
        return _SECRET
    return _OTHER


def _may_name_secret(text: str, ctx: Context, plus: bool) -> bool:
    """Could a name in ``text`` (as sent or decoded once) be secret? Never misses one."""
    hints = _hints(ctx.policy.secret_field)
    if hints is None:
        return True
    if hints.search(text.encode("utf-8", "surrogatepass")) is not None:
        return True
    decoded = _decode(text, plus)
    return (
        decoded is not text and hints.search(decoded.encode("utf-8", "surrogatepass")) is not None
    )


@lru_cache(maxsize=8)
def _hints(secret_field: NameMatcher) -> re2._Regexp | None:
    """One case-insensitive RE2 pass for every word a secret name must hold (None:
    any name may be secret). Keyed by the matcher itself, not by its tuple of words,
    which would be hashed on every call."""
    field_hints = secret_field.hints
    if field_hints is None:
        return None
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    words = sorted({*field_hints, *_PARAM_HINTS})
    return re2.compile("|".join(map(re2.escape, words)), options)


def path(text: str, ctx: Context, location: str, *, scope: Scope | None = None) -> str:
    """A URL path: each segment scanned as is and decoded; ``;name=value`` params by name.

    A segment is a credential itself when it follows a trigger word (``/reset/<token>``),
    when it looks like a random token (see high_entropy), or when it is an ASP.NET
    cookieless session (``/(S(<id>))/``).
    """
    if not text:
        return text
    if scope is None:
        scope = scope_of(text, ctx, plus=False)
    ctx.spend((text.count("/") + 1) * (SCAN_COST if not scope.empty else SEGMENT_COST))
    segments = text.split("/")
    # Told once for the whole path, not for each segment's matrix parameters.
    named = not scope.empty or (";" in text and _may_name_secret(text, ctx, False))
    changed = False
    after_trigger = False
    for i, segment in enumerate(segments):
        if not segment:
            continue
        head, semi, matrix = segment.partition(";")
        decoded = _decode(head, False)
        if i >= 2 and not segments[i - 1] and _SCHEME.fullmatch(segments[i - 2]):
            new = _authority(head, ctx, location)  # /fetch/http://user:pass@host/...
        elif (after_trigger and not _plain_word(decoded)) or high_entropy(decoded):
            new = _encode(_token(decoded, ctx, location), False) if decoded else head
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
            new += ";" + _matrix(matrix, ctx, location, scope, named)
        if new != segment:
            segments[i] = new
            changed = True
    return "/".join(segments) if changed else text


#: A URL's scheme as a path segment before ``//``: ``/fetch/https://host/...``.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,20}:")


def _authority(host: str, ctx: Context, location: str) -> str:
    """``user:password@host``: the userinfo replaced, as in url(); the host kept."""
    userinfo, at, hostport = host.rpartition("@")
    if not at:
        return host
    user, colon, password = userinfo.partition(":")
    secret = ctx.secret(password, location) if colon else ""
    return ctx.secret(user, location) + colon + secret + at + hostport


def _token(segment: str, ctx: Context, location: str) -> str:
    """A token segment replaced, its file extension kept (``<hash>.js`` stays a .js)."""
    stem, extension = _file_name(segment)
    return ctx.secret(stem, location) + extension if stem else ctx.secret(segment, location)


def _file_name(segment: str) -> tuple[str, str]:
    """``("app.3f9a", ".js")`` for ``app.3f9a.js``; ``(segment, "")`` without an extension."""
    stem, dot, extension = segment.rpartition(".")
    if dot and stem and 0 < len(extension) <= 5 and extension.isalnum() and extension.islower():
        return stem, dot + extension
    return segment, ""


def _matrix(matrix: str, ctx: Context, location: str, scope: Scope, named: bool) -> str:
    """``;a=1;b=2`` after a segment: each parameter read like a query string."""
    if "&" not in matrix:  # one pair per parameter: read them all at once
        return params(
            matrix, ctx, lambda _name: location, plus=False, scope=scope, sep=";", named=named
        )
    items = matrix.split(";")
    ctx.spend(len(items) * SCAN_COST)
    return ";".join(
        params(p, ctx, lambda _name: location, plus=False, scope=scope, named=named) for p in items
    )


#: A URL in a body with a path segment holding a trigger word (as a substring: the word
#: rules are applied in Python to what this finds) and a segment after it.
_TRIGGER_LINK = re2.compile(
    r"(?i)://[^\s\"'<>\\/]{1,256}(?:/[^\s\"'<>\\/?#]{0,256})*?/[^\s\"'<>\\/?#]{0,64}"
    r"(?:reset|verif|token|key|invit|confirm|unsubscribe|magic|activat|otp|passwordless|recover)"
    r"[^\s\"'<>\\/?#]{0,64}/[^\s\"'<>\\/?#&]"
)
_URL_TAIL = re.compile(r"[^\s\"'<>\\]{0,2048}")
#: Work units per link found that way: split and read in Python, and its token made a
#: known secret (a pseudonym and its encoded forms), about 20 us.
LINK_COST = 25


#: A link's "://" percent-encoded once or twice, in either case ("%3A%2F%2F", "%253a...").
#: (Python's ``re``: a bounded pattern from a literal "%", and any str, surrogates too.)
_ENCODED_SCHEME = re.compile(r"%(?:25)?3[aA]%(?:25)?2[fF]%(?:25)?2[fF]")
#: The same in RE2 over ASCII text: Python's ``re`` tries it at every "%", and a
#: percent-encoded text has one every three characters.
_ENCODED_SCHEME_BYTES = re2.compile(_ENCODED_SCHEME.pattern.encode())


def _holds_encoded_scheme(text: str) -> bool:
    if text.isascii():
        return _ENCODED_SCHEME_BYTES.search(text.encode("ascii")) is not None
    return _ENCODED_SCHEME.search(text) is not None


def link_tokens(text: str, ctx: Context) -> None:
    """Tokens in the links a body or a query carries (``"reset_url":
    "https://app/reset/<token>"``, ``<a href=".../verify/<token>">``, ``next=`` a link
    percent-encoded once or twice): the segment after a trigger word, as in a request
    path (see path), is made a known secret, so that the echo that reads the text replaces
    it wherever it stands there, in any encoding, with the location it stands at.

    A text holding an encoded link is decoded whole (in C) up to MAX_DECODE times, each
    layer after the first paid for as a URL part's are (LAYER_COST per KiB)."""
    if ctx.echo_only:
        return
    if "://" in text:
        _link_tokens(text, ctx)
    if "%" not in text or not _holds_encoded_scheme(text):
        return
    layer = text
    for depth in range(1, MAX_DECODE + 1):
        decoded = unquote(layer)
        if decoded == layer:
            return
        if depth > 1:
            ctx.spend(len(layer) * LAYER_COST // 1024)
        layer = decoded
        if "://" in layer:
            _link_tokens(layer, ctx)
        if "%" not in layer:
            return


def _link_tokens(text: str, ctx: Context) -> None:
    for found in _TRIGGER_LINK.finditer(text):
        ctx.spend(LINK_COST)
        url = _URL_TAIL.match(text, found.start() + 3)
        rest = url.group(0).partition("/")[2] if url is not None else ""
        segments = rest.split("?", 1)[0].split("#", 1)[0].split("&", 1)[0].split("/")
        ctx.spend(len(segments) * SEGMENT_COST)
        after_trigger = False
        for segment in segments:
            decoded = _decode(segment, False)
            if after_trigger and decoded and not _plain_word(decoded):
                ctx.remember(decoded, ctx.pseudonym(decoded))
            after_trigger = len(decoded) <= _TRIGGER_REACH and any(
                word in PATH_TRIGGERS for word in words(decoded)
            )


def _plain_word(segment: str) -> bool:
    """A lower-case word or words (``email``, ``reset-password``): an endpoint, not a token."""
    parts = segment.replace("-", "_").split("_")
    return 0 < len(segment) <= 40 and all(p.isalpha() and p.islower() for p in parts)


def high_entropy(segment: str) -> bool:
    """Does a path segment look like a random token rather than an id, a slug or a word?

    Tokens (base62 or base64url, 20 characters or more) hold digits, switch between upper
    case, lower case and digits often and spread over many characters; slugs (mostly
    words between separators) and camel-case names do not; UUIDs and other hex ids
    (resource ids far more often than secrets) are left alone, as are numbers. Every
    test is a whole-string operation in C: a segment costs no Python step per character.
    """
    segment = _file_name(segment)[0]  # a file name: "<content hash>.js"
    if len(segment) < ENTROPY_MIN_LENGTH or len(segment) > 4096:
        return False
    chars = set(segment)
    if not chars <= _TOKEN_CHARS or chars <= _HEX:
        return False
    if _slug(segment) or _fingerprinted(segment):
        return False
    classes = segment.translate(_CLASS_OF)  # "0" digit, "1" upper, "2" lower
    if "0" not in classes or len(set(classes)) < 2:  # camelCase names have no digits
        return False
    switches = sum(map(classes.count, _SWITCHES))
    if switches < ENTROPY_MIN_SWITCHES * (len(classes) - 1):
        return False
    size = len(segment)
    bits = -sum(n / size * math.log2(n / size) for n in Counter(segment).values())
    return bits >= ENTROPY_MIN_BITS


def _fingerprinted(segment: str) -> bool:
    """Words and a content hash (``app.3f9a1c2b7d6e5f4a``, ``_app-0c5e8a1b2d3f4a6b``): a
    build's asset name, each part a word in one case or hex in one case."""
    parts = [p for p in _SEPARATOR.split(segment) if p]
    return len(parts) >= 2 and all(_word_or_hash(p) for p in parts)


def _word_or_hash(part: str) -> bool:
    if part.isalpha():
        return part.islower() or part.isupper() or part.istitle()
    return set(part) <= _HEX and (part.islower() or part.isupper() or part.isdigit())


def _slug(segment: str) -> bool:
    """Words joined by separators (``how-to-Use-HTTP2-in-2024``): most parts are words."""
    parts: list[str] = [p for p in _SEPARATOR.split(segment) if p]
    if len(parts) < 3:
        return False
    return sum(p.isalpha() for p in parts) * 3 >= len(parts) * 2


def _cookieless(raw: str, ctx: Context, location: str) -> str:
    """``(S(id))`` or ``(S(id)F(ticket))``: each inner value replaced, the letters kept."""
    decoded = _decode(raw, False)
    inner = decoded[1:-1]
    ctx.spend(inner.count("(") * SEGMENT_COST)
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
        host = _authority(host, ctx, location)
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
    scanned: bool = False,
) -> str:
    """One percent-encoded component: scanned as is, then decoded if it is encoded.

    A decoded value that is still encoded (URL-encoded twice) is decoded again, up to
    MAX_DECODE times; a change at any depth is encoded back as many times. ``scanned``:
    the text as it is was scanned already (it is a decoded value, or part of one).
    """
    if not raw:
        return raw
    out = raw if scanned else ctx.text(raw, location, scope=scope)
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
        inner = params(query, ctx, lambda _name: location, scope=scope, depth=depth, scanned=True)
        return head + question + inner
    return component(text, ctx, location, plus=False, scope=scope, depth=depth, scanned=True)


def _decode(raw: str, plus: bool) -> str:
    """``raw`` percent-decoded; a long text decoded lately is not decoded again (a URL
    part's layers and its name check decode the same text, with its later layers in
    between)."""
    if len(raw) < _DECODED_REACH:
        return unquote(raw, plus=plus)
    global _decoded
    recent = _decoded
    for text, as_plus, out in recent:
        if text is raw and as_plus == plus:
            return out
    out = unquote(raw, plus=plus)
    _decoded = ((raw, plus, out), *recent[: _DECODED_KEPT - 1])
    return out


#: Texts at least this long are remembered when decoded (the last few only: one URL
#: part's layers).
_DECODED_REACH = 4096
_DECODED_KEPT = 4
_decoded: tuple[tuple[str, bool, str], ...] = ()


def _encode(value: str, plus: bool) -> str:
    return quote_plus(value, safe=_SAFE) if plus else quote(value, safe=_SAFE)
