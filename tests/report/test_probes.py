"""The probes' section: read from the run folder, merged over shards, gated, rendered."""

from __future__ import annotations

from pathlib import Path

import orjson
from rich.console import Console

from shadowtape.report import html, junit, markdown, terminal
from shadowtape.report._probes import read_probes, with_probes
from shadowtape.report.gate import DEFAULT_FAIL_ON, PROBE_FAIL_ON
from shadowtape.report.load import load_report
from shadowtape.report.model import GateOutcome, Report


def _finding(target: str = "candidate", in_baseline: bool = False) -> dict[str, object]:
    return {
        "probe": "concurrency",
        "kind": "race",
        "target": target,
        "endpoint": "GET /api/users/{id}",
        "location": "$.id",
        "message": "answered differently with 16 requests at once than alone",
        "alone_value": "1",
        "concurrent_value": "7",
        "count": 3,
        "rate": 0.15,
        "in_baseline": in_baseline,
        "exchange_ids": ["A1", "C1"],
        "request": {"method": "GET", "url": "/api/users/1", "headers": [], "body": None},
        "seed": "S1",
        "alone": {"status": 200, "headers": [], "body": '{"id":"1"}', "error": None},
        "concurrent": {"status": 200, "headers": [], "body": '{"id":"7"}', "error": None},
    }


def _run(
    folder: Path, *findings: dict[str, object], sent: int = 60, name: str = "concurrency"
) -> Path:
    (folder / "probes").mkdir(parents=True)
    probe = {
        "name": name,
        "targets": ["candidate", "baseline"],
        "settings": {"sample": 20, "concurrency": 16},
        "endpoints": 1,
        "sent": {"candidate": sent, "baseline": sent},
        "findings": list(findings),
        "unverified": [
            {"reason": "too_few_samples", "location": "GET /x", "count": 1, "detail": "1"}
        ],
        "stopped": [],
        "exchanges": "probes/exchanges.jsonl",
    }
    (folder / "probes" / "probes.json").write_bytes(orjson.dumps({"probes": [probe]}))
    return folder


def _report(fail_on: tuple[str, ...] = DEFAULT_FAIL_ON) -> Report:
    return Report(report_version="1.1", gate=GateOutcome(passed=True, fail_on=fail_on))


def test_no_probes_leaves_the_report_as_it_was(tmp_path: Path) -> None:
    report = _report()
    assert with_probes(report, [tmp_path]) is report
    assert "probes" not in report.to_json()


def test_a_candidate_race_fails_the_default_gate(tmp_path: Path) -> None:
    report = with_probes(_report(), [_run(tmp_path, _finding())])
    assert not report.gate.passed
    assert report.gate.fail_on == (*DEFAULT_FAIL_ON, *PROBE_FAIL_ON)
    assert "race" in PROBE_FAIL_ON
    assert report.gate.reasons == (
        "GET /api/users/{id}: 1 race (answered differently under concurrency than alone) ($.id)",
    )


def test_a_race_the_baseline_shows_too_is_not_the_candidates(tmp_path: Path) -> None:
    run = _run(tmp_path, _finding(in_baseline=True), _finding("baseline"))
    report = with_probes(_report(), [run])
    assert report.gate.passed
    assert report.probes is not None and len(report.probes[0].findings) == 2


def test_a_gate_without_race_ignores_races(tmp_path: Path) -> None:
    report = with_probes(_report(("status",)), [_run(tmp_path, _finding())])
    assert report.gate.passed and report.gate.fail_on == ("status",)


def test_shards_merge_and_the_section_reads_back(tmp_path: Path) -> None:
    runs = [_run(tmp_path / "a", _finding(), sent=10), _run(tmp_path / "b", sent=5)]
    (probe,) = read_probes(runs) or ()
    assert probe.sent == {"candidate": 15, "baseline": 15}
    assert probe.endpoints == 2 and len(probe.findings) == 1
    report = with_probes(_report(), runs)
    again = load_report(orjson.loads(orjson.dumps(report.to_json())))
    assert again.probes == report.probes


def test_every_format_shows_the_probe(tmp_path: Path) -> None:
    report = with_probes(_report(), [_run(tmp_path / "run", _finding())])
    console = Console(record=True, width=100)
    terminal.render(report, console)
    assert "race · GET /api/users/{id} on the candidate" in console.export_text()
    assert "### Probes" in markdown.summary(report)
    xml = junit.build(report)
    case = next(c for c in xml.iter("testcase") if c.get("name") == "probe concurrency")
    assert case.find("failure") is not None
    page = html.page(report)
    assert 'id="probes"' in page and "A1, C1" in page


