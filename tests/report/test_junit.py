"""junit.xml: one test case per endpoint, in the layout GitHub, GitLab and Jenkins read."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.report import junit
from shadowtape.report._describe import REASON_LABELS
from shadowtape.report.load import load_report
from tests.report.sample import NON_ASCII, XSS, many_endpoints, passing_report

# The common (Ant / Jenkins junit-10.xsd) layout: allowed attributes and child order.
SUITES_ATTRS = {"name", "tests", "failures", "errors", "skipped", "time", "disabled"}
SUITE_REQUIRED = {"name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname"}
SUITE_CHILDREN = ["properties", "testcase", "system-out", "system-err"]
CASE_REQUIRED = {"name", "classname", "time"}
CASE_CHILDREN = ["skipped", "error", "failure", "system-out", "system-err"]


def _parse(report: dict[str, Any], tmp_path: Path) -> ET.Element:
    path = junit.render(load_report(report), tmp_path)
    assert path.name == "junit.xml"
    assert path.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.parse(path).getroot()


def _check_layout(root: ET.Element) -> None:
    assert root.tag == "testsuites"
    assert set(root.attrib) <= SUITES_ATTRS
    suites = list(root)
    assert [s.tag for s in suites] == ["testsuite"]
    suite = suites[0]
    assert set(suite.attrib) >= SUITE_REQUIRED
    order = [SUITE_CHILDREN.index(child.tag) for child in suite]
    assert order == sorted(order)
    for prop in suite.iter("property"):
        assert set(prop.attrib) == {"name", "value"}
    for case in suite.iter("testcase"):
        assert CASE_REQUIRED <= set(case.attrib) <= CASE_REQUIRED | {"file", "line"}
        kinds = [CASE_CHILDREN.index(child.tag) for child in case]
        assert kinds == sorted(kinds)
        assert sum(child.tag in ("skipped", "error", "failure") for child in case) <= 1
    cases = list(suite.iter("testcase"))
    for key, tag in (("failures", "failure"), ("skipped", "skipped"), ("errors", "error")):
        count = sum(case.find(tag) is not None for case in cases)
        assert suite.attrib[key] == root.attrib[key] == str(count)
    assert suite.attrib["tests"] == root.attrib["tests"] == str(len(cases))
    float(suite.attrib["time"])


def test_one_case_per_endpoint_with_findings_as_failures(
    report: dict[str, Any], tmp_path: Path
) -> None:
    root = _parse(report, tmp_path)
    _check_layout(root)
    suite = root[0]
    assert suite.attrib["tests"] == "8"
    assert suite.attrib["failures"] == "3" and suite.attrib["skipped"] == "3"
    assert suite.attrib["timestamp"] == "2026-11-21T20:05:00"
    assert suite.attrib["time"] == "270.000"
    cases = {c.attrib["name"]: c for c in suite.iter("testcase")}
    assert list(cases) == [ep["endpoint"] for ep in report["endpoints"]]
    for ep in report["endpoints"]:
        case = cases[ep["endpoint"]]
        assert case.attrib["classname"] == ep["method"]
        failure, skipped = case.find("failure"), case.find("skipped")
        if ep["verdict"] == "regression":
            assert failure is not None and skipped is None
            text = failure.text or ""
            for f in ep["findings"]:
                assert f["location"] in failure.attrib["message"]
                assert f"[{f['kind']}] at {f['location']}" in text
                unit = " pairs" if f["kind"] == "latency" else "\u00d7"
                assert f"({f['count']:,}{unit}" in text
                for exchange_id in f["exchange_ids"]:
                    assert exchange_id in text
        elif ep["verdict"] == "unverified":
            assert skipped is not None and failure is None
            message = skipped.attrib["message"]
            assert message.startswith("nothing was compared: ")
            for u in ep["unverified"]:
                assert REASON_LABELS[u["reason"]] in message
        else:
            assert failure is None and skipped is None
        out = case.findtext("system-out") or ""
        assert "checked:" in out and "flagged:" in out and "caveats:" in out
        assert out.startswith(f"{ep['endpoint']}: {ep['requests']:,} exchange")


def test_values_survive_escaping(report: dict[str, Any], tmp_path: Path) -> None:
    root = _parse(report, tmp_path)
    failure = root.find(".//testcase[@name='GET /api/users/{id}/greeting']/failure")
    assert failure is not None
    assert f'baseline:  "{NON_ASCII}"' in (failure.text or "")
    assert 'candidate: "Hello <b>friend</b> & co"' in (failure.text or "")


def test_gate_and_targets_are_properties(report: dict[str, Any], tmp_path: Path) -> None:
    root = _parse(report, tmp_path)
    props = {p.attrib["name"]: p.attrib["value"] for p in root.iter("property")}
    assert props["shadowtape.gate"] == "failed"
    assert props["shadowtape.candidate"] == "http://127.0.0.1:8081"
    assert props["shadowtape.gate.reason.2"].startswith("GET /api/orders/{id}")
    assert _parse(passing_report(), tmp_path / "p").find(".//property[@value='passed']") is not None


def test_500_endpoints(tmp_path: Path) -> None:
    report = many_endpoints(500)
    root = _parse(report, tmp_path)
    _check_layout(root)
    assert len(list(root.iter("testcase"))) == 500


@settings(max_examples=40, deadline=None)
@given(st.text(), st.text(alphabet=st.characters(exclude_categories=()), max_size=400))
def test_any_text_gives_well_formed_xml(name: str, value: str) -> None:
    """Control characters and lone surrogates are invalid in XML 1.0 even when escaped."""
    report = passing_report()
    report["endpoints"].insert(
        0,
        {
            "endpoint": name,
            "method": name[:5],
            "verdict": "regression",
            "findings": [
                {"kind": "body_value", "location": name, "baseline": value, "candidate": XSS}
            ],
            "unverified": [{"reason": "noise", "location": value, "detail": value}],
        },
    )
    root = ET.fromstring(ET.tostring(junit.build(load_report(report)), encoding="utf-8"))
    failure = root.find(".//failure")
    assert failure is not None
    assert len(failure.attrib["message"]) <= junit.MESSAGE_LIMIT
    assert "<script>window.__xss = 1</script>" in (failure.text or "")


def test_case_times_are_the_candidates_replay_time(tmp_path: Path) -> None:
    from shadowtape.report import analyze
    from tests.report.test_json_report import RUN

    report = analyze([RUN])
    root = ET.parse(junit.render(report, tmp_path)).getroot()
    times = {c.get("name"): float(c.get("time") or 0) for c in root.iter("testcase")}
    for ep in report.endpoints:
        assert ep.candidate_time_ms is not None and ep.candidate_time_ms > 0
        assert times[ep.endpoint] == round(ep.candidate_time_ms / 1000, 3)
    out = next(c for c in root.iter("testcase") if c.get("name") == "GET /api/search")
    latency = next(f for f in report.endpoints if f.endpoint == "GET /api/search").findings[0]
    assert "ms" in (out.findtext("failure") or "")
    assert latency.exchange_ids and latency.exchange_ids[0] in (out.findtext("failure") or "")
