"""Modes: str Enums read from the words a user types, as vcrpy's ``record_mode.py`` does.

One parser for all of them, so every wrong word is refused the same way: the error names
the word and lists the valid ones, in the order the Enum declares them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

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
