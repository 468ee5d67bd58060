"""The shapes probe's mutants: an endpoint's seeds, one parameter changed to an edge value.

The parameters of an endpoint are its query parameters, the path parameters its route
template names (``/users/{id}``) and its JSON body fields (top level and one level
nested). Each parameter's kind is inferred from the values the sampled seeds recorded
(numbers, strings, other JSON; a value of more than 18 digits is an id, not a number),
and its edge values are those of its kind the recording
has not reached: past the largest number seen (for a page or offset: past the last page
seen), zero, negative, 2**31 and 2**63; empty, very long, non-ASCII, mixed-script,
right-to-left and emoji strings; for a body field also null, an empty array, an empty
object and the field missing. A mutant changes one parameter of the first seed that has
it. The order is deterministic (a parameter's first appearance, then round robin over the
parameters by the rank of their values), so the cap keeps each parameter's first values
and a rerun sends the same mutants.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus

from shadowtape.probe.sample import Seed

#: A very long string has this many characters.
LONG = 10_000
#: Parameters whose largest value seen is the last page reached.
PAGING = frozenset({"page", "offset", "skip", "start", "from", "page_number", "pagenumber", "p"})
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_INTEGER = re.compile(r"^-?\d+$")
#: A shown value is cut to this many characters.
SHOWN = 40
#: A value with more digits is an id or a token, not a quantity: it is mutated as a string
#: (a body field: as JSON only). Far below int()'s 4,300-digit conversion limit.
MAX_DIGITS = 18


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: The value of a parameter left out of the request.
MISSING = _Missing()

STRINGS: tuple[tuple[str, str], ...] = (
    ("", "an empty string"),
    ("x" * LONG, f"a very long string ({LONG:,} characters)"),
    ("Łukasz", "a non-ASCII string"),
    ("Ærøskøbing", "a non-ASCII string"),
    ("\u2160van", "a mixed-script string"),  # Roman numeral one, then Latin
    ("مرحبا", "a right-to-left string"),
    ("🙂👍🏽", "emoji"),
)
JSON_EDGES: tuple[tuple[object, str], ...] = (
    (None, "null"),
    ([], "an empty array"),
    ({}, "an empty object"),
    (MISSING, "the field missing"),
)


@dataclass(frozen=True, slots=True)
class Parameter:
    """A query parameter, a path parameter or a JSON body field (``keys`` its path)."""

    where: str
    keys: tuple[str, ...]

    @property
    def name(self) -> str:
        return ".".join(self.keys)

    @property
    def label(self) -> str:
        return f"{self.where} {self.name}"


@dataclass(slots=True)
class _Seen:
    parameter: Parameter
    seed: Seed
    values: list[object] = field(default_factory=list)
    #: The segment index, for a path parameter.
    index: int = -1


@dataclass(frozen=True, slots=True)
class Mutant:
    """One seed with one parameter set to ``value`` (or left out: ``MISSING``)."""

    parameter: Parameter
    value: object
    #: Why this value is an edge: "past the last page seen (3)", "a non-ASCII string".
    why: str
    #: The request sent: ``origin`` with the one change.
    seed: Seed
    origin: Seed

    @property
    def shown(self) -> str:
        """``page=6``, ``name=""``, ``customer.name missing``."""
        if self.value is MISSING:
            return f"{self.parameter.name} missing"
        text = json.dumps(self.value, ensure_ascii=False)
        if isinstance(self.value, str) and self.parameter.where != "body":
            text = text if self.value == "" else self.value
        if len(text) > SHOWN:
            size = len(self.value) if isinstance(self.value, str) else len(text)
            text = f"{text[:12]}…({size:,} characters)"
        return f"{self.parameter.name}={text}"


def mutants(endpoint: str, seeds: Sequence[Seed], cap: int) -> list[Mutant]:
    """At most ``cap`` mutants of ``seeds`` (the sample of ``endpoint``), in their order."""
    per = [values for seen in parameters(endpoint, seeds) if (values := _guarded(seen))]
    out: list[Mutant] = []
    for rank in range(max((len(p) for p in per), default=0)):
        for values in per:
            if rank < len(values):
                out.append(values[rank])
                if len(out) >= cap:
                    return out
    return out


def parameters(endpoint: str, seeds: Sequence[Seed]) -> list[_Seen]:
    """The endpoint's parameters, in first appearance, with the values recorded."""
    found: dict[Parameter, _Seen] = {}

    def note(parameter: Parameter, seed: Seed, value: object, index: int = -1) -> None:
        seen = found.setdefault(parameter, _Seen(parameter, seed, index=index))
        seen.values.append(value)

    template = endpoint.split(" ", 1)[-1]
    for seed in seeds:
        for index, name in _path_parameters(template, seed.path):
            note(Parameter("path", (name,)), seed, _segments(seed.path)[index], index)
        for name, value in _query(seed.query):
            note(Parameter("query", (name,)), seed, value)
        doc = _json(seed.body)
        if isinstance(doc, dict):
            for key, value in doc.items():
                note(Parameter("body", (key,)), seed, value)
                if isinstance(value, dict):
                    for inner, item in value.items():
                        note(Parameter("body", (key, inner)), seed, item)
    return list(found.values())


