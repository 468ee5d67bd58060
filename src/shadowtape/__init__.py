"""shadowtape: record production HTTP traffic, sanitized, and replay it in shadow mode.

This module is the public API; everything else is private and may change.

    run_dir = shadowtape.replay("tapes/", candidate="http://127.0.0.1:8080", pace="asap")
    report = shadowtape.analyze(run_dir)        # the typed Report
    report.write("reports/", formats=("json", "summary"))

(docs/python-api.md). ``candidate`` may also be an ASGI or WSGI app, replayed in-process.
"""

from __future__ import annotations

import importlib
import typing as _typing

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

if _typing.TYPE_CHECKING:
    from shadowtape.replay import replay
    from shadowtape.report import Report, analyze
    from shadowtape.sanitize import Sanitizer
    from shadowtape.tape import TapeFilter, TapeReader, TapeWriter, WriterStats

# The tape, replay and report names load on first use: they bring in pyarrow, which the
# recorder's proxy process must not pay for (its garbage collector would keep re-scanning
# those objects). ``shadowtape.replay`` is also the subpackage, made callable for this.
# The sanitizer too: its patterns take about 100 ms to compile, which only the processes
# that sanitize (the recorder's worker, the importers) need to pay.
_LAZY = {
    **{
        name: "shadowtape.tape"
        for name in ("TapeFilter", "TapeReader", "TapeWriter", "WriterStats")
    },
    "replay": "shadowtape.replay",
    "Sanitizer": "shadowtape.sanitize",
    "analyze": "shadowtape.report",
    "Report": "shadowtape.report",
}


def __getattr__(name: str) -> _typing.Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'shadowtape' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "CaptureError",
    "ConfigError",
    "ErrorKind",
    "Exchange",
    "ExchangeError",
    "ReplayError",
    "Report",
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
    "analyze",
    "replay",
]
