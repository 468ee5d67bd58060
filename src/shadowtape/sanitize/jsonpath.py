"""A small JSONPath subset for rules, and the path strings used in redaction locations.

Supported: ``$.a.b``, ``$['a b']``, ``$.items[0]``, ``$.items[*].id``, ``$.a.*`` and
recursive descent ``$..ssn``. That covers "this field, wherever it is"; filters and
slices are not supported and are rejected with a message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import orjson

PathElement = str | int

_ANY = ("any",)
_DESC = ("desc",)
_BARE = re.compile(r"[^.\[\]]+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TOKEN = re.compile(
    r"""\.\.|\.(?P<name>[^.\[\]]+)|\.\*|\[(?:(?P<index>-?\d+)|\*|'(?P<sq>[^']*)'|"(?P<dq>[^"]*)")\]"""
)

Token = tuple[str, ...] | tuple[str, PathElement]


class JsonPathError(ValueError):
    """A rule's JSON path uses syntax outside the supported subset."""


class JsonPath:
    """A compiled JSON path that matches concrete paths (tuples of keys and indexes)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._tokens = _parse(text)

    def matches(self, path: Sequence[PathElement]) -> bool:
        return _match(self._tokens, path, 0, 0)

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"


def _parse(text: str) -> tuple[Token, ...]:
    if not text.startswith("$"):
        raise JsonPathError(f"JSON path {text!r} must start with '$'")
    tokens: list[Token] = []
    pos = 1
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if found is None:
            raise JsonPathError(
                f"JSON path {text!r}: cannot read {text[pos:]!r}; supported: "
                "$.a.b, $['a b'], $.a[0], $.a[*], $.a.*, $..a"
            )
        raw = found.group(0)
        if raw == "..":
            tokens.append(_DESC)
            bare = _BARE.match(text, found.end())
            if bare is not None:
                name = bare.group(0)
                tokens.append(_ANY if name == "*" else ("key", name))
                pos = bare.end()
                continue
        elif raw in (".*", "[*]"):
            tokens.append(_ANY)
        elif found.group("index") is not None:
            tokens.append(("index", int(found.group("index"))))
        else:
            name = found.group("name") or found.group("sq") or found.group("dq") or ""
            tokens.append(("key", name))
        pos = found.end()
    if tokens and tokens[-1] == _DESC:
        raise JsonPathError(f"JSON path {text!r} must not end with '..'")
    return tuple(tokens)


def _match(tokens: tuple[Token, ...], path: Sequence[PathElement], ti: int, pi: int) -> bool:
    if ti == len(tokens):
        return pi == len(path)
    token = tokens[ti]
    if token == _DESC:
        return any(_match(tokens, path, ti + 1, k) for k in range(pi, len(path) + 1))
    if pi == len(path):
        return False
    element = path[pi]
    if token == _ANY:
        ok = True
    elif token[0] == "key":
        ok = isinstance(element, str) and element == token[1]
    else:
        ok = isinstance(element, int) and element == token[1]
    return ok and _match(tokens, path, ti + 1, pi + 1)


def render(path: Sequence[PathElement]) -> str:
    """``('user', 'emails', 0)`` -> ``$.user.emails[0]``; odd keys are bracket-quoted."""
    parts = ["$"]
    for element in path:
        if isinstance(element, int):
            parts.append(f"[{element}]")
        elif _IDENT.match(element):
            parts.append(f".{element}")
        else:
            parts.append(f"[{orjson.dumps(element).decode()}]")
    return "".join(parts)
