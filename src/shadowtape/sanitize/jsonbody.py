"""JSON bodies: secret-named keys and rule paths at any depth, free text in every string.

A body with nothing suspicious is never parsed: cheap substring checks on the raw text
(detector hints, key-name hints, known secrets) prove that walking it would change
nothing, and the body is kept byte for byte. When something is replaced, the document is
written back with orjson (two-space indent if the original was indented).
"""

from __future__ import annotations

import json
import math

import orjson
import re2

from shadowtape.sanitize.context import Context, Scope
from shadowtape.sanitize.detectors import luhn_ok
from shadowtape.sanitize.jsonpath import PathElement, render
from shadowtape.sanitize.textfields import may_hold_text_fields

JsonValue = object
_LONG_DIGITS = re2.compile(r"[0-9]{19}")


def sanitize_json(text: str, ctx: Context, base: str) -> str | None:
    """The sanitized document, ``text`` itself if nothing changed, None if not JSON."""
    scope = ctx.scope(text)
    if not _needs_walk(text, ctx, scope):
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
    if _escapes_hide(text):
        scope = Scope(ctx.policy.detectors, bool(ctx.echo), True)
    before = ctx.replaced
    try:
        new = _Walker(ctx, base, scope).walk(data, False)
    except RecursionError:
        return None
    if ctx.replaced == before:
        return text
    indent = "\n " in text
    if big_numbers:
        return json.dumps(new, ensure_ascii=False, indent=2 if indent else None)
    return orjson.dumps(new, option=orjson.OPT_INDENT_2 if indent else 0).decode()


def _needs_walk(text: str, ctx: Context, scope: Scope) -> bool:
    if scope.detectors or scope.echo or ctx.policy.secret_paths or _escapes_hide(text):
        return True
    if not scope.fields:
        return False
    if may_hold_text_fields(text):  # a value may hold "token=...", "<secret>", "pwd: x"
        return True
    return ctx.policy.json_keys_may_match(text)


def _escapes_hide(text: str) -> bool:
    """Can JSON escapes hide a secret from a scan of the raw text? Then scan every string."""
    if "\\" not in text:
        return False
    if "\\u" in text or "\\/" in text:
        return True
    return "earer" in text or "EARER" in text


class _Walker:
    __slots__ = ("base", "ctx", "has_paths", "path", "policy", "scan", "scope")

    def __init__(self, ctx: Context, base: str, scope: Scope) -> None:
        self.ctx = ctx
        self.policy = ctx.policy
        self.base = base
        self.path: list[PathElement] = []
        self.scope = scope
        self.scan = not scope.empty
        self.has_paths = bool(self.policy.secret_paths or self.policy.allowed_paths)

    def location(self) -> str:
        return self.base + render(self.path)

    def walk(self, node: JsonValue, secret: bool) -> JsonValue:
        if isinstance(node, str):
            if secret:
                return self.ctx.secret(node, self.location()) if node else node
            if not self.scan or not self.ctx.touches(node, self.scope):
                return node
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

    def _object(self, node: dict[str, JsonValue], secret: bool) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {}
        policy = self.policy
        for key, value in node.items():
            self.path.append(key)
            try:
                if policy.allowed_field.matches(key) or self._path_allowed():
                    out[key] = value
                    continue
                is_secret = secret or policy.secret_field.matches(key) or self._path_is_secret()
                new_value = self.walk(value, is_secret)
                if self.scan and self.ctx.touches(key, self.scope):
                    key = self.ctx.text(key, self.location(), scope=self.scope)
                out[key] = new_value
            finally:
                self.path.pop()
        return out

    def _array(self, node: list[JsonValue], secret: bool) -> list[JsonValue]:
        out = []
        for index, value in enumerate(node):
            self.path.append(index)
            try:
                if self._path_allowed():
                    out.append(value)
                else:
                    out.append(self.walk(value, secret or self._path_is_secret()))
            finally:
                self.path.pop()
        return out

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
