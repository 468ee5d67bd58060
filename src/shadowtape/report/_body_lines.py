"""Bodies as display lines, each JSON line tagged with its location (``$.items[3].price``).

The HTML diff lines up baseline and candidate line by line and highlights the lines a
finding points at; that needs to know which location each printed line belongs to, so
JSON is pretty-printed here rather than by ``json.dumps(indent=...)``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# The differ's location syntax (shadowtape.diff.json.child); a test keeps the two in step.
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_LINES = 4000


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    location: str | None = None


def body_lines(body: str | None) -> list[Line]:
    """JSON bodies pretty-printed with locations; any other text split into lines."""
    if body is None:
        return []
    stripped = body.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            doc = _parse(body)
        except ValueError:
            pass
        else:
            out: list[Line] = []
            _emit(doc, "$", "", "", 0, out)
            return out[:MAX_LINES]
    return [Line(text, f"line:{i + 1}") for i, text in enumerate(body.splitlines()[:MAX_LINES])]


def _parse(body: str) -> Any:
    """The standard library, not orjson: it keeps integers beyond 64 bits exact."""
    return json.loads(body)


def child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENT.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def covers(location: str, path: str | None) -> bool:
    """True when a finding at `location` concerns the line at `path` (itself or inside).

    Locations may be patterns, with ``[*]`` standing for any array index.
    """
    if path is None:
        return False
    if "[*]" in location:
        return _pattern(location).match(path) is not None
    if path == location:
        return True
    return path.startswith(location) and path[len(location)] in ".["


@lru_cache(maxsize=1024)
def _pattern(location: str) -> re.Pattern[str]:
    body = re.escape(location).replace(re.escape("[*]"), r"\[\d+\]")
    return re.compile(f"{body}(?:$|[.\\[])")


def _emit(value: Any, path: str, prefix: str, suffix: str, depth: int, out: list[Line]) -> None:
    pad = "  " * depth
    if isinstance(value, dict) and value:
        out.append(Line(f"{pad}{prefix}{{", path))
        items = list(value.items())
        for i, (key, item) in enumerate(items):
            key_text = json.dumps(key, ensure_ascii=False) + ": "
            comma = "," if i < len(items) - 1 else ""
            _emit(item, child(path, key), key_text, comma, depth + 1, out)
        out.append(Line(f"{pad}}}{suffix}", path))
    elif isinstance(value, list) and value:
        out.append(Line(f"{pad}{prefix}[", path))
        for i, item in enumerate(value):
            _emit(item, child(path, i), "", "," if i < len(value) - 1 else "", depth + 1, out)
        out.append(Line(f"{pad}]{suffix}", path))
    else:
        text = json.dumps(value, ensure_ascii=False)
        out.append(Line(f"{pad}{prefix}{text}{suffix}", path))
