"""What a probe reports: its ``Outcome`` (probes.json's shape) and the example a finding
carries.

Every probe counts the same things (endpoints probed, requests sent per target, findings,
endpoints it could not verify, targets stopped as failing) and differs only in its name and
settings, so they share this one record and the fields the report shows a finding's
example in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shadowtape.probe.sample import Seed
from shadowtape.probe.sender import TargetSender, response_json
from shadowtape.replay.http.client import Reply

#: Where the probes' exchanges are written, relative to the run folder.
EXCHANGES = "probes/exchanges.jsonl"
#: A value quoted in a finding's message is cut to this many characters.
VALUE_CHARS = 200


@dataclass(slots=True)
class Outcome:
    """What a probe did and found, in report.json's shape for a probe (plain JSON)."""

    name: str
    targets: list[str]
    settings: dict[str, object]
    endpoints: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    findings: list[dict[str, object]] = field(default_factory=list)
    unverified: list[dict[str, object]] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    #: What a probe sent, one row per round (the faults probe: endpoint x dependency x
    #: fault, each build's answers and the verdict); in probes.json only when there are any.
    rounds: list[dict[str, object]] = field(default_factory=list)

    @classmethod
    def start(cls, name: str, senders: Sequence[TargetSender], **settings: object) -> Outcome:
        """An empty outcome of probe ``name`` against ``senders``, run with ``settings``."""
        return cls(name, [s.role for s in senders], settings)

    def check(self, sender: TargetSender) -> None:
        """Note ``sender``'s target as stopped once it is failing."""
        stopped = sender.check()
        if stopped is not None and stopped not in self.stopped:
            self.stopped.append(stopped)

    def to_json(self) -> dict[str, object]:
        rounds = {"rounds": self.rounds} if self.rounds else {}
        return {
            "name": self.name,
            "targets": self.targets,
            "settings": self.settings,
            "endpoints": self.endpoints,
            "sent": self.sent,
            "findings": self.findings,
            "unverified": self.unverified,
            "stopped": self.stopped,
            "exchanges": EXCHANGES,
            **rounds,
        }


def example(seed: Seed, alone: Reply, concurrent: Reply) -> dict[str, object]:
    """A finding's example: the seed's request and the two answers compared, in the fields
    the report shows a probe's answers (``alone`` and ``concurrent``, whatever the probe)."""
    return {
        "request": {
            "method": seed.method,
            "url": seed.url,
            "headers": [list(h) for h in seed.headers],
            "body": seed.body.decode("utf-8", errors="replace") or None,
        },
        "seed": seed.exchange_id,
        "alone": response_json(alone, 4096),
        "concurrent": response_json(concurrent, 4096),
    }


def short(value: object) -> str:
    """``value`` as a message quotes it, cut to ``VALUE_CHARS``."""
    text = repr(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"
