"""What the probe tests share: a replay with one probe through the CLI, and that probe's
part of the report it wrote."""

from __future__ import annotations

from pathlib import Path

import orjson

from shadowtape.cli import main


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
