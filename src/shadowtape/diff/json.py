"""Structural JSON diff: formatting and key order are never differences.

Documents are parsed (orjson), and two equal documents are recognised in C without a
walk: most replayed pairs are equal, so that path is what makes the differ fast. Only when
they differ does a Python walk name each place, as a JSONPath-like location
(``$.items[3].price``, ``$["odd key"]``). Arrays of equal length whose elements are the
same multiset give one ``array_order`` difference, not one per index; when some elements
also changed, the changed ones are paired and walked, so a shuffled list with one changed
element reports that element and the reordering, not every index.
"""

from __future__ import annotations

import json as _stdjson
import math
import re
from collections import Counter
from dataclasses import dataclass

import orjson

from shadowtape.diff.model import Difference, Kind

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SORT = orjson.OPT_SORT_KEYS


class NotJSON(ValueError):
    """The bytes are not a JSON document."""


@dataclass(frozen=True, slots=True)
class Tolerance:
    """Numbers within either tolerance are equal (``math.isclose`` semantics)."""

    absolute: float = 0.0
    relative: float = 0.0


EXACT = Tolerance()


def parse(data: bytes) -> object:
    """Parse a JSON body with orjson; the stdlib reads what orjson refuses (NaN, for one).

    orjson reads integers beyond 64 bits as floats; ``diff_bytes`` re-checks exactly when
    that could hide a difference (see there).
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _parse_exact(data)


def _parse_exact(data: bytes) -> object:
    try:
        return _stdjson.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotJSON(str(exc)) from None


#: A run of 19+ digits may be an integer beyond 64 bits. Found with translate and a
#: substring search (both in C, ~1 µs for 2 KB) rather than a regex (~30 µs).
_DIGIT_MAP = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_DIGIT_RUN = b"0" * 19


def _long_digits(data: bytes) -> bool:
    return _DIGIT_RUN in data.translate(_DIGIT_MAP)


def child(location: str, key: str) -> str:
    """The location of an object member."""
    if _IDENT.match(key):
        return f"{location}.{key}"
    return f"{location}[{_stdjson.dumps(key, ensure_ascii=False)}]"


def _type(value: object) -> str:
    if value is None:
        return "null"
    t = type(value)
    if t is bool:
        return "boolean"
    if t is int or t is float:
        return "number"
    if t is str:
        return "string"
    if t is list:
        return "array"
    if t is dict:
        return "object"
    return t.__name__


def dumps(value: object, option: int = 0) -> bytes:
    """orjson.dumps, or the stdlib for what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=option)
    except TypeError as exc:
        if "64-bit" not in str(exc):  # e.g. a lone surrogate: the caller decides
            raise
        indent = 2 if option & orjson.OPT_INDENT_2 else None
        separators = None if indent else (",", ":")
        sort = bool(option & orjson.OPT_SORT_KEYS)
        text = _stdjson.dumps(
            value,
            indent=indent,
            separators=separators,
            sort_keys=sort,
            ensure_ascii=False,
            default=str,
        )
        return text.encode()


def _canon(value: object) -> bytes:
    return dumps(value, _SORT)


def _same(a: object, b: object, strict: bool = True) -> bool:
    """Equal as JSON. Python's == says True == 1, so equal trees are serialized to be sure:
    in the same key order first (cheap), else sorted."""
    if a != b:
        return False
    return not strict or dumps(a) == dumps(b) or _canon(a) == _canon(b)


def diff_bytes(a: bytes, b: bytes, tolerance: Tolerance = EXACT) -> list[Difference]:
    """Differences between two JSON bodies; raises NotJSON if either is not JSON."""
    if a == b:
        return []
    doc_a, doc_b = parse(a), parse(b)
    if doc_a == doc_b:
        # Different bytes, equal documents: formatting, or integers beyond 64 bits that
        # orjson rounded to the same float: only then is the exact parse needed.
        if _long_digits(a) or _long_digits(b):
            doc_a, doc_b = _parse_exact(a), _parse_exact(b)
        return diff(doc_a, doc_b, tolerance)
    # Different documents get walked. Only a boolean can be == to a value of another JSON
    # type, and a byte search (a few µs) proves most bodies have none, which spares the
    # walk its serialized re-checks of equal subtrees.
    strict = b"true" in a or b"false" in a or b"true" in b or b"false" in b
    return diff(doc_a, doc_b, tolerance, strict=strict)


def diff(
    a: object, b: object, tolerance: Tolerance = EXACT, *, strict: bool = True
) -> list[Difference]:
    """Differences between two parsed JSON documents, in document order.

    `strict=False` promises that the documents hold no booleans: a speed-up for callers
    that know, since only a boolean can be == to a value of another JSON type.
    """
    # Python's != means a difference; == may still hide a boolean that Python calls equal
    # to 1, which the canonical bytes (sorted keys) settle.
    if a == b and (not strict or _canon(a) == _canon(b)):
        return []
    out: list[Difference] = []
    _walk(a, b, "$", out, tolerance, strict)
    return out


