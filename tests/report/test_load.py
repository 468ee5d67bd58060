"""Reading report.json back: nothing the format holds is lost, what a report lacks is empty."""

from __future__ import annotations

from pathlib import Path

from shadowtape.report import json_report, load_report, read_report
from tests.report.test_json_report import GOLDEN


def test_report_json_read_back_serializes_to_the_same_bytes(tmp_path: Path) -> None:
    report = read_report(GOLDEN)
    assert json_report.render(report, tmp_path).read_bytes() == GOLDEN.read_bytes()
    assert report.gate.passed is False and report.endpoints[0].verdict == "regression"


def test_missing_and_mistyped_fields_get_empty_values() -> None:
    report = load_report(
        {
            "report_version": "1.0",
            "totals": None,
            "runs": [{"run_id": "r1", "interrupted": True, "schedule": None}, "junk"],
            "endpoints": [
                {"endpoint": "GET /x", "findings": [{"kind": "status"}], "latency": {"pairs": "x"}},
                "junk",
            ],
        }
    )
    assert report.totals.endpoints == 0 and report.gate.passed is False
    assert [run.run_id for run in report.runs] == ["r1"]
    assert report.runs[0].interrupted and report.runs[0].schedule == {}
    (ep,) = report.endpoints
    assert ep.findings[0].kind == "status" and ep.findings[0].count is None
    assert ep.compared is None and ep.latency is not None and ep.latency.pairs is None
    assert ep.latency.comparable is False and ep.latency.histogram is None


def test_an_absent_incomplete_field_stays_absent() -> None:
    """Reports older than the field said an interrupted run only in ``runs``."""
    assert load_report({"report_version": "1.0"}).incomplete is None
    assert load_report({"report_version": "1.0", "incomplete": []}).incomplete == ()
