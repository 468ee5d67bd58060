"""What a probe run is asked to do (``ProbeOptions``), validated, and the probe names.

The targets, headers and safety switches are the replay's own, passed through unchanged:
a probe sends where the replay sent and as the replay sent, never anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from shadowtape.diff.compare import DEFAULT_SETTINGS, DiffSettings
from shadowtape.diff.templating import Route
from shadowtape.errors import ConfigError
from shadowtape.probe.deps_link import DepsFiles
from shadowtape.replay.http.inprocess import App

DEFAULT_SAMPLE = 20
DEFAULT_CONCURRENCY = 16
DEFAULT_SHAPES = 40
#: The scale probe sends no size above this.
DEFAULT_SCALE_MAX = 10_000


class Probe(StrEnum):
    """The probes this build has; the error for an unknown name lists them."""

    CONCURRENCY = "concurrency"
    DUPLICATES = "duplicates"
    SHAPES = "shapes"
    SCALE = "scale"
    FAULTS = "faults"


def parse_probes(values: Iterable[str] | str | None) -> tuple[Probe, ...]:
    """``--probe`` values ("concurrency", comma lists, repeated flags) as probes."""
    if values is None:
        return ()
    items = [values] if isinstance(values, str) else list(values)
    chosen: list[Probe] = []
    for word in (w.strip().lower() for item in items for w in str(item).split(",")):
        if not word:
            continue
        try:
            chosen.append(Probe(word))
        except ValueError:
            valid = ", ".join(p.value for p in Probe)
            raise ConfigError(f"--probe: unknown probe {word!r}; valid: {valid}") from None
    return tuple(dict.fromkeys(chosen))


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeOptions:
    probes: tuple[Probe, ...]
    candidate: str
    #: "recorded", or the live baseline's URL (probed too).
    baseline: str = "recorded"
    #: At most this many requests per endpoint are probed.
    sample: int = DEFAULT_SAMPLE
    #: Requests in flight at once in the concurrent round.
    concurrency: int = DEFAULT_CONCURRENCY
    #: At most this many mutants per endpoint in the shapes probe.
    shapes: int = DEFAULT_SHAPES
    #: The largest size the scale probe asks for.
    scale_max: int = DEFAULT_SCALE_MAX
    timeout: float = 30.0
    allow_mutating: bool = False
    keep_host: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    verify_tls: bool = True
    #: A fresh traceparent on every probe request, as the replay sends.
    traceparent: bool = True
    #: The user's routes, so endpoints are named as the report names them.
    routes: tuple[Route, ...] = field(default_factory=tuple)
    #: How answers are compared (the report's tolerance and header policy).
    diff: DiffSettings = DEFAULT_SETTINGS
    #: Role -> the in-process app that role's URL (APP_URL) stands for.
    apps: Mapping[str, App] = field(default_factory=dict)
    #: Role -> the deps proxy in front of that build (the faults probe's fault switch and
    #: calls log); empty: those run.json notes (``deps_proxies``) for launched builds.
    deps: Mapping[str, DepsFiles] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sample < 2:
            raise ConfigError(
                f"--probe-sample {self.sample}: give 2 or more (a race needs two requests)"
            )
        if self.concurrency < 2:
            raise ConfigError(
                f"--probe-concurrency {self.concurrency}: give 2 or more requests at once"
            )
        if self.shapes < 1:
            raise ConfigError(f"--probe-shapes {self.shapes}: give 1 or more mutants")
        if self.scale_max < 2:
            raise ConfigError(f"--probe-scale-max {self.scale_max}: give 2 or more")

    @property
    def targets(self) -> dict[str, str]:
        """Role -> URL of every target a probe sends to: the candidate, and the baseline
        when it is live (a recorded baseline cannot be asked anything)."""
        out = {"candidate": self.candidate}
        if self.baseline != "recorded":
            out["baseline"] = self.baseline
        return out
