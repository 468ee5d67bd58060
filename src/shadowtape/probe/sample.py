"""The seeds: up to N recorded requests per endpoint, taken from what the replay sent.

Seeds come from the run folder's result rows, never from the tapes: a row the replay
skipped (mutating without --allow-mutating, a recorded absolute URL, a malformed or cut
request) is never a seed, so every safety decision of the replay (replay/rules/safety.py)
holds for the probes without being made twice. Endpoints are templated as the report
templates them (diff/templating.py, with the user's routes). Within an endpoint the first
N distinct requests in recorded order are taken: deterministic, so a rerun probes the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shadowtape.diff.templating import Route, Templater
from shadowtape.replay.rules.safety import SkipReason, is_safe_method
from shadowtape.results.reader import read_results

_COLUMNS = [
    "exchange_id",
    "method",
    "host",
    "path",
    "query",
    "request_headers",
    "request_body",
    "skip_reason",
]
#: A race needs two different requests in flight together.
MIN_SEEDS = 2


@dataclass(frozen=True, slots=True)
class Seed:
    """One recorded request the probes send again, as the replay sent it."""

    exchange_id: str
    method: str
    host: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass(slots=True)
class EndpointSample:
    endpoint: str
    seeds: list[Seed] = field(default_factory=list)
    #: Requests of the endpoint the replay did not send, by skip reason.
    skipped: dict[str, int] = field(default_factory=dict)


def sample(
    run_dirs: Sequence[Path], *, per_endpoint: int, allow_mutating: bool, routes: Sequence[Route]
) -> list[EndpointSample]:
    """Every endpoint of the run, with its seeds (empty when none could be taken)."""
    templater = Templater(routes)
    for batch in read_results(run_dirs, columns=["method", "path"]):
        for method, path in zip(
            batch.column("method").to_pylist(), batch.column("path").to_pylist(), strict=True
        ):
            templater.observe(method or "", path or "/")
    templater.freeze()
    found: dict[str, EndpointSample] = {}
    seen: set[tuple[str, str, str, bytes]] = set()
    for batch in read_results(run_dirs, columns=_COLUMNS):
        for row in batch.to_pylist():
            method, path = row["method"] or "", row["path"] or "/"
            name = f"{method} {templater.route(method, path)}"
            entry = found.setdefault(name, EndpointSample(name))
            skip = row["skip_reason"]
            if skip is None and not (allow_mutating or is_safe_method(method)):
                skip = SkipReason.MUTATING.value  # never sent without the flag, whatever a row says
            if skip is not None:
                entry.skipped[skip] = entry.skipped.get(skip, 0) + 1
                continue
            key = (method, path, row["query"] or "", row["request_body"] or b"")
            if len(entry.seeds) >= per_endpoint or key in seen:
                continue
            seen.add(key)
            entry.seeds.append(
                Seed(
                    exchange_id=row["exchange_id"],
                    method=method,
                    host=row["host"] or "",
                    path=path,
                    query=row["query"] or "",
                    headers=tuple((h["name"], h["value"]) for h in row["request_headers"] or ()),
                    body=row["request_body"] or b"",
                )
            )
    return sorted(found.values(), key=lambda e: e.endpoint)
