"""Endpoints from the traffic itself: ``/api/users/42/greeting`` -> ``/api/users/{id}/greeting``.

Numeric ids, id-like segments (SKU-00088: two or more digits, not a version like v2),
UUIDs and long hex segments become parameters at once. Other segments become
a parameter when their position is high-cardinality: many distinct values, most seen only
once or twice (slugs, usernames), which a prefix tree of the observed paths tells apart
from a handful of resource names each requested often. Routes given by the user, or read
from an OpenAPI document, always take precedence; OpenAPI operations the traffic never
reached are listed so the report can say they were not exercised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shadowtape.errors import ConfigError

_NUMERIC = re.compile(r"^-?\d+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^(?=.*\d)[0-9a-fA-F]{8,}$")
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
#: Word-like pieces joined by - _ . : holding at least two digits in all.
_ID_LIKE = re.compile(r"^(?=(?:\D*\d){2})[A-Za-z0-9]+(?:[-_.:][A-Za-z0-9]+)*$")
_VERSION = re.compile(r"^v\d+(?:\.\d+)*$", re.IGNORECASE)
_PARAM = re.compile(r"\{[^/{}]+\}")
_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE")
_WILD = "{param}"

#: A position with at least this many distinct values ...
MIN_DISTINCT = 20
#: ... of which at least this fraction were seen at most twice, is a parameter.
RARE_FRACTION = 0.7
#: Distinct values kept per position before it is a parameter regardless (bounds memory).
MAX_CHILDREN = 500


def normalize_segment(segment: str) -> str:
    if segment.isdigit() or _NUMERIC.match(segment):
        return "{id}"
    if len(segment) >= 8:
        if _UUID.match(segment) or _ULID.match(segment):
            return "{uuid}"
        if _HEX.match(segment):
            return "{hex}"
    if _ID_LIKE.match(segment) and not _VERSION.match(segment):
        # SKU-00088, user_42, INV-2024-0007: ids even when a few are requested often, which
        # the cardinality rule below cannot tell from resource names.
        return "{id}"
    return segment


@dataclass(slots=True)
class _Node:
    visits: int = 0
    children: dict[str, _Node] = field(default_factory=dict)
    wild: bool = False

    def merge(self, other: _Node) -> None:
        self.visits += other.visits
        self.wild = self.wild or other.wild
        for name, sub in other.children.items():
            mine = self.children.get(name)
            if mine is None:
                self.children[name] = sub
            else:
                mine.merge(sub)

    def collapse(self) -> None:
        """Turn this node's children into one parameter child."""
        merged = _Node()
        for sub in self.children.values():
            merged.merge(sub)
        self.children = {_WILD: merged}
        self.wild = True


@dataclass(frozen=True, slots=True)
class Route:
    """A route given by the user: a method (or any) and a path with ``{name}`` parameters."""

    method: str | None
    template: str
    regex: re.Pattern[str]
    literals: int

    @classmethod
    def parse(cls, text: str) -> Route:
        parts = text.split()
        if len(parts) == 2 and parts[0].upper() in _METHODS:
            method: str | None = parts[0].upper()
            template = parts[1]
        elif len(parts) == 1:
            method, template = None, parts[0]
        else:
            raise ConfigError(f"route {text!r} is not 'METHOD /path/{{param}}' or '/path'")
        if not template.startswith("/"):
            raise ConfigError(f"route {text!r}: the path must start with '/'")
        pattern = "".join(
            "[^/]+" if _PARAM.fullmatch(piece) else re.escape(piece)
            for piece in re.split(r"(\{[^/{}]+\})", template)
            if piece
        )
        literals = sum(1 for seg in template.split("/") if seg and not _PARAM.search(seg))
        return cls(method, template, re.compile(f"^{pattern}/?$"), literals)


