"""The deps proxy's modes: the words ``--mode`` and the addon's option accept."""

from __future__ import annotations

from shadowtape.errors import ConfigError
from shadowtape.modes import Mode


class DepsMode(Mode, noun="deps mode", plural="modes", error=ConfigError):
    RECORD = "record"
    MOCK = "mock"
    PASSTHROUGH = "passthrough"