def _mismatched(xs: list[object], ys: list[object]) -> list[int]:
    """Indices where loosely equal containers differ as JSON: two dumps for all of them."""
    if not xs or dumps(xs) == dumps(ys) or _canon(xs) == _canon(ys):
        return []
    return [i for i, (x, y) in enumerate(zip(xs, ys, strict=True)) if not _same(x, y)]


def _walk(
    a: object, b: object, loc: str, out: list[Difference], tol: Tolerance, strict: bool
) -> None:
    """Name the differences of two values already known not to be equal."""
    ta, tb = _type(a), _type(b)
    if ta != tb:
        out.append(Difference(Kind.BODY_TYPE, loc, a, b))
        return
    if ta == "object":
        assert isinstance(a, dict) and isinstance(b, dict)
        _walk_object(a, b, loc, out, tol, strict)
    elif ta == "array":
        assert isinstance(a, list) and isinstance(b, list)
        _walk_array(a, b, loc, out, tol, strict)
    elif ta == "number":
        assert isinstance(a, int | float) and isinstance(b, int | float)
        # isclose works in floats: with no tolerance set, exact == decides (big integers).
        tolerant = tol.relative or tol.absolute
        if a != b and not (
            tolerant and math.isclose(a, b, rel_tol=tol.relative, abs_tol=tol.absolute)
        ):
            out.append(Difference(Kind.BODY_VALUE, loc, a, b))
    elif a != b:
        out.append(Difference(Kind.BODY_VALUE, loc, a, b))


def _walk_object(
    a: dict[str, object],
    b: dict[str, object],
    loc: str,
    out: list[Difference],
    tol: Tolerance,
    strict: bool,
) -> None:
    loose: list[str] = []
    for key, value in a.items():
        if key not in b:
            out.append(Difference(Kind.BODY_MISSING, child(loc, key), value, None))
        else:
            other = b[key]
            if type(value) is not type(other) or value != other:
                _walk(value, other, child(loc, key), out, tol, strict)
            elif strict and type(value) in (dict, list):
                loose.append(key)
    for k in _mismatched([a[k] for k in loose], [b[k] for k in loose]):
        _walk(a[loose[k]], b[loose[k]], child(loc, loose[k]), out, tol, strict)
    for key, value in b.items():
        if key not in a:
            out.append(Difference(Kind.BODY_EXTRA, child(loc, key), None, value))


def _walk_array(
    a: list[object], b: list[object], loc: str, out: list[Difference], tol: Tolerance, strict: bool
) -> None:
    if len(a) != len(b):
        out.append(Difference(Kind.ARRAY_LENGTH, loc, len(a), len(b)))
        return
    found_at: dict[int, list[Difference]] = {}
    # A comprehension finds the unequal positions far faster than a loop with a body.
    unequal = [
        i for i, x, y in zip(range(len(a)), a, b, strict=True) if x != y or type(x) is not type(y)
    ]
    for i in unequal:
        found: list[Difference] = []
        _walk(a[i], b[i], f"{loc}[{i}]", found, tol, strict)
        if found:
            found_at[i] = found
    if strict:
        skip = set(unequal)
        loose = [i for i, x in enumerate(a) if i not in skip and type(x) in (dict, list)]
        for k in _mismatched([a[i] for i in loose], [b[i] for i in loose]):
            i = loose[k]
            found_at[i] = []
            _walk(a[i], b[i], f"{loc}[{i}]", found_at[i], tol, strict)
    changed = sorted(i for i, found in found_at.items() if found)
    sub = [found_at[i] for i in changed]
    if not sub:
        return
    if len(sub) == 1:
        out.extend(sub[0])
        return
    # Elements at unchanged positions are equal, so the arrays are the same multiset
    # exactly when the changed positions are.
    keys_a = [_canon(a[i]) for i in changed]
    keys_b = [_canon(b[i]) for i in changed]
    if sorted(keys_a) == sorted(keys_b):
        out.append(Difference(Kind.ARRAY_ORDER, loc, a, b))
        return
    if set(keys_a).isdisjoint(keys_b):
        for found in sub:
            out.extend(found)
        return
    common = Counter(keys_a) & Counter(keys_b)
    left = [changed[k] for k in _unmatched(keys_a, common)]
    right = [changed[k] for k in _unmatched(keys_b, common)]
    if len(left) >= len(sub):
        for found in sub:
            out.extend(found)
        return
    # Reordered and changed: report the order once, then pair the changed elements.
    out.append(Difference(Kind.ARRAY_ORDER, loc, a, b))
    for i, j in zip(left, right, strict=True):
        _walk(a[i], b[j], f"{loc}[{j}]", out, tol, strict)


def _unmatched(keys: list[bytes], common: Counter[bytes]) -> list[int]:
    left = Counter(common)
    rest: list[int] = []
    for i, key in enumerate(keys):
        if left[key] > 0:
            left[key] -= 1
        else:
            rest.append(i)
    return rest
