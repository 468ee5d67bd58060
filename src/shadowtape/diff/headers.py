"""Header comparison: names case-insensitive, volatile headers ignored by default.

Headers that change on every response (Date, Server, request and trace ids, caching ages)
and the transport headers (Content-Encoding, Transfer-Encoding, Content-Length and the
other hop-by-hop ones: bodies are compared decoded, so their effect is the body's) are
left out unless the user asks for them. Set-Cookie is compared per cookie name, without the
expiry attributes, which move with the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shadowtape.diff.model import Difference, Kind

DEFAULT_IGNORED = frozenset(
    {
        "date",
        "server",
        "age",
        "expires",
        "last-modified",
        "etag",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "via",
        "x-runtime",
        "x-response-time",
        "server-timing",
        "x-cache",
        "x-cache-hits",
        "x-served-by",
        "x-timer",
        "cf-ray",
        "cf-cache-status",
        "report-to",
        "nel",
        "alt-svc",
        "traceparent",
        "tracestate",
    }
)
#: A header whose lowercase name contains one of these is ignored by default too.
DEFAULT_IGNORED_PARTS = ("request-id", "requestid", "trace", "span-id", "correlation")
_COOKIE_VOLATILE = frozenset({"expires", "max-age"})


@dataclass(frozen=True, slots=True)
class HeaderPolicy:
    """Which headers are compared. ``compare`` wins over ``ignore`` and the defaults."""

    ignore: frozenset[str] = DEFAULT_IGNORED
    ignore_parts: tuple[str, ...] = DEFAULT_IGNORED_PARTS
    compare: frozenset[str] = field(default_factory=frozenset)

    def with_changes(
        self, *, ignore: Iterable[str] = (), compare: Iterable[str] = ()
    ) -> HeaderPolicy:
        return HeaderPolicy(
            ignore=self.ignore | {n.lower() for n in ignore},
            ignore_parts=self.ignore_parts,
            compare=self.compare | {n.lower() for n in compare},
        )

    def ignored(self, name: str) -> bool:
        if name in self.compare:
            return False
        return name in self.ignore or any(part in name for part in self.ignore_parts)


DEFAULT_POLICY = HeaderPolicy()


def _group(headers: Sequence[tuple[str, str]], policy: HeaderPolicy) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        low = name.lower()
        if not policy.ignored(low):
            grouped.setdefault(low, []).append(value)
    return grouped


def _cookies(values: list[str]) -> dict[str, tuple[str, str]]:
    """Cookie name -> (value, attributes), without the attributes that move with time."""
    out: dict[str, tuple[str, str]] = {}
    for raw in values:
        parts = [p.strip() for p in raw.split(";")]
        name, _, value = parts[0].partition("=")
        attrs = sorted(
            p.lower()
            for p in parts[1:]
            if p and p.split("=", 1)[0].strip().lower() not in _COOKIE_VOLATILE
        )
        out[name.strip()] = (value, "; ".join(attrs))
    return out


def diff_headers(
    a: Sequence[tuple[str, str]],
    b: Sequence[tuple[str, str]],
    policy: HeaderPolicy = DEFAULT_POLICY,
) -> list[Difference]:
    """Differences between two header lists, at ``header:<lowercase name>``."""
    if a == b:
        return []
    ga, gb = _group(a, policy), _group(b, policy)
    if ga == gb:
        return []
    out: list[Difference] = []
    for name in sorted(ga.keys() | gb.keys()):
        va, vb = ga.get(name), gb.get(name)
        if va == vb:
            continue
        if name == "set-cookie":
            ca, cb = _cookies(va or []), _cookies(vb or [])
            for cookie in sorted(ca.keys() | cb.keys()):
                xa, xb = ca.get(cookie), cb.get(cookie)
                where = f"header:set-cookie:{cookie}"
                if xa is None or xb is None:
                    out.append(_presence(where, xa and xa[0], xb and xb[0]))
                    continue
                if xa[0] != xb[0]:
                    out.append(Difference(Kind.HEADER, where, xa[0], xb[0]))
                if xa[1] != xb[1]:
                    out.append(Difference(Kind.HEADER, f"{where}:attributes", xa[1], xb[1]))
            continue
        joined_a = ", ".join(va) if va is not None else None
        joined_b = ", ".join(vb) if vb is not None else None
        if va is None or vb is None:
            out.append(_presence(f"header:{name}", joined_a, joined_b))
        else:
            out.append(Difference(Kind.HEADER, f"header:{name}", joined_a, joined_b))
    return out


def _presence(where: str, a: str | None, b: str | None) -> Difference:
    """A header on one side only: its own kind, so that it has its own noise rate."""
    return Difference(Kind.HEADER_MISSING if b is None else Kind.HEADER_EXTRA, where, a, b)
