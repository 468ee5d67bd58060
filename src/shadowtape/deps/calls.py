"""The calls log: one JSON line per outbound call the deps proxy saw, in every mode.

It is what later stages read (the side-effect ledger, attribution by ``traceparent``,
the report's "could not verify" list), so its fields are documented in docs/deps.md and
only ever added to. Each line is written and flushed when the call ends, so a stopped
proxy leaves every finished call in the file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import IO

#: What ``match`` says for a call that was not answered from a recording.
FORWARDED = "forwarded"
FAULT = "fault"


@dataclass(frozen=True, slots=True)
class Call:
    #: When the request started, ISO 8601 UTC.
    time: str
    name: str
    mode: str
    method: str
    scheme: str
    host: str
    port: int
    path: str
    query: str
    #: The status the service got; None when it got no response (an error or a fault).
    status: int | None
    #: Why there was no response (mitmproxy's error message), else None.
    error: str | None
    #: The request's ``traceparent`` header, as sent, if any.
    traceparent: str | None
    #: exact | no_body | no_query | unmatched (mock), forwarded, or fault.
    match: str
    #: The ``--fault`` rule applied, as given; None when none was.
    fault: str | None
    #: The recorded exchange a mock answered with; None otherwise.
    recorded_id: str | None
    duration_ms: float | None


def stamp(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="microseconds")


class CallsLog:
    """Appends calls to a JSON-lines file; a write failure never breaks a call."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._handle: IO[str] | None = open(path, "a", encoding="utf-8")  # noqa: SIM115
        self.failed = 0

    def write(self, call: Call) -> None:
        if self._handle is None:
            return
        try:
            self._handle.write(json.dumps(asdict(call), separators=(",", ":")) + "\n")
            self._handle.flush()
        except (OSError, ValueError):
            self.failed += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read(path: str) -> list[dict[str, object]]:
    """Every call in a calls log (a line cut short by a crash is skipped)."""
    calls = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                calls.append(json.loads(line))
            except ValueError:
                continue
    return calls
