"""The ledger: every selected exchange in exactly one bucket, per endpoint and in total,
the same counts in every format, and ``--max-unverified`` failing a run that checked
little. Checked on the demo's real run folder and on results written in the replayer's
format."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import orjson
import pytest
from rich.console import Console

from shadowtape.report import _describe as d
from shadowtape.report import analyze, terminal
from shadowtape.report.model import Ledger, Report
from tests.trio.results import numbered_row, put, write

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "runs" / "demo"
JSON = [("content-type", "application/json")]


def _buckets(ledger: Ledger) -> int:
    return ledger.regressed + ledger.equal + ledger.noise + ledger.not_verified


def check_adds_up(report: Report) -> None:
    assert report.ledger is not None
    assert report.ledger.selected == report.totals.exchanges
    assert _buckets(report.ledger) == report.ledger.selected
    total = 0
    for ep in report.endpoints:
        assert ep.ledger is not None
        assert ep.ledger.selected == ep.requests, ep.endpoint
        assert _buckets(ep.ledger) == ep.requests, ep.endpoint
        assert ep.ledger.skipped_total == ep.requests - (ep.replayed or 0)
        assert ep.ledger.unverified_total == (ep.replayed or 0) - (ep.compared or 0)
        total += ep.ledger.selected
    assert total == report.ledger.selected


def test_the_demo_ledger_adds_up_per_endpoint_and_in_total() -> None:
    report = analyze([DEMO])
    check_adds_up(report)
    assert report.ledger is not None
    # The demo's planted regressions are exchanges in the regressed bucket.
    by_name = {ep.endpoint: ep.ledger for ep in report.endpoints}
    assert by_name["GET /api/products/{id}"].regressed == 69  # type: ignore[union-attr]
    assert by_name["GET /api/products"].regressed == 6  # type: ignore[union-attr]
    assert by_name["GET /api/orders"].regressed == 0  # type: ignore[union-attr]


def test_every_format_says_the_same_counts(tmp_path: Path) -> None:
    report = analyze([DEMO])
    assert report.ledger is not None
    line = d.ledger_text(report.ledger)
    assert line.startswith("307 exchanges: ")
    written = report.write(tmp_path)
    data = orjson.loads(written["json"].read_bytes())
    assert data["ledger"] == report.ledger.to_json()
    assert line in written["markdown"].read_text(encoding="utf-8")
    assert line in written["html"].read_text(encoding="utf-8")
    root = ET.parse(written["junit"]).getroot()
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["shadowtape.ledger"] == line
    console = Console(record=True, width=400, force_terminal=False)
    terminal.render(report, console)
    assert line in console.export_text()
    # No format calls anything else "unverified" or "could not verify".
    for name in ("markdown", "html", "junit"):
        text = written[name].read_text(encoding="utf-8").lower()
        assert "could not verify" not in text, name


def _row(n: int, path: str, **extra: Any) -> dict[str, Any]:
    out = numbered_row(n, path, mode="live")
    answer = {"status": 200, "headers": JSON, "body": b'{"x": 1}', "latency_us": 1000}
    for side in ("baseline", "candidate", "secondary"):
        put(out, side, answer)
    out.update(extra)
    return out


def _run(tmp_path: Path) -> Path:
    """10 exchanges: 6 equal, 2 not compared (the baseline refused), 2 skipped."""
    rows = [_row(n, "/items") for n in range(6)]
    refused = {"baseline_status": None, "baseline_error_kind": "refused"}
    rows += [_row(6 + n, "/items", **refused) for n in range(2)]
    rows += [_row(8 + n, "/items", method="POST", skip_reason="mutating") for n in range(2)]
    run = {"results_version": "1.0", "run_id": "t", "baseline": "live"}
    return write(tmp_path / "run", rows, run)[0]


def test_unverified_and_skipped_have_their_reasons(tmp_path: Path) -> None:
    report = analyze([_run(tmp_path)], fail_on="none")
    check_adds_up(report)
    assert report.ledger == Ledger(
        selected=10,
        equal=6,
        unverified={"baseline_failed": 2},
        skipped={"mutating": 2},
    )


@pytest.mark.parametrize(("share", "passed"), [("20%", False), ("0.4", True), ("40", True)])
def test_max_unverified_fails_a_run_that_checked_too_little(
    tmp_path: Path, share: str, passed: bool
) -> None:
    report = analyze([_run(tmp_path)], fail_on="none", max_unverified=share)
    assert report.gate.passed is passed
    if not passed:
        assert report.gate.reasons == (
            "4 of 10 exchanges (40%) were not verified (unverified or skipped), more than "
            "--max-unverified 20%",
        )


def test_max_unverified_on_the_command_line_and_in_config(tmp_path: Path) -> None:
    run = str(_run(tmp_path))

    def report(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shadowtape", *args, "report", run, "--fail-on", "none"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )

    assert report().returncode == 0
    failed = subprocess.run(
        [sys.executable, "-m", "shadowtape", "report", run, "--max-unverified", "20%"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert failed.returncode == 1
    assert "more than --max-unverified 20%" in " ".join(failed.stdout.split())
    config = tmp_path / "shadowtape.toml"
    config.write_text('[report]\nmax-unverified = "20%"\n')
    assert report("--config", str(config)).returncode == 1
    bad = subprocess.run(
        [sys.executable, "-m", "shadowtape", "report", run, "--max-unverified", "lots"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--max-unverified" in bad.stderr


def test_a_redacted_request_field_is_listed_once_and_at_most_100_percent(
    tmp_path: Path,
) -> None:
    both = ["request.body$.card", "request.body$.cvc", "request.header.authorization"]
    rows = [_row(n, f"/a{n % 2}", redactions=both) for n in range(4)]
    run = {"results_version": "1.0", "run_id": "t", "baseline": "live"}
    report = analyze(write(tmp_path / "run", rows, run))
    assert [(r.location, r.count, r.rate) for r in report.redactions] == [
        ("request.body", 4, 1.0),
        ("request.header.authorization", 4, 1.0),
    ]
    assert all(u.reason != "redacted" for ep in report.endpoints for u in ep.unverified)


def test_outcomes_past_the_cap_are_unclassified_not_guessed() -> None:
    from collections import Counter

    from shadowtape.diff.analyze import OVERFLOW, EndpointStats
    from shadowtape.diff.latency import LatencySample
    from shadowtape.diff.noise import NoiseModel
    from shadowtape.report._ledger import endpoint_ledger

    ep = EndpointStats(method="GET", route="/u", noise=NoiseModel(), latency=LatencySample())
    ep.outcomes = Counter({frozenset({(f"$.s.u{i}", "body_value", "count")}): 1 for i in range(3)})
    ep.outcomes[OVERFLOW] = 50
    ep.outcomes[frozenset()] = 10
    ep.requests = 63
    # the endpoint's only finding is a latency one: no exchange differs at a finding key
    ledger = endpoint_ledger(ep, set(), set(), has_findings=True)
    assert (ledger.regressed, ledger.equal, ledger.noise) == (0, 10, 3)
    assert ledger.unverified == {"unclassified": 50}
    assert ledger.regressed + ledger.equal + ledger.noise + ledger.unverified_total == 63
