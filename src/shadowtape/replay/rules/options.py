"""What a replay run is asked to do: targets, pacing, safety and selection, validated once.

The CLI and the Python API build the same ``ReplayOptions``; every check that can fail on
user input happens here, so the engine never starts a run it would have to abandon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from shadowtape.errors import ConfigError
from shadowtape.modes import parse_mode
from shadowtape.replay.rules.targets import Target
from shadowtape.tape import TapeFilter

#: Bodies are kept up to this many bytes per response (the size is always recorded).
DEFAULT_BODY_CAP = 1024 * 1024
#: Results gather bodies with 32-bit offsets (shadowtape.results.rows): a hand-over of
#: 16 MB plus one row's bodies (four targets at most) stays well under 2 GiB.
MAX_BODY_CAP = 256 * 1024 * 1024
#: Recorded gaps as they were.
DEFAULT_SPEED = 1.0
#: With the recorded baseline, one safe request in ten goes to the candidate twice.
DEFAULT_REPEAT_SAMPLE = 0.1
#: A target that answers none of its first this many requests stops the run (0: never).
DEFAULT_ABORT_AFTER = 20


class Pace(StrEnum):
    """How send times are chosen."""

    RECORDED = "recorded"
    ASAP = "asap"

    @classmethod
    def parse(cls, value: str) -> Pace:
        return parse_mode(cls, value, noun="pace", plural="paces", error=ConfigError)


class Ordering(StrEnum):
    """Which requests that share state (rules/ordering.py) wait for one another."""

    #: An earlier request is waited for only if it had finished, in the recording, before
    #: the later one started; requests that overlapped in production may overlap here.
    #: Requests with the same Idempotency-Key always keep their order.
    RECORDED = "recorded"
    #: Every request waits for the one before it that shares a key (one at a time).
    STRICT = "strict"
    #: No request waits for another.
    NONE = "none"

    @classmethod
    def parse(cls, value: str) -> Ordering:
        return parse_mode(cls, value, noun="ordering", plural="orderings", error=ConfigError)


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based, as written on the command line: 1/4 .. 4/4)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            left, right = text.split("/")
            shard = cls(int(left), int(right))
        except ValueError:
            raise ConfigError(f"shard {text!r} is not I/N, e.g. 1/4") from None
        if not 1 <= shard.index <= shard.count:
            raise ConfigError(f"shard {text!r}: I must be between 1 and N, e.g. 1/4 .. 4/4")
        return shard

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayOptions:
    candidate: str
    #: "recorded", or the URL of a live baseline.
    baseline: str = "recorded"
    secondary: str | None = None
    #: None when not chosen: the recorded gaps, unless ``rate`` replaces them (a pace
    #: that is given, recorded included, contradicts a rate).
    pace: Pace | None = None
    #: Recorded gaps are divided by this (2.0 replays twice as fast); --pace recorded only.
    speed: float = DEFAULT_SPEED
    #: A fixed rate in requests per second, open loop; overrides the recorded gaps.
    rate: float | None = None
    #: Requests in flight at most (each counts once, whatever the number of targets).
    concurrency: int = 64
    #: Which requests that share state wait for one another.
    ordering: Ordering = Ordering.RECORDED
    #: Seconds per request, connect to last byte.
    timeout: float = 30.0
    allow_mutating: bool = False
    keep_host: bool = False
    #: Headers added or replaced on every request, ("Name", "value"), already expanded.
    headers: tuple[tuple[str, str], ...] = ()
    filter: TapeFilter = field(default_factory=TapeFilter)
    shard: Shard | None = None
    #: Fraction of safe requests sent to the candidate a second time (recorded baseline).
    repeat_sample: float = DEFAULT_REPEAT_SAMPLE
    body_cap: int = DEFAULT_BODY_CAP
    #: Verify TLS certificates of https targets (False with no https target is refused).
    verify_tls: bool = True
    #: Stop the run when a target answers none of its first this many requests; 0 never.
    abort_after: int = DEFAULT_ABORT_AFTER
    #: Send a fresh W3C traceparent on every request (rules/tracing.py).
    traceparent: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.ordering, Ordering):
            object.__setattr__(self, "ordering", Ordering.parse(str(self.ordering)))
        if not math.isfinite(self.speed) or self.speed <= 0:
            raise ConfigError(f"--speed must be a positive number, not {self.speed}")
        if self.rate is not None and (not math.isfinite(self.rate) or self.rate <= 0):
            raise ConfigError(f"--rate must be a positive number of requests/s, not {self.rate}")
        if self.rate is not None and self.pace is Pace.ASAP:
            raise ConfigError("--rate and --pace asap contradict each other; choose one")
        if self.rate is not None and self.pace is Pace.RECORDED:
            raise ConfigError(
                "--pace recorded keeps the recorded gaps and --rate replaces them with a fixed "
                "rate: give one of them"
            )
        self._refuse_unused()
        if not 1 <= self.concurrency <= 10_000:
            raise ConfigError(f"--concurrency must be between 1 and 10000, not {self.concurrency}")
        if not math.isfinite(self.timeout) or self.timeout <= 0:
            raise ConfigError(f"--timeout must be a positive number of seconds, not {self.timeout}")
        if self.abort_after < 0:
            raise ConfigError(
                f"--abort-after must be 0 (never stop early) or more, not {self.abort_after}"
            )
        if not 0 <= self.repeat_sample <= 1:
            raise ConfigError(f"--repeat-sample must be between 0 and 1, not {self.repeat_sample}")
        if self.secondary is not None and not self.live_baseline:
            raise ConfigError(
                "--secondary needs a live --baseline URL: it is a second instance of the "
                "baseline build (against the recorded baseline, --repeat-sample measures noise)"
            )
        if not 0 <= self.body_cap <= MAX_BODY_CAP:
            raise ConfigError(
                f"body cap must be between 0 and {MAX_BODY_CAP} bytes, not {self.body_cap}"
            )

    def _refuse_unused(self) -> None:
        """A flag that would do nothing in the chosen mode is a mistake about the mode:
        say so rather than run something other than what was asked. Only a value that
        would change something counts (a speed of 1, a repeat sample of 0), and the
        defaults, which cannot be told from the same values given."""
        if self.speed != DEFAULT_SPEED and self.rate is not None:
            raise ConfigError(
                "--speed divides the recorded gaps, which --rate replaces with a fixed rate: "
                "drop --speed (or drop --rate to keep the recorded gaps)"
            )
        if self.speed != DEFAULT_SPEED and self.pace is Pace.ASAP:
            raise ConfigError(
                "--speed applies to --pace recorded only (with --pace asap requests go as "
                "fast as --concurrency allows): drop --speed"
            )
        if self.live_baseline and self.repeat_sample not in (0, DEFAULT_REPEAT_SAMPLE):
            raise ConfigError(
                "--repeat-sample applies to --baseline recorded only (with a live baseline, "
                "--secondary measures noise): drop --repeat-sample"
            )
        if not self.verify_tls and not any(
            Target.parse(url, role=role).scheme == "https" for role, url in self._targets()
        ):
            raise ConfigError(
                "--insecure only matters for https:// targets; none of "
                "--candidate/--baseline/--secondary is https: drop --insecure"
            )

    def _targets(self) -> list[tuple[str, str]]:
        """(role, URL) of each target that is sent requests."""
        baseline = [("baseline", self.baseline)] if self.live_baseline else []
        secondary = [("secondary", self.secondary)] if self.secondary else []
        return [("candidate", self.candidate), *baseline, *secondary]

    @property
    def live_baseline(self) -> bool:
        return self.baseline != "recorded"

    @property
    def paced(self) -> bool:
        """Send times are planned (the recorded gaps, or --rate), so a send can be late;
        with --pace asap a request is due when a slot frees up."""
        return self.pace is not Pace.ASAP
