"""JSON bodies: secret-named keys and rule paths at any depth, free text in every string.

A body with nothing suspicious is never parsed: cheap substring checks on the raw text
(detector hints, key-name hints, known secrets) prove that walking it would change
nothing, and the body is kept byte for byte. Otherwise it is parsed and walked
(jsonwalk), with what the raw text tells about it. When something is replaced, the
document is written back with orjson (two-space indent if the original was indented).
"""

from __future__ import annotations

import json
import re

import orjson
import re2

from shadowtape.sanitize.context import Context, Scope
from shadowtape.sanitize.jsonwalk import JsonValue, Walker
from shadowtape.sanitize.names import ascii_lower
from shadowtape.sanitize.textfields import may_hold_text_fields

#: An integer of 19 digits or more (not the fraction of a float, which orjson reads).
_LONG_DIGITS = re2.compile(r"(?:^|[^0-9.eE+\-])-?[0-9]{19}")
#: The opening of a list of [name, value] pairs (``Object.entries``, a fetch ``headers``
#: list, Python's dict items): ``[["Authorization", "Bearer …"]]``.
_PAIR_LIST = re2.compile(r'\[\s*\[\s*"')
#: A ``\\u`` or ``\\/`` escape can hide any secret; others only a Bearer scheme (in one
#: RE2 pass: a text of escaped newlines is a backslash every other character).
_HIDING_ESCAPES = re2.compile(rb"\\[u/]|earer|EARER")
_SHORT_TEXT = 4096
#: An escaped control character (``\\n``, ``\\t``, ``\\u001f``) before what may start a
#: value: where a string holds a blank, the text shows a letter or digit, so a card
#: number after an escaped newline would not look like one. Looked for in one RE2 pass;
#: where there is one, the detectors' scope is taken with each escape a newline.
_CONTROL_BEFORE_VALUE = re2.compile(rb"\\(?:[nrtbf]|u00[01][0-9A-Fa-f])[0-9A-Za-z+%_\-]")
_CONTROL_ESCAPES = ("\\n", "\\r", "\\t", "\\b", "\\f")
_CONTROL_CODES = re.compile(r"\\u00[01][0-9A-Fa-f]")


def sanitize_json(text: str, ctx: Context, base: str) -> str | None:
    """The sanitized document, ``text`` itself if nothing changed, None if not JSON."""
    scope = _scope(text, ctx) if "\\" in text else ctx.scope(text)
    hidden = _Hidden(text)
    if not _needs_walk(text, ctx, scope, hidden):
        return text
    # orjson reads integers beyond 64 bits as floats (losing digits) and rejects NaN: the
    # standard library reads both exactly, so it takes those documents.
    # As bytes when ASCII: RE2 on a str converts offsets at a few ms a MiB.
    big_numbers = _LONG_DIGITS.search(text.encode() if text.isascii() else text) is not None
    try:
        data = json.loads(text) if big_numbers else orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            data = json.loads(text)
            big_numbers = True
        except (ValueError, RecursionError):
            return None
    except (ValueError, RecursionError):
        return None
    new = _walked(data, ctx, base, scope, hidden(), text)
    if new is data:
        return text
    if new is None:
        return None
    indent = "\n " in text
    if big_numbers:
        return json.dumps(new, ensure_ascii=False, indent=2 if indent else None)
    return orjson.dumps(new, option=orjson.OPT_INDENT_2 if indent else 0).decode()


def sanitize_document(data: JsonValue, text: str, ctx: Context, base: str) -> JsonValue | None:
    """``data`` (what ``text``, its JSON, reads as) sanitized: ``data`` itself when nothing
    changed, None when too deep to walk. For a document decoded from another format
    (MessagePack), which need not be written as JSON and read back."""
    scope = _scope(text, ctx) if "\\" in text else ctx.scope(text)
    hidden = _Hidden(text)
    if not _needs_walk(text, ctx, scope, hidden):
        return data
    return _walked(data, ctx, base, scope, hidden(), text)


def _walked(
    data: JsonValue, ctx: Context, base: str, scope: Scope, hidden: bool, text: str
) -> JsonValue | None:
    """The walked document, ``data`` itself when nothing was replaced, None if too deep."""
    before = ctx.replaced
    try:
        walker = _walker(ctx, base, data, text, None if hidden else scope, echo=bool(ctx.echo))
        new = walker.walk(data, False, None)
    except RecursionError:
        return None
    return data if ctx.replaced == before else new


