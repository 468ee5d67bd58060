"""The deps proxy's modes: the words ``--mode`` and the addon's option accept."""

from __future__ import annotations

from enum import StrEnum

from shadowtape.errors import ConfigError
from shadowtape.modes import parse_mode


class DepsMode(StrEnum):
    RECORD = "record"
    MOCK = "mock"
    PASSTHROUGH = "passthrough"

    @classmethod
    def parse(cls, value: str) -> DepsMode:
        return parse_mode(cls, value, noun="deps mode", plural="modes", error=ConfigError)
