"""Modes: str Enums read from the words a user types, as vcrpy's ``record_mode.py`` does.

One parser for all of them, so every wrong word is refused the same way: the error names
the word and lists the valid ones, in the order the Enum declares them. A mode declared on
``Mode`` names its words once, in its class line, and gets ``parse`` from it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Self, TypeVar

M = TypeVar("M", bound=StrEnum)


def parse_mode(
    mode: type[M], value: str, *, noun: str, plural: str, error: type[Exception] = ValueError
) -> M:
    """``mode(value)``, or ``error("unknown <noun> 'x'; valid <plural>: a, b, c")``."""
    try:
        return mode(value)
    except ValueError:
        valid = ", ".join(member.value for member in mode)
        raise error(f"unknown {noun} {value!r}; valid {plural}: {valid}") from None


class Mode(StrEnum):
    """A str Enum read with ``parse``: ``class Pace(Mode, noun="pace", plural="paces")``
    (``error``, ValueError unless given, is what a wrong word raises)."""

    _words: ClassVar[tuple[str, str, type[Exception]]]

    def __init_subclass__(
        cls, *, noun: str, plural: str, error: type[Exception] = ValueError, **kwargs: object
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls._words = (noun, plural, error)

    @classmethod
    def parse(cls, value: str) -> Self:
        noun, plural, error = cls._words
        return parse_mode(cls, value, noun=noun, plural=plural, error=error)
