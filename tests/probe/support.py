"""What the probe tests share: a replay with one probe through the CLI, that probe's part
of the report it wrote, the probe exchanges it logged, a target that starts failing once
the replay is done, and fake targets (no sockets) to run a probe's rules against."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, cast

import orjson

from shadowtape.cli import main
from shadowtape.probe.outcome import Outcome
from shadowtape.probe.sample import EndpointSample, Seed
from shadowtape.replay.http.client import Reply as ClientReply
from tests.replay.aserver import Arrival, Handler
from tests.servers import Reply


def replay(
    tape: Path, out: Path, candidate: str, probe: str, *flags: str
) -> tuple[int, dict[str, object]]:
    """``shadowtape replay`` of ``tape`` to ``candidate`` with ``--probe probe``, as fast as
    it goes; its exit code and report.json."""
    code = main(
        ["replay", str(tape), "--candidate", candidate, "--out", str(out),
         "--pace", "asap", "--progress", "off", "--probe", probe, *flags]
    )  # fmt: skip
    return code, orjson.loads((out / "report.json").read_bytes())


def probe_report(report: dict[str, object], name: str) -> dict[str, object]:
    """The one probe in ``report``, checked to be ``name``."""
    probes = report["probes"]
    assert isinstance(probes, list)
    (probe,) = probes
    assert probe["name"] == name
    return dict(probe)


def probe_exchanges(run_dir: Path) -> list[dict[str, Any]]:
    """The probe exchanges of the run in ``run_dir`` (probes/exchanges.jsonl), in order."""
    log = (run_dir / "probes" / "exchanges.jsonl").read_bytes()
    return [orjson.loads(line) for line in log.splitlines()]


def breaks_after(served: int) -> Handler:
    """A handler that answers ``{}`` to the first ``served`` requests and 503 from then on."""
    count = {"n": 0}

    async def handle(arrival: Arrival) -> Reply:
        count["n"] += 1
        await asyncio.sleep(0)
        return Reply(200, body=b"{}") if count["n"] <= served else Reply(503, body=b"{}")

    return handle


class FakeTarget:
    """A target on no socket, sent to as a probe sends to a ``TargetSender``: it answers
    JSON with the status and body ``answer`` gives, counts what it is sent, never stops."""

    def __init__(self, role: str) -> None:
        self.role, self.sent, self.stopped = role, 0, None

    def answer(self, seed: Seed, stage: str) -> tuple[int, object]:
        raise NotImplementedError

    async def send(
        self, seed: Seed, *, probe: str, endpoint: str, stage: str
    ) -> tuple[str, ClientReply]:
        self.sent += 1
        status, body = self.answer(seed, stage)
        raw = orjson.dumps(body)
        headers = (("Content-Type", "application/json"),)
        return f"{self.role}-{self.sent}", ClientReply(0, 0, status, "", headers, raw, len(raw))

    def check(self) -> None:
        return None


def fake_findings(
    run: Callable[..., Awaitable[Outcome]],
    endpoint: str,
    seeds: Sequence[Seed],
    targets: Sequence[FakeTarget],
    **settings: object,
) -> list[dict[str, object]]:
    """The findings of the probe ``run`` on one endpoint's ``seeds``, sent to ``targets``."""
    outcome = asyncio.run(
        run([EndpointSample(endpoint, list(seeds))], cast(Any, list(targets)), **settings)
    )
    return outcome.findings