def test_a_duplicate_delivery_fails_the_default_gate_and_reads_back(tmp_path: Path) -> None:
    finding = {
        **_finding(),
        "probe": "duplicates",
        "kind": "duplicate_delivery",
        "endpoint": "POST /api/charges",
        "location": "in a row: second delivery",
        "message": "the second POST in a row created a second resource",
        "baseline_value": {"status": 200, "same_resource": True, "replay_marker": None},
        "candidate_value": {"status": 201, "same_resource": False, "replay_marker": None},
        "compared": True,
        "exchange_ids": ["B1", "B2", "C1", "C2"],
        "exchange_labels": [
            "baseline first",
            "baseline second",
            "candidate first",
            "candidate second",
        ],
    }
    report = with_probes(_report(), [_run(tmp_path, finding)])
    assert not report.gate.passed
    assert report.gate.reasons[0].startswith("POST /api/charges: 1 ")
    again = load_report(orjson.loads(orjson.dumps(report.to_json())))
    assert again.probes == report.probes
    assert again.probes is not None
    read = again.probes[0].findings[0]
    assert read.compared and read.candidate_value == finding["candidate_value"]
    assert (
        "[baseline first, baseline second, candidate first, candidate second: B1, B2, C1, C2]"
        in (markdown.summary(report))
    )
    assert "candidate, second delivery" in html.page(report)
    assert not with_probes(_report(("race",)), [_run(tmp_path / "b", finding)]).gate.reasons


def test_a_shape_fails_the_default_gate_and_names_its_two_answers(tmp_path: Path) -> None:
    shape = {
        **_finding(),
        "probe": "shapes",
        "kind": "shape",
        "location": "query page",
        "message": "page=4, past the last page seen (3): 500 on the candidate, "
        "200 with an empty list on the baseline",
    }
    report = with_probes(_report(), [_run(tmp_path, shape)])
    assert "shape" in report.gate.fail_on
    assert report.gate.reasons == (
        "GET /api/users/{id}: 1 shape finding (a mutated request answered unlike the "
        "baseline answered it) (query page)",
    )
    assert "[baseline, candidate: A1, C1]" in markdown.summary(report)
    assert "<h4>baseline</h4>" in html.page(report)


def test_a_superlinear_candidate_fails_the_default_gate_and_names_its_answers(
    tmp_path: Path,
) -> None:
    found = {
        **_finding(),
        "probe": "scale",
        "kind": "superlinear",
        "endpoint": "GET /api/items",
        "location": "limit",
        "message": "latency ~ n^2.0 against the baseline's n^1.0 in `limit`; 250 ms at limit=640",
        "alone_value": {"slope": 1.0, "low": 0.9, "high": 1.1, "points": 18},
        "concurrent_value": {"slope": 2.0, "low": 1.9, "high": 2.1, "points": 18},
    }
    report = with_probes(_report(), [_run(tmp_path, found, name="scale")])
    assert not report.gate.passed
    assert report.gate.reasons == (
        "GET /api/items: 1 superlinear growth (latency grows faster with size than the "
        "baseline's) (limit)",
    )
    assert "[at the reference size, at the largest size: A1, C1]" in markdown.summary(report)
    assert "<h4>at the largest size</h4>" in html.page(report)
    case = next(c for c in junit.build(report).iter("testcase") if c.get("name") == "probe scale")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "superlinear"


def test_a_swallowed_error_fails_the_default_gate_and_every_format_shows_its_rounds(
    tmp_path: Path,
) -> None:
    swallowed = {
        **_finding(),
        "probe": "faults",
        "kind": "swallowed_error",
        "location": "127.0.0.1:8010 503",
        "message": "127.0.0.1:8010 503 (GET /stock/1): candidate 200, baseline 503",
    }
    rounds = [
        {"endpoint": "GET /api/users/{id}", "dependency": "127.0.0.1:8010",
         "calls": "GET /stock/1", "fault": fault, "rule": f"host=127.0.0.1:8010,{fault}",
         "sent": 5 if fault == "503" else 1, "baseline": base, "candidate": cand,
         "verdict": verdict}
        for fault, base, cand, verdict in [
            ("503", "503 x5", "200 x5", "swallowed_error"),
            ("reset", "502", "502", "handled alike"),
        ]
    ]  # fmt: skip
    shards = [_run(tmp_path / "a", swallowed, name="faults"), _run(tmp_path / "b", name="faults")]
    for shard, mine in zip(shards, (rounds[:1], rounds[1:]), strict=True):
        summary = shard / "probes" / "probes.json"
        data = orjson.loads(summary.read_bytes())
        data["probes"][0]["rounds"] = mine
        summary.write_bytes(orjson.dumps(data))
    report = with_probes(_report(), shards)
    assert report.gate.reasons == (
        "GET /api/users/{id}: 1 swallowed error (a success where the baseline reported a "
        "failing dependency) (127.0.0.1:8010 503)",
    )
    (probe,) = report.probes or ()
    assert [(r.fault, r.verdict) for r in probe.rounds] == [
        ("503", "swallowed_error"),
        ("reset", "handled alike"),
    ]
    sent = (
        "sent: GET /api/users/{id} · 127.0.0.1:8010 503 (GET /stock/1): baseline 503 x5, "
        "candidate 200 x5: swallowed_error"
    )
    assert sent in markdown.summary(report)
    assert "[baseline under the fault, candidate under the fault: A1, C1]" in (
        markdown.summary(report)
    )
    console = Console(record=True, width=200)
    terminal.render(report, console)
    assert sent in console.export_text()
    page = html.page(report)
    assert "<td>503 x5</td><td>200 x5</td><td>swallowed_error</td>" in page
    assert "<h4>candidate under the fault</h4>" in page
    again = load_report(orjson.loads(orjson.dumps(report.to_json())))
    assert again.probes == report.probes
