"""JSON bodies: secret-named keys and rule paths at any depth, free text in every string.

A body with nothing suspicious is never parsed: cheap substring checks on the raw text
(detector hints, key-name hints, known secrets) prove that walking it would change
nothing, and the body is kept byte for byte. When something is replaced, the document is
written back with orjson (two-space indent if the original was indented).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import orjson
import re2

from shadowtape.sanitize.context import Context, Scope
from shadowtape.sanitize.detectors import luhn_ok
from shadowtape.sanitize.jsonpath import PathElement, render
from shadowtape.sanitize.names import PAIR_NAMES, ascii_lower
from shadowtape.sanitize.textfields import may_hold_text_fields

JsonValue = object
_LONG_DIGITS = re2.compile(r"[0-9]{19}")
#: Keys that hold the value of a name/value pair object (names.PAIR_NAMES name it):
#: ``{"name": "DB_PASSWORD", "value": "..."}``, ``{"Key": "api_key", "Value": "..."}``.
PAIR_VALUES = frozenset({"value", "val", "values", "data", "content"})
#: The opening of a list of [name, value] pairs (``Object.entries``, a fetch ``headers``
#: list, Python's dict items): ``[["Authorization", "Bearer …"]]``.
_PAIR_LIST = re2.compile(r'\[\s*\[\s*"')
#: GraphQL: an argument bound to a variable, ``login(password: $p)``.
_GRAPHQL_BINDING = re2.compile(r"([A-Za-z_][A-Za-z0-9_]*)[\s,]*:[\s,]*\$([A-Za-z_][A-Za-z0-9_]*)")
#: A ``\\u`` or ``\\/`` escape can hide any secret; others only a Bearer scheme (in one
#: RE2 pass: a text of escaped newlines is a backslash every other character).
_HIDING_ESCAPES = re2.compile(rb"\\[u/]|earer|EARER")
#: A string is parsed as JSON (stringified JSON) at most this many times within itself.
MAX_STRINGIFIED = 8


def sanitize_json(text: str, ctx: Context, base: str) -> str | None:
    """The sanitized document, ``text`` itself if nothing changed, None if not JSON."""
    scope = ctx.scope(text)
    hidden = _Hidden(text)
    if not _needs_walk(text, ctx, scope, hidden):
        return text
    # orjson reads integers beyond 64 bits as floats (losing digits) and rejects NaN: the
    # standard library reads both exactly, so it takes those documents.
    big_numbers = _LONG_DIGITS.search(text) is not None
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
    new = _walked(data, ctx, base, scope, hidden())
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
    scope = ctx.scope(text)
    hidden = _Hidden(text)
    if not _needs_walk(text, ctx, scope, hidden):
        return data
    return _walked(data, ctx, base, scope, hidden())


def _walked(
    data: JsonValue, ctx: Context, base: str, scope: Scope, hidden: bool
) -> JsonValue | None:
    """The walked document, ``data`` itself when nothing was replaced, None if too deep."""
    if hidden:
        scope = Scope(ctx.policy.detectors, bool(ctx.echo), True)
    before = ctx.replaced
    try:
        new = _Walker(ctx, base, scope).walk(data, False)
    except RecursionError:
        return None
    return data if ctx.replaced == before else new


def _needs_walk(text: str, ctx: Context, scope: Scope, hidden: _Hidden) -> bool:
    if scope.detectors or scope.echo or ctx.policy.secret_paths or hidden():
        return True
    if not scope.fields:
        return False
    if may_hold_text_fields(text):  # a value may hold "token=...", "<secret>", "pwd: x"
        return True
    # A secret name as a value (name/value pairs, GraphQL arguments) or stringified JSON.
    if "alue" in text or "ALUE" in text or '"variables"' in text or '\\"' in text:
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
    return (
        "\\" in text and _HIDING_ESCAPES.search(text.encode("utf-8", "surrogatepass")) is not None
    )


class _Walker:
    __slots__ = ("base", "ctx", "has_paths", "nested", "path", "policy", "scan", "scope")

    def __init__(self, ctx: Context, base: str, scope: Scope) -> None:
        self.ctx = ctx
        self.policy = ctx.policy
        self.base = base
        self.path: list[PathElement] = []
        self.scope = scope
        self.scan = not scope.empty
        self.has_paths = bool(self.policy.secret_paths or self.policy.allowed_paths)
        self.nested = 0

    def location(self) -> str:
        return self.base + render(self.path)

    def walk(self, node: JsonValue, secret: bool) -> JsonValue:
        if isinstance(node, str):
            if secret:
                return self.ctx.secret(node, self.location()) if node else node
            if not self.scan or not self.ctx.touches(node, self.scope):
                return node
            stringified = self._stringified(node)
            if stringified is not None:
                return stringified
            return self.ctx.text(node, self.location(), fields=True, scope=self.scope)
        if isinstance(node, dict):
            return self._object(node, secret)
        if isinstance(node, list):
            return self._array(node, secret)
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int):
            return self._int(node, secret)
        if isinstance(node, float) and secret and math.isfinite(node):
            return self._float(node)
        return node

    def _stringified(self, node: str) -> str | None:
        """A string holding JSON (stringified once or more): walked, then written back."""
        head = node.lstrip()[:1]
        if head not in ("{", "[", '"') or self.nested >= MAX_STRINGIFIED:
            return None
        try:
            inner = orjson.loads(node)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(inner, dict | list | str) or (head == '"') != isinstance(inner, str):
            return None
        before = self.ctx.replaced
        self.nested += 1
        try:
            if isinstance(inner, str):
                new: JsonValue = self.walk(inner, False)
            else:
                new = self.walk(inner, False)
        finally:
            self.nested -= 1
        if self.ctx.replaced == before:
            return node
        return orjson.dumps(new).decode()

    def _object(
        self, node: dict[str, JsonValue], secret: bool, extra: frozenset[str] = frozenset()
    ) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {}
        policy = self.policy
        pair_secret = self._pair_value_keys(node)
        graphql = _graphql_secrets(node, policy.secret_field.matches)
        for key, value in node.items():
            if self.scan and self.ctx.touches(key, self.scope):
                key = self.ctx.text(key, self.location(), scope=self.scope)  # the parent's
            self.path.append(key)  # the sanitized key: a location never holds a value
            try:
                if policy.allowed_field.matches(key) or self._path_allowed():
                    out[key] = value
                    continue
                is_secret = (
                    secret
                    or key in extra
                    or key in pair_secret
                    or policy.secret_field.matches(key)
                    or self._path_is_secret()
                )
                if graphql and key == "variables" and isinstance(value, dict):
                    out[key] = self._object(value, is_secret, graphql)
                else:
                    out[key] = self.walk(value, is_secret)
            finally:
                self.path.pop()
        return out

    def _pair_value_keys(self, node: dict[str, JsonValue]) -> frozenset[str]:
        """The value keys of a name/value pair object whose name looks secret."""
        if len(node) > 8:
            return frozenset()
        named = any(
            key.lower() in PAIR_NAMES and self._secret_name(value) for key, value in node.items()
        )
        if not named:
            return frozenset()
        return frozenset(key for key in node if key.lower() in PAIR_VALUES)

    def _array(
        self, node: list[JsonValue], secret: bool, named_pair: bool = False
    ) -> list[JsonValue]:
        """``named_pair``: ``node`` is a [name, value] pair whose name looks secret."""
        pairs = not secret and _is_pair_list(node)
        out = []
        for index, value in enumerate(node):
            self.path.append(index)
            try:
                if self._path_allowed():
                    out.append(value)
                elif pairs and not self._path_is_secret():
                    assert isinstance(value, list)
                    out.append(self._array(value, False, self._secret_name(value[0])))
                else:
                    is_secret = secret or (named_pair and index == 1) or self._path_is_secret()
                    out.append(self.walk(value, is_secret))
            finally:
                self.path.pop()
        return out

    def _secret_name(self, name: JsonValue) -> bool:
        policy = self.policy
        return (
            isinstance(name, str)
            and policy.secret_field.matches(name)
            and not policy.allowed_field.matches(name)
        )

    def _int(self, node: int, secret: bool) -> int:
        if secret:
            if self.ctx.echo_only:
                return node
            self.ctx.record(self.location())
            return self.ctx.pseudo.number(node)
        if 10**12 <= node < 10**19:
            digits = str(node)
            if digits[0] in "23456" and luhn_ok(digits) and not self.ctx.echo_only:
                return int(self.ctx.detected(digits, self.location()))
        return node

    def _float(self, node: float) -> float:
        if self.ctx.echo_only:
            return node
        self.ctx.record(self.location())
        return float(self.ctx.pseudo.number(int(node)))

    def _path_is_secret(self) -> bool:
        return self.has_paths and any(p.matches(self.path) for p in self.policy.secret_paths)

    def _path_allowed(self) -> bool:
        return self.has_paths and any(p.matches(self.path) for p in self.policy.allowed_paths)


def _is_pair_list(node: list[JsonValue]) -> bool:
    """Is ``node`` a list of [name, value] pairs? Each item two long, a string first."""
    return bool(node) and all(
        isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) for item in node
    )


def _graphql_secrets(node: dict[str, JsonValue], secret: Callable[[str], bool]) -> frozenset[str]:
    """Variables bound to secret-named arguments in a GraphQL request object."""
    query, variables = node.get("query"), node.get("variables")
    if not isinstance(query, str) or not isinstance(variables, dict) or "$" not in query:
        return frozenset()
    return frozenset(
        found.group(2)
        for found in _GRAPHQL_BINDING.finditer(query)
        if secret(found.group(1)) and found.group(2) in variables
    )
