"""Every error shadowtape raises on purpose, in one tree.

    ShadowtapeError              anything the CLI reports as one line, exit 2
    ├── TapeError                a tape cannot be read or written
    │   ├── TapeFormatError      not a tape, corrupt, truncated
    │   └── TapeVersionError     written by a newer shadowtape
    ├── CaptureError             a HAR, mitmproxy or GoReplay capture is unreadable
    ├── ConfigError              a flag, option or config file is wrong
    ├── ReplayError              a replay cannot start (bad target, unsafe request)
    │   ├── RunFolderError       a run folder (what a replay wrote) cannot be read
    │   └── TargetDownError      a target answered none of its first requests
    └── SanitizeError            a sanitizing rule cannot be loaded

Errors from pyarrow, httpx and mitmproxy are translated at the boundary where they
occur, so callers only ever catch these. Each message says what is wrong and what to do.
"""

from __future__ import annotations


class ShadowtapeError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""


class TapeError(ShadowtapeError):
    """A tape cannot be read or written."""


class TapeFormatError(TapeError):
    """A file is not a shadowtape tape, or is corrupt or truncated."""


class TapeVersionError(TapeError):
    """A tape was written with a newer major schema version than this reader knows."""


class CaptureError(ShadowtapeError):
    """A capture file (HAR, mitmproxy dump, GoReplay) cannot be read."""


class ConfigError(ShadowtapeError):
    """A flag, addon option or configuration file has a wrong value."""


class ReplayError(ShadowtapeError):
    """A replay cannot start or continue."""


class RunFolderError(ReplayError):
    """A run folder is missing, foreign, damaged or written by a newer shadowtape."""


class TargetDownError(ReplayError):
    """A target answered none of the first requests of a run (refused, reset, timed
    out): the run stopped early, since judging it would only list new errors."""

    def __init__(self, message: str, *, role: str, origin: str) -> None:
        super().__init__(message)
        self.role = role
        self.origin = origin


class SanitizeError(ShadowtapeError):
    """A sanitizing rule or rules file cannot be loaded."""


def os_error_line(exc: OSError) -> str:
    """An OSError as the machine's answer about a path: 'PATH: Not a directory'."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"
