"""The Exchange: one recorded request with its response or its error.

Every stage speaks this type: the recorder and importers make Exchanges, tapes store them,
the replayer reads them. It is plain and immutable so that a sanitizer, which runs on a
copy, can never change what another stage holds.

Headers are ordered ``(name, value)`` pairs with repeats kept, exactly as they crossed the
wire; bodies are decoded (no Content-Encoding applied) and capped, with the original size
and a truncated flag kept beside them so nothing is cut silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Self

from shadowtape.ids import new_id
from shadowtape.modes import parse_mode

Headers = tuple[tuple[str, str], ...]


def headers_from(pairs: Iterable[tuple[str, str]] | Mapping[str, str]) -> Headers:
    """Freeze headers given as a mapping or as pairs into the ordered tuple form."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return tuple((str(name), str(value)) for name, value in items)


#: The port a URL of each scheme leaves out.
DEFAULT_PORTS = {"http": 80, "https": 443}


def authority(scheme: str, host: str, port: int | None) -> str:
    """``host[:port]`` as a URL writes it: an IPv6 address in brackets, the scheme's
    default port (or none) left out."""
    name = f"[{host}]" if ":" in host else host
    return name if port is None or DEFAULT_PORTS.get(scheme) == port else f"{name}:{port}"


def header_values(headers: Headers, name: str) -> list[str]:
    """Every value of a header, case-insensitively, in order."""
    lowered = name.lower()
    return [value for key, value in headers if key.lower() == lowered]


def header_value(headers: Headers, name: str) -> str | None:
    """The first value of a header, case-insensitively, or None."""
    values = header_values(headers, name)
    return values[0] if values else None


class ErrorKind(StrEnum):
    """Why an exchange has no response. The replayer uses the same words."""

    REFUSED = "refused"
    RESET = "reset"
    TIMEOUT = "timeout"
    TLS = "tls"
    PROTOCOL = "protocol"
    OTHER = "other"

    @classmethod
    def parse(cls, value: str) -> ErrorKind:
        return parse_mode(cls, value, noun="error kind", plural="kinds")


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    host: str
    path: str = "/"
    scheme: str = "http"
    port: int = 80
    #: The raw query string, without the leading "?" ("" when there is none).
    query: str = ""
    http_version: str = "HTTP/1.1"
    headers: Headers = ()
    body: bytes = b""
    #: The body's size before capping (decoded bytes); equals len(body) unless truncated.
    body_size: int = 0
    body_truncated: bool = False

    @property
    def target(self) -> str:
        """Path and query as they appear on the request line."""
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def url(self) -> str:
        default = DEFAULT_PORTS.get(self.scheme) == self.port
        location = self.host if default else f"{self.host}:{self.port}"
        return f"{self.scheme}://{location}{self.target}"

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    reason: str = ""
    http_version: str = "HTTP/1.1"
    headers: Headers = ()
    body: bytes = b""
    body_size: int = 0
    body_truncated: bool = False

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)


@dataclass(frozen=True, slots=True)
class ExchangeError:
    kind: ErrorKind
    message: str = ""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and what came of it: a response, or an error when there was none."""

    request: Request
    response: Response | None = None
    error: ExchangeError | None = None
    #: Unique and sortable by time (a ULID).
    id: str = field(default_factory=new_id)
    #: When the request started, UTC, microsecond precision.
    recorded_at: datetime = field(default_factory=_now)
    #: Which recorder or importer made this exchange.
    source: str = ""
    #: From request start to the end of the response, in microseconds.
    duration_us: int | None = None
    #: From request start to the first response byte, in microseconds.
    ttfb_us: int | None = None
    #: Locations the sanitizer replaced (never the values), e.g. "request.header.authorization".
    redactions: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.recorded_at.tzinfo is None:
            raise ValueError("Exchange.recorded_at must be timezone-aware (UTC)")

    def replace(self, **changes: object) -> Self:
        """A copy with some fields changed; the original is untouched."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
