"""shadowtape: record production HTTP traffic, sanitized, and replay it in shadow mode.

This module is the public API; everything else is private and may change.
"""

from __future__ import annotations

from shadowtape.errors import (
    CaptureError,
    ConfigError,
    ReplayError,
    SanitizeError,
    ShadowtapeError,
    TapeError,
    TapeFormatError,
    TapeVersionError,
)
from shadowtape.exchange import ErrorKind, Exchange, ExchangeError, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.tape import TapeFilter, TapeReader, TapeWriter, WriterStats

__version__ = "0.1.0"

__all__ = [
    "CaptureError",
    "ConfigError",
    "ErrorKind",
    "Exchange",
    "ExchangeError",
    "ReplayError",
    "Request",
    "Response",
    "SanitizeError",
    "Sanitizer",
    "ShadowtapeError",
    "TapeError",
    "TapeFilter",
    "TapeFormatError",
    "TapeReader",
    "TapeVersionError",
    "TapeWriter",
    "WriterStats",
    "__version__",
]
