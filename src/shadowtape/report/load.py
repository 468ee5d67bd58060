"""Read report.json (or any dict of its shape) back into the typed ``Report``.

Each field is read by the type the model declares for it, so the loader follows the model
without a list of its own. Reading is tolerant, as a reader of a versioned format must be:
a field a report does not have, or holds with the wrong type (an older or partial report,
a hand-written one in a test), gets its default or its empty value; fields this version
does not know are ignored. Only ``incomplete`` keeps its absence (None): older reports
said a run was interrupted in ``runs`` alone.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import MISSING, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin, get_type_hints

import orjson

from shadowtape.report.model import Example, ProbeRun, Report, RunInfo

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


class _Unreadable(Exception):
    """The value does not have the declared type: the field keeps its default."""


def read_report(path: Path) -> Report:
    """A report.json file as a ``Report``."""
    return load_report(orjson.loads(path.read_bytes()))


def load_report(data: object) -> Report:
    """A parsed report.json (a dict) as a ``Report``."""
    return _read(Report, data)


def load_example(data: object) -> Example:
    """One example exchange, as the analysis or report.json holds it."""
    return _read(Example, data)


def load_probe(data: object) -> ProbeRun:
    """One probe's section, as probes/probes.json or report.json holds it."""
    return _read(ProbeRun, data)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _read(cls: type[T], data: object) -> T:
    d = data if isinstance(data, Mapping) else {}
    hints = _hints(cls)
    kwargs: dict[str, object] = {}
    for f in fields(cls):
        try:
            kwargs[f.name] = _value(hints[f.name], d[f.name])
        except (KeyError, _Unreadable):
            if f.default is MISSING and f.default_factory is MISSING:
                kwargs[f.name] = _empty(hints[f.name])
    return cls(**kwargs)


def _empty(tp: Any) -> object:
    """The value of a required field the data lacks."""
    if tp is str:
        return ""
    if tp is bool:
        return False
    return None


def _value(tp: Any, value: object) -> object:
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):  # X | None: null, {} or a wrong type is None
        if value is None or value == {}:
            return None
        try:
            return _value(next(a for a in args if a is not type(None)), value)
        except _Unreadable:
            return None
    if tp is object:  # a JSON value from traffic or the replayer: kept as it is
        return value
    if tp is RunInfo:
        return RunInfo(_mapping(value))
    if isinstance(tp, type) and hasattr(tp, "__dataclass_fields__"):
        return _read(tp, _mapping(value))
    if origin is tuple:
        items = _sequence(value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_readable(args[0], items))
        if len(items) != len(args):
            raise _Unreadable
        return tuple(_value(a, v) for a, v in zip(args, items, strict=True))
    if origin is Mapping:  # values of the wrong type are left out
        out: dict[str, object] = {}
        for key, item in _mapping(value).items():
            with suppress(_Unreadable):
                out[str(key)] = _value(args[1], item)
        return out
    return _scalar(tp, value)


def _scalar(tp: Any, value: object) -> object:
    if tp is str and value is not None:
        return str(value)
    if tp is bool:
        return bool(value)
    if isinstance(value, bool):
        raise _Unreadable
    if tp is int and isinstance(value, int):
        return value
    if tp is float and isinstance(value, int | float):
        return value
    raise _Unreadable


def _readable(tp: Any, items: list[object]) -> list[object]:
    """The items that have type `tp`, read; the others left out."""
    out = []
    for item in items:
        with suppress(_Unreadable):
            out.append(_value(tp, item))
    return out


def _mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise _Unreadable
    return value


def _sequence(value: object) -> list[object]:
    if not isinstance(value, list | tuple):
        raise _Unreadable
    return list(value)