class Templater:
    """Learns path templates from observed paths, then names each request's endpoint."""

    def __init__(self, routes: Sequence[Route] = ()) -> None:
        self.routes = sorted(routes, key=lambda r: (-r.literals, r.method is None))
        self._root: dict[str, _Node] = {}
        self._frozen = False
        self._cache: dict[tuple[str, str], str] = {}
        self._combined: dict[str, tuple[list[Route], re.Pattern[str] | None]] = {}
        self.exercised: set[Route] = set()

    def observe(self, method: str, path: str) -> None:
        if self._match_route(method, path, mark=False) is not None:
            return
        node = self._root.setdefault(method, _Node())
        node.visits += 1
        for seg in _segments(path):
            if node.wild:
                seg = _WILD
            sub = node.children.get(seg)
            if sub is None:
                if len(node.children) >= MAX_CHILDREN:
                    node.collapse()
                    seg = _WILD
                    sub = node.children[_WILD]
                else:
                    sub = node.children[seg] = _Node()
            sub.visits += 1
            node = sub

    def freeze(self) -> None:
        """Decide which positions are parameters; call once after the last observe."""
        for node in self._root.values():
            _decide(node)
        self._frozen = True

    def route(self, method: str, path: str) -> str:
        """The route template for a request: a user route, else the learned template."""
        key = (method, path)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        found = self._match_route(method, path, mark=True)
        if found is None:
            found = self._learned(method, path)
        if len(self._cache) < 100_000:
            self._cache[key] = found
        return found

    def _match_route(self, method: str, path: str, *, mark: bool) -> str | None:
        if not self.routes:
            return None
        combined = self._combined.get(method)
        if combined is None:
            combined = self._combined[method] = _combine(
                [r for r in self.routes if r.method is None or r.method == method]
            )
        routes, regex = combined
        found = regex.match(path) if regex is not None else None
        if found is None or found.lastgroup is None:
            return None
        route = routes[int(found.lastgroup[1:])]
        if mark:
            self.exercised.add(route)
        return route.template

    def _learned(self, method: str, path: str) -> str:
        node = self._root.get(method)
        out: list[str] = []
        for seg in _segments(path):
            if node is not None and node.wild:
                seg = _WILD
            out.append(seg)
            node = node.children.get(seg) if node is not None else None
        return _name_parameters(out)


def _combine(routes: list[Route]) -> tuple[list[Route], re.Pattern[str] | None]:
    """One alternation for all routes, in precedence order: one C-level match per path
    instead of a Python loop over hundreds of OpenAPI paths."""
    if not routes:
        return routes, None
    parts = [f"(?P<r{i}>{r.regex.pattern[1:-1]})" for i, r in enumerate(routes)]
    return routes, re.compile("^(?:" + "|".join(parts) + ")$")


def _segments(path: str) -> list[str]:
    return [normalize_segment(seg) for seg in path.split("?", 1)[0].split("/") if seg]


def _decide(node: _Node) -> None:
    literal = [sub for name, sub in node.children.items() if not name.startswith("{")]
    if not node.wild and len(literal) >= MIN_DISTINCT:
        rare = sum(1 for sub in literal if sub.visits <= 2)
        if rare / len(literal) >= RARE_FRACTION:
            node.collapse()
    for sub in node.children.values():
        _decide(sub)


def _name_parameters(segments: list[str]) -> str:
    seen: dict[str, int] = {}
    out: list[str] = []
    for seg in segments:
        if seg.startswith("{") and seg.endswith("}"):
            name = seg[1:-1]
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                seg = f"{{{name}{seen[name]}}}"
        out.append(seg)
    return "/" + "/".join(out)


def load_routes(path: Path) -> list[Route]:
    """Routes from a text file (one ``[METHOD] /path/{param}`` a line, # comments) or TOML."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read routes file {path}: {exc.strerror}") from None
    if path.suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        lines = data.get("routes", data.get("tool", {}).get("shadowtape", {}).get("routes", []))
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise ConfigError(
                f"{path}: 'routes' must be a list of strings like 'GET /users/{{id}}'"
            )
    else:
        lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [Route.parse(line) for line in lines if line]


def load_openapi(path: Path) -> list[Route]:
    """Every operation of an OpenAPI (or Swagger) document, JSON or YAML, as a Route."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read OpenAPI document {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not an OpenAPI document (not UTF-8 text)") from None
    doc = _parse_document(path, text)
    paths = doc.get("paths") if isinstance(doc, dict) else None
    if not isinstance(paths, dict):
        raise ConfigError(f"{path}: not an OpenAPI document (no 'paths' object)")
    base = _base_path(doc)
    routes: list[Route] = []
    for template, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method in item:
            if method.upper() in _METHODS:
                routes.append(Route.parse(f"{method.upper()} {base}{template}"))
    return routes


def _parse_document(path: Path, text: str) -> dict[str, object]:
    import json

    try:
        doc = json.loads(text)
    except ValueError:
        try:
            from ruamel.yaml import YAML  # installed with mitmproxy
        except ImportError:  # pragma: no cover - mitmproxy always brings it
            raise ConfigError(f"{path}: not JSON, and no YAML parser is installed") from None
        try:
            doc = YAML(typ="safe").load(text)
        except Exception as exc:  # ruamel raises many unrelated types
            raise ConfigError(f"{path}: neither JSON nor YAML ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: not an OpenAPI document (top level is not an object)")
    return doc


def _base_path(doc: dict[str, object]) -> str:
    servers = doc.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = str(servers[0].get("url", ""))
        path = re.sub(r"^[a-z]+://[^/]+", "", url)
        return path.rstrip("/") if path.startswith("/") else ""
    base = doc.get("basePath")
    return str(base).rstrip("/") if isinstance(base, str) else ""


def routes_from(lines: Iterable[str]) -> list[Route]:
    return [Route.parse(line) for line in lines]
