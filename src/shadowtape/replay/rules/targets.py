"""Targets and the requests sent to them: the only place an outgoing URL is built.

A target is a base URL named by the user. Every outgoing URL is the target's scheme, host
and port followed by the recorded path and query, so no recorded value (an absolute URL,
a Host header) can steer a request to another host. The Host header is rewritten to the
target unless asked to keep the recorded one; user headers replace recorded ones. Nothing
else changes but hop-by-hop headers and the traceparent (tracing.py): what the client
negotiated (Accept-Encoding, Accept, ...) goes as it was recorded, so the targets answer
what production was asked.
"""

from __future__ import annotations

import os
import string
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from shadowtape.errors import ConfigError
from shadowtape.exchange import DEFAULT_PORTS, Request, authority
from shadowtape.replay.rules import tracing

#: Recorded headers that describe one hop or one body encoding, never forwarded as is.
HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
        "expect",
        "http2-settings",
    }
)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def ascii_lower(name: str) -> str:
    """A header name as compared: names are tokens, equal ignoring ASCII case (RFC 9110
    section 5.1). str.lower also maps other letters ("\u212a" Kelvin to "k") and Arrow's
    utf8_lower does not map them all alike; batchwire.py compares with ascii_lower."""
    return name.lower() if name.isascii() else name.translate(_ASCII_LOWER)


@dataclass(frozen=True, slots=True)
class Target:
    """A base URL requests are sent to: scheme, host, port and an optional path prefix."""

    scheme: str
    host: str
    port: int
    prefix: str = ""
    #: host[:port] as sent in Host (the port left out when it is the scheme's default).
    netloc: str = field(init=False, compare=False, repr=False)
    #: scheme://netloc. Both are worked out once: they are used for every request.
    origin: str = field(init=False, compare=False, repr=False)
    #: (scheme, host, port): what the client pools connections by.
    key: tuple[str, str, int] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        location = authority(self.scheme, self.host, self.port)
        object.__setattr__(self, "netloc", location)
        object.__setattr__(self, "origin", f"{self.scheme}://{location}")
        object.__setattr__(self, "key", (self.scheme, self.host, self.port))

    @classmethod
    def parse(cls, url: str, *, role: str = "target") -> Target:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"--{role} {url!r} is not an http:// or https:// URL with a host, "
                "e.g. http://127.0.0.1:8080"
            )
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ConfigError(
                f"--{role} {url!r}: give scheme, host, port and an optional path prefix only "
                "(no user, query or fragment); add credentials with --header"
            )
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise ConfigError(f"--{role} {url!r}: the port is not a number 1-65535") from None
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    def __str__(self) -> str:
        return self.origin + self.prefix

    def url_for(self, request: Request) -> str:
        """The URL on this target for a recorded request (whose path is origin-form)."""
        target = f"{request.path}?{request.query}" if request.query else request.path
        return f"{self.origin}{self.prefix}{target}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One request as it goes on the wire: plain values, cheap to build at any rate."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def to_httpx(self) -> httpx.Request:
        return httpx.Request(self.method, self.url, headers=list(self.headers), content=self.body)


def outgoing(
    target: Target,
    *,
    method: str,
    path: str,
    query: str,
    headers: tuple[tuple[str, str], ...],
    body: bytes,
    recorded_host: str = "",
    keep_host: bool = False,
    extra: tuple[tuple[str, str], ...] = (),
    traceparent: bool = False,
) -> Outgoing:
    """One recorded request as sent to ``target``, built per request (the replay builds
    whole batches in Arrow, prepare/batchwire.py, by the same rule): the target's origin
    and prefix before the recorded origin-form path, Host rewritten unless kept, hop-by-hop
    headers dropped, ``extra`` (the user's headers) replacing recorded ones. With
    ``traceparent``, the recorded one is replaced by a placeholder, first, that the client
    fills with fresh ids as it sends (tracing.py)."""
    if not path.startswith("/"):
        raise ValueError(f"not an origin-form path: {path!r}")
    kept = next((v for n, v in headers if ascii_lower(n) == "host"), None) or recorded_host
    host = kept if keep_host and kept else target.netloc
    wire = sent_headers(headers, host, extra, traceparent=traceparent)
    url = f"{target.origin}{target.prefix}{path}{'?' + query if query else ''}"
    return Outgoing(method, url, wire, body)


def sent_headers(
    headers: tuple[tuple[str, str], ...],
    host: str,
    extra: tuple[tuple[str, str], ...],
    *,
    traceparent: bool = False,
) -> tuple[tuple[str, str], ...]:
    """The recorded ``headers`` as they go on the wire, one request at a time: Host first
    (``host``), hop-by-hop headers and those ``extra`` replaces dropped, then ``extra``
    (its Host, if any, taking the first place). With ``traceparent`` (and none in
    ``extra``: a user's wins), the recorded one is dropped and a placeholder goes first."""
    replaced = {ascii_lower(name) for name, _ in extra}
    trace: list[tuple[str, str]] = []
    if traceparent and tracing.HEADER not in replaced:
        recorded = next((v for n, v in headers if ascii_lower(n) == tracing.HEADER), None)
        trace = [(tracing.HEADER, tracing.placeholder(tracing.flags_of(recorded)))]
        replaced.add(tracing.HEADER)
    wire: list[tuple[str, str]] = [("Host", host)]
    for name, value in headers:
        lower = ascii_lower(name)
        if lower not in HOP_HEADERS and lower not in replaced:
            wire.append((name, value))
    for name, value in extra:
        if ascii_lower(name) == "host":
            wire[0] = ("Host", value)
        else:
            wire.append((name, value))
    return (*trace, *wire)


def expand_env(
    value: str, environ: dict[str, str] | None = None, *, header: str | None = None
) -> str:
    """Expand $VAR and ${VAR} from the environment; $$ is a literal $. Errors quote
    ``header`` (the whole 'Name: value'), else the value."""
    env = dict(os.environ) if environ is None else environ
    quoted = repr(value if header is None else header)
    try:
        return string.Template(value).substitute(env)
    except KeyError as exc:
        raise ConfigError(
            f"--header {quoted} uses ${exc.args[0]}, which is not set in the environment; "
            "export it or write $$ for a literal $"
        ) from None
    except ValueError:
        raise ConfigError(
            f"--header {quoted}: a $ must start a variable name ($VAR or ${{VAR}}); "
            "write $$ for a literal $"
        ) from None


def parse_header(text: str, environ: dict[str, str] | None = None) -> tuple[str, str]:
    """'Name: value' from the command line, with $VAR expanded in the value."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not name or any(ch in name for ch in " \t\r\n"):
        raise ConfigError(f"--header {text!r} is not 'Name: value'")
    expanded = expand_env(value.strip(), environ, header=text.strip())
    if "\r" in expanded or "\n" in expanded:
        raise ConfigError(f"--header {name}: the value must be one line")
    return name, expanded