def _guarded(seen: _Seen) -> list[Mutant]:
    """A parameter's mutants; none when a recorded value is beyond what they handle, so
    one odd value never stops the probe (a parameter without mutants is not probed)."""
    try:
        return list(_values(seen))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError):
        return []


def _values(seen: _Seen) -> Iterator[Mutant]:
    parameter = seen.parameter
    recorded = [_as_number(v, parameter.where) for v in seen.values]
    edges: list[tuple[object, str]] = []
    if all(n is not None for n in recorded):
        edges += _numbers(parameter.keys[-1], [n for n in recorded if n is not None])
    elif all(isinstance(v, str) for v in seen.values):
        edges += STRINGS
    if parameter.where == "body":
        edges += JSON_EDGES
    used = {_key(v, parameter.where) for v in seen.values}
    for value, why in edges:
        key = _key(value, parameter.where)
        if key in used:
            continue  # reached in the recording, or already tried
        used.add(key)
        yield Mutant(parameter, value, why, _apply(seen, value), seen.seed)


def _numbers(name: str, seen: list[int | float]) -> list[tuple[object, str]]:
    top = max(seen)
    last = "the last page seen" if name.lower() in PAGING else "the largest seen"
    far = max(top * 10, top + 100)
    return [
        (top + 1, f"past {last} ({top})"),
        (far, f"far past {last} ({top})"),
        (0, "zero"),
        (-1, "negative"),
        (2**31, "2**31"),
        (2**63, "2**63"),
    ]


def _as_number(value: object, where: str) -> int | float | None:
    if where == "body":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
            return None
        return value
    if isinstance(value, str) and _NUMBER.match(value) and _digits(value) <= MAX_DIGITS:
        return int(value) if _INTEGER.match(value) else float(value)
    return None


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _key(value: object, where: str) -> str | None:
    """Equal for values the request would carry alike; None for a value left out."""
    if value is MISSING:
        return None
    return json.dumps(value, sort_keys=True) if where == "body" else _text(value)


def _apply(seen: _Seen, value: object) -> Seed:
    seed, parameter = seen.seed, seen.parameter
    if parameter.where == "path":
        segments = _segments(seed.path)
        segments[seen.index] = quote(_text(value), safe="")
        return dataclasses.replace(seed, path="/" + "/".join(segments))
    if parameter.where == "query":
        return dataclasses.replace(seed, query=_set_query(seed.query, parameter.name, value))
    doc = json.loads(seed.body)
    parent = doc
    for key in parameter.keys[:-1]:
        parent = parent[key]
    if value is MISSING:
        del parent[parameter.keys[-1]]
    else:
        parent[parameter.keys[-1]] = value
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    return dataclasses.replace(seed, body=body)


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _set_query(query: str, name: str, value: object) -> str:
    parts = []
    done = False
    for part in query.split("&") if query else []:
        key = part.split("=", 1)[0]
        if unquote_plus(key) == name:
            if value is MISSING or done:
                continue
            part = f"{key}={quote(_text(value), safe='')}"
            done = True
        parts.append(part)
    return "&".join(parts)


def _query(query: str) -> Iterator[tuple[str, str]]:
    for part in query.split("&") if query else []:
        key, _, value = part.partition("=")
        if key:
            yield unquote_plus(key), unquote_plus(value)


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _path_parameters(template: str, path: str) -> list[tuple[int, str]]:
    names = _segments(template)
    if len(names) != len(_segments(path)):
        return []
    return [(i, n[1:-1]) for i, n in enumerate(names) if n.startswith("{") and n.endswith("}")]


def _json(body: bytes) -> object:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or beyond what a parser handles
        return None
