"""Each target's own address, masked before diffing: echoes of it are not differences.

A server that builds absolute URLs (a ``Location`` header, ``self`` links in a body)
answers with its own ``scheme://host:port``. The baseline, the candidate and the recording
each have their own, so such echoes always differ, and learning them as noise would also
excuse a header the candidate dropped. Every origin a side may echo is replaced by one
placeholder in its header values and body before the two sides are compared.

Except with ``--keep-host`` (run.json's ``settings.keep_host``): then every target was
sent the recorded Host and a correct one links to the recorded origin, so only that one
is masked, on both sides. A target that links to its own bind address instead ignores
Host, and is broken in production: that difference stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from shadowtape.diff.compare import Side
from shadowtape.exchange import DEFAULT_PORTS

PLACEHOLDER = "{origin}"


def spellings(url: str | None) -> tuple[str, ...]:
    """The ways a server may write the origin of `url`: with and without a default port.

    Longest first, so that ``http://h:80`` is masked whole before ``http://h``."""
    if not url or "://" not in url:
        return ()
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not host:
        return ()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return ()
    default = DEFAULT_PORTS.get(scheme)
    out = [f"{scheme}://{host}:{port or default}"] if (port or default) else []
    if port is None or port == default:
        out.append(f"{scheme}://{host}")
    return tuple(dict.fromkeys(out))


def origins_of(urls: Iterable[str | None]) -> tuple[str, ...]:
    found: list[str] = []
    for url in urls:
        found.extend(spellings(url))
    return tuple(sorted(set(found), key=len, reverse=True))


def mask(side: Side, origins: tuple[str, ...]) -> Side:
    """`side` with each of `origins` replaced by the placeholder (case-insensitive host)."""
    if not origins or side.error_kind is not None:
        return side
    headers = [(name, _mask_text(value, origins)) for name, value in side.headers]
    body = side.body
    for origin in origins:
        if origin.encode() in body:
            body = body.replace(origin.encode(), PLACEHOLDER.encode())
        escaped = origin.replace("/", "\\/").encode()  # JSON may escape the slashes
        if escaped in body:
            body = body.replace(escaped, PLACEHOLDER.encode())
    if body == side.body and headers == list(side.headers):
        return side
    return replace(side, headers=headers, body=body)


def _mask_text(value: str, origins: tuple[str, ...]) -> str:
    low = value.lower()
    for origin in origins:
        start = low.find(origin)
        while start >= 0:
            value = value[:start] + PLACEHOLDER + value[start + len(origin) :]
            low = value.lower()
            start = low.find(origin, start + len(PLACEHOLDER))
    return value


@dataclass(frozen=True, slots=True)
class Origins:
    """Each run's target URLs (run.json), by run id, to mask each side with its own."""

    by_run: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    #: Every run's, merged: for rows whose run id no run.json names (shards).
    merged: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Runs replayed with the recorded Host kept (and None for rows no run.json names,
    #: when any run was).
    keep_host: frozenset[str | None] = frozenset()

    @classmethod
    def of_runs(cls, runs: Iterable[Mapping[str, object]]) -> Origins:
        by_run: dict[str, dict[str, tuple[str, ...]]] = {}
        merged: dict[str, list[str]] = {}
        keep_host: set[str | None] = set()
        for run in runs:
            targets = _targets(run)
            run_id = str(run.get("run_id") or "")
            by_run[run_id] = targets
            for role, found in targets.items():
                merged.setdefault(role, []).extend(found)
            settings = run.get("settings")
            if isinstance(settings, Mapping) and settings.get("keep_host") is True:
                keep_host.update((run_id, None))
        merged_origins = {role: origins_of(found) for role, found in merged.items()}
        return cls(by_run, merged_origins, frozenset(keep_host))

    def of(self, batch: Mapping[str, Sequence[object]], target: str, i: int) -> tuple[str, ...]:
        """What `target`'s answer in row `i` may echo: its own origin and the recorded
        request's (a target sent the recorded Host echoes that one); only the recorded
        one when the run kept the recorded Host."""
        recorded = _recorded(batch, i)
        if target == "baseline" and batch["baseline_mode"][i] == "recorded":
            return recorded
        run_id = str(batch["run_id"][i] or "")
        known = self.by_run.get(run_id)
        if (run_id if known is not None else None) in self.keep_host:
            return recorded  # sent the recorded Host: its own origin is a wrong link
        role = "candidate" if target == "repeat" else target
        own = (known if known is not None else self.merged).get(role, ())
        return tuple(sorted({*own, *recorded}, key=len, reverse=True))


def _targets(run: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for role in ("baseline", "candidate", "secondary"):
        url = run.get(role)
        out[role] = spellings(url) if isinstance(url, str) else ()
    return out


def _recorded(batch: Mapping[str, Sequence[object]], i: int) -> tuple[str, ...]:
    scheme, host = batch["scheme"][i], batch["host"][i]
    if not isinstance(scheme, str) or not isinstance(host, str) or not host:
        return ()
    return spellings(f"{scheme}://{host}")
