"""What the probe tests share: a replay with one probe through the CLI, that probe's part
of the report it wrote, the probe exchanges it logged, and a target that starts failing
once the replay is done."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson

from shadowtape.cli import main
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
