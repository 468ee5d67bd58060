"""The request parameters that size the work, and a seed resized along one of them.

The rule, per endpoint (its seeds):

- a query parameter whose values are whole numbers of 1 or more is a size when its name
  says so (``limit``, ``page_size``, ``count``, ... in ``SIZE_NAMES``, any case, ``-`` as
  ``_``), or when its recorded values vary across the seeds and its name is not a position
  or an identity (``page``, ``offset``, ``id``, ``*_id``, ... in ``NOT_SIZES``): a page
  number or an id grows without sizing anything;
- an array in a JSON request body (top level, or a field up to two objects deep) holding
  one item or more is a size, its length the value; it is resized by repeating its items.

A seed that does not carry the parameter (or carries 0) is not resized along it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import orjson

from shadowtape.probe.sample import Seed

SIZE_NAMES = frozenset(
    {
        "limit",
        "page_size",
        "pagesize",
        "per_page",
        "perpage",
        "size",
        "count",
        "n",
        "top",
        "first",
        "last",
        "max",
        "max_results",
        "maxresults",
        "take",
        "num",
        "rows",
        "batch_size",
    }
)
NOT_SIZES = frozenset(
    {"page", "offset", "skip", "start", "cursor", "after", "before", "from", "since", "id"}
)
#: JSON objects are searched for arrays this many levels deep.
BODY_DEPTH = 2
_WHOLE = re.compile(r"[0-9]{1,9}")
#: Headers that describe the body as recorded, wrong once it is resized.
_BODY_HEADERS = frozenset({"content-length", "transfer-encoding", "content-md5", "digest"})


@dataclass(frozen=True, slots=True)
class SizeParameter:
    """``kind`` "query" (``name`` the parameter) or "body" (``name`` the path of the array:
    ``items``, ``order.lines``, or ``$`` for a body that is an array)."""

    kind: str
    name: str

    @property
    def label(self) -> str:
        return self.name if self.kind == "query" else f"body {self.name}[]"


def _normal(name: str) -> str:
    return name.lower().replace("-", "_")


def _query_pairs(query: str) -> list[tuple[str, str]]:
    out = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        out.append((name, value))
    return out


def _arrays(value: object, path: str, depth: int) -> dict[str, int]:
    if isinstance(value, list):
        return {path or "$": len(value)} if value else {}
    out: dict[str, int] = {}
    if isinstance(value, dict) and depth < BODY_DEPTH:
        for key, item in value.items():
            out.update(_arrays(item, f"{path}.{key}" if path else str(key), depth + 1))
    return out


def _body(seed: Seed) -> object:
    if not seed.body:
        return None
    try:
        return orjson.loads(seed.body)
    except orjson.JSONDecodeError:
        return None


def size_of(seed: Seed, parameter: SizeParameter) -> int:
    """The seed's recorded size along ``parameter``; 0 when it does not carry it."""
    if parameter.kind == "query":
        for name, value in _query_pairs(seed.query):
            if name == parameter.name and _WHOLE.fullmatch(value):
                return int(value)
        return 0
    return _arrays(_body(seed), "", 0).get(parameter.name, 0)


def find_parameters(seeds: Sequence[Seed]) -> list[SizeParameter]:
    """The size parameters of an endpoint's seeds, query parameters first, by name."""
    values: dict[str, set[int]] = {}
    body: set[str] = set()
    for seed in seeds:
        for name, value in _query_pairs(seed.query):
            if _WHOLE.fullmatch(value):
                values.setdefault(name, set()).add(int(value))
        body.update(_arrays(_body(seed), "", 0))
    found = []
    for name, seen in sorted(values.items()):
        normal = _normal(name)
        if max(seen) < 1 or normal in NOT_SIZES or normal.endswith("_id"):
            continue
        if normal in SIZE_NAMES or len(seen) > 1:
            found.append(SizeParameter("query", name))
    found.extend(SizeParameter("body", path) for path in sorted(body))
    return found


def resize(seed: Seed, parameter: SizeParameter, size: int) -> Seed:
    """``seed`` asking for ``size`` along ``parameter`` (a body array's items repeated)."""
    if parameter.kind == "query":
        parts = [
            f"{name}={size}" if name == parameter.name and _WHOLE.fullmatch(value) else part
            for part, (name, value) in zip(
                seed.query.split("&"), _query_pairs(seed.query), strict=True
            )
        ]
        return replace(seed, query="&".join(parts))
    data = _body(seed)
    resized = _resized(data, parameter.name.split(".") if parameter.name != "$" else [], size)
    headers = tuple((n, v) for n, v in seed.headers if n.lower() not in _BODY_HEADERS)
    return replace(seed, body=orjson.dumps(resized), headers=headers)


def _resized(value: object, path: list[str], size: int) -> object:
    if not path:
        items = value if isinstance(value, list) else []
        return [items[i % len(items)] for i in range(size)] if items else items
    if isinstance(value, dict):
        head, *rest = path
        return {k: _resized(v, rest, size) if k == head else v for k, v in value.items()}
    return value