def _walker(
    ctx: Context, base: str, data: JsonValue, text: str, scope: Scope | None, *, echo: bool
) -> Walker:
    """The walker of ``data``, read from ``text`` whose scope is ``scope``, or None when
    escapes in ``text`` may hide what its strings hold: then the scope is taken again
    from the document written back without them, echoing known secrets if ``echo``.
    JSON inside its strings may hold escapes of its own: each such document is read the
    same way (see Walker.inner)."""
    escaped = False
    if scope is None:
        text = _unescaped(data)
        if text:
            scope = _scope(text, ctx, echo=echo)
            escaped = _escapes_hide(text)
        else:
            scope = Scope(ctx.policy.detectors, echo, True)
    # A string value may hold a secret name (a field, a pair's name) only if the text
    # holds one in a value.
    named = scope.fields and (not text or ctx.policy.secret_field.in_json_values(text))
    return Walker(ctx, base, scope, named, text, escaped, reader=_inner)


def _inner(ctx: Context, base: str, data: JsonValue, echo: bool) -> Walker:
    """The walker of a document inside a string, which escapes may hide things in;
    ``echo`` as in the document around it, whatever it found since: a secret echoed into
    a field's name (``password=...``) would hide the field."""
    return _walker(ctx, base, data, "", None, echo=echo)


def _scope(text: str, ctx: Context, *, echo: bool | None = None) -> Scope:
    """``ctx.scope(text)``, its detectors told from the text as its strings read
    (``echo``: whether to echo, if not as ``text`` tells)."""
    if ctx.echo_only or "\\" not in text:
        scope = ctx.scope(text)
        return scope if echo is None else Scope(scope.detectors, echo, scope.fields)
    found, named = ctx.policy.static_scope(_controls_read(text))
    return Scope(found, ctx.has_echo(text) if echo is None else echo, named)


def _controls_read(text: str) -> str:
    """``text``, with each escaped control character a newline if one may stand right
    before a value (``str.replace``: a megabyte of escaped newlines costs milliseconds)."""
    if _CONTROL_BEFORE_VALUE.search(text.encode("utf-8", "surrogatepass")) is None:
        return text
    for escape in _CONTROL_ESCAPES:
        if escape in text:
            text = text.replace(escape, "\n")
    return _CONTROL_CODES.sub("\n", text) if "\\u00" in text else text


def _unescaped(data: JsonValue) -> str:
    """``data`` written as JSON with no escapes but those JSON requires (no ``\\u`` but
    for control characters); empty if it cannot be."""
    try:
        return orjson.dumps(data).decode()
    except (TypeError, orjson.JSONEncodeError):
        pass  # an integer beyond 64 bits: the standard library writes it
    try:
        text = json.dumps(data, ensure_ascii=False)
        text.encode()  # a lone surrogate (UnicodeEncodeError): not a text to scope
    except (TypeError, ValueError, RecursionError):
        return ""
    return text


def _needs_walk(text: str, ctx: Context, scope: Scope, hidden: _Hidden) -> bool:
    if scope.detectors or scope.echo or ctx.policy.secret_paths or hidden():
        return True
    if "ookie" in text or "OOKIE" in text:  # a Cookie line in a header list or pair object
        return True
    if not scope.fields:
        return False
    if may_hold_text_fields(text):  # a value may hold "token=...", "<secret>", "pwd: x"
        return True
    # A secret name as a value (name/value pairs, GraphQL arguments) or stringified JSON.
    if "alue" in text or "ALUE" in text or '"variables"' in text or '\\"' in text:
        return True
    if '"Secret' in text:  # a Kubernetes Secret: its data is secret whatever its keys
        return True
    if ctx.policy.json_keys_may_match(text):
        return True
    return _PAIR_LIST.search(text) is not None and ctx.policy.secret_field.may_occur(
        ascii_lower(text)
    )


class _Hidden:
    """Can JSON escapes hide a secret from a scan of the raw text? Then scan every string.

    Searched once, when first asked (a text of escaped tabs is a backslash every other
    character: a megabyte of them is a few milliseconds).
    """

    __slots__ = ("_found", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._found: bool | None = None

    def __call__(self) -> bool:
        if self._found is None:
            self._found = _escapes_hide(self._text)
        return self._found


def _escapes_hide(text: str) -> bool:
    """Can JSON escapes hide a secret from a scan of the raw text? Then scan every string."""
    if "\\" not in text:
        return False
    if len(text) < _SHORT_TEXT:  # "in" costs less than a call into RE2
        return "\\u" in text or "\\/" in text or "earer" in text or "EARER" in text
    return _HIDING_ESCAPES.search(text.encode("utf-8", "surrogatepass")) is not None
