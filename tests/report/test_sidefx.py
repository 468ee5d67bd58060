"""The "Side effects" section and its could-not-verify entries, in every format."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import orjson
from rich.console import Console

from shadowtape.report import make_report, read_report, terminal
from tests.diff.deps_runs import Request, made, write_run

UNMATCHED = "GET 127.0.0.1:8081/items/{id}"


def _run(tmp_path: Path) -> Path:
    stock = made("GET", "127.0.0.1", 8081, "/items/7", 502, match="unmatched")
    charge = made()
    requests = [
        Request(
            i,
            start_ms=i * 100.0,
            end_ms=i * 100.0 + 50,
            calls={"baseline": [stock, charge], "candidate": [stock, charge, charge]},
        )
        for i in range(6)
    ]
    # Two requests in flight at once and a call carrying no trace context: unattributed.
    requests += [Request(10, 1000, 1100, traced=False), Request(11, 1010, 1090, traced=False)]
    extra = {"candidate": [made(at_ms=1050)]}
    return write_run(tmp_path / "run", requests, extra_calls=extra, mode="mock")


def test_every_format_shows_the_ledger_and_what_could_not_be_verified(tmp_path: Path) -> None:
    report = make_report([_run(tmp_path)])
    written = report.write(tmp_path / "out")

    data = orjson.loads(written["json"].read_bytes())
    section = data["side_effects"]
    reasons = {(u["reason"], u["location"]): u["count"] for u in section["unverified"]}
    assert reasons == {
        ("unattributed", "candidate"): 1,
        ("unmatched_dependency_call", UNMATCHED): 12,
    }
    candidate = next(log for log in section["logs"] if log["role"] == "candidate")
    assert (candidate["calls"], candidate["by_trace"], candidate["unattributed"]) == (19, 18, 1)
    rows = {(r["call"], r["status"]): r["calls"] for r in section["ledger"]}
    assert rows[("POST payments.internal/charges", 201)] == {"baseline": 6, "candidate": 12}
    assert read_report(written["json"]) == report

    markdown = written["markdown"].read_text()
    html = written["html"].read_text()
    for text in (markdown, html):
        assert "Side effects" in text and "unattributed" in text
        assert "unmatched dependency call" in text
        assert "127.0.0.1:8081/items/{id}" in text or "127&#46;0&#46;0&#46;1" in text
    junit = ET.parse(written["junit"]).getroot()
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    deps = [v for k, v in props.items() if k and k.startswith("shadowtape.unverified.dependencies")]
    assert any("unmatched dependency call" in (v or "") for v in deps)
    assert any("unattributed" in (v or "") for v in deps)
    cases = {c.get("name"): c for c in junit.iter("testcase")}
    assert "side effects" in cases
    failure = cases["POST /api/orders"].find("failure")
    assert failure is not None and "side_effect" in (failure.text or "")

    console = Console(record=True, width=200)
    terminal.render(report, console)
    said = console.export_text()
    assert "side effects: 8 requests compared" in said  # 2 that made no calls
    assert "could not verify GET 127.0.0.1:8081/items/{id}: unmatched dependency call" in said


def test_a_run_without_launched_builds_has_no_section(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", [Request(1, 0, 10)], logs=())
    report = make_report([run_dir])
    assert report.side_effects is None
    assert "side_effects" not in report.to_json()
