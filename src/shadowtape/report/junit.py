"""junit.xml: the report as test results, for the CI test tabs of GitHub, GitLab and Jenkins.

One <testcase> per endpoint (classname: the method, name: the endpoint). A regression
is a <failure> whose message lists the findings and whose text gives, per finding, the
location, both values, how often and example exchange ids. An unverified endpoint is
<skipped> with its reasons. Every case's <system-out> holds its ledger (where each of
its exchanges went) and the three lists: checked, flagged, caveats, so nothing that was
ignored is hidden. A case's time is the candidate's latencies summed over the endpoint's
replayed exchanges (report.json ``candidate_time_ms``); the suite's is the runs' wall
time. The run's ledger and its redacted request fields are suite properties. What weakens the whole
run (partial results, a run behind schedule) is the suite's <system-err>, and partial
results are also properties (``shadowtape.incomplete.N``).

The layout is the common subset those tools read (the Ant/Jenkins schema): testsuites >
testsuite (name, tests, failures, errors, skipped, time, timestamp, hostname) >
properties, testcase (name, classname, time) > failure | skipped, system-out; system-err.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from shadowtape.report import _describe as d
from shadowtape.report import _probes, _sidefx
from shadowtape.report.model import Endpoint, Finding, ProbeRun, Report, ServiceFinding

FILENAME = "junit.xml"
MESSAGE_LIMIT = 1000
# XML 1.0 cannot carry most control characters or lone surrogates, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(report: Report, out_dir: Path) -> Path:
    """Write junit.xml into out_dir and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILENAME
    tree = ET.ElementTree(build(report))
    ET.indent(tree)
    tmp = path.with_name(path.name + ".tmp")
    tree.write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
    return path


def build(report: Report) -> ET.Element:
    eps = report.endpoints
    shared = report.service_findings
    probes = report.probes or ()
    failures = sum(ep.verdict == "regression" for ep in eps) + len(shared)
    failures += sum(any(f.gated for f in p.findings) for p in probes)
    skipped = sum(ep.verdict == "unverified" for ep in eps)
    counts = {
        "tests": str(len(eps) + len(shared) + len(probes) + (report.side_effects is not None)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
        "time": _seconds(_duration(report)),
    }
    root = ET.Element("testsuites", {"name": "shadowtape", **counts})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": "shadowtape replay",
            **counts,
            "timestamp": _timestamp(report.generated_at),
            "hostname": _hostname(report),
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in _properties(report):
        ET.SubElement(props, "property", {"name": _x(name), "value": _x(value)})
    for item in shared:
        _service_case(suite, item)
    for ep in eps:
        _testcase(suite, ep, d.service_refs(report, ep))
    for probe in probes:
        _probe_case(suite, probe)
    if report.side_effects is not None:  # the findings fail their endpoints' cases
        case = ET.SubElement(
            suite, "testcase", {"name": "side effects", "classname": "deps", "time": "0"}
        )
        ET.SubElement(case, "system-out").text = _x("\n".join(_sidefx.lines(report)))
    warnings = d.run_warnings(report)
    if warnings:  # partial results, a run behind schedule: where CI shows a suite's output
        ET.SubElement(suite, "system-err").text = _x("\n".join(warnings))
    return root


def _service_case(suite: ET.Element, item: ServiceFinding) -> None:
    """A change on most endpoints: one failing test case, its endpoints listed."""
    case = ET.SubElement(
        suite,
        "testcase",
        {"name": _x(f"service-wide ({item.id})"), "classname": "service", "time": "0"},
    )
    message = d.service_text(item, 40)
    failure = ET.SubElement(
        case, "failure", {"message": _x(d.shorten(message, MESSAGE_LIMIT)), "type": "regression"}
    )
    failure.text = _x(item.message + "\nendpoints: " + ", ".join(item.endpoints))


def _probe_case(suite: ET.Element, probe: ProbeRun) -> None:
    """A probe: one test case, failing on the candidate's own findings."""
    case = ET.SubElement(
        suite, "testcase", {"name": _x(f"probe {probe.name}"), "classname": "probe", "time": "0"}
    )
    gated = [f for f in probe.findings if f.gated]
    if gated:
        message = "; ".join(_probes.finding_text(f) for f in gated)
        failure = ET.SubElement(
            case,
            "failure",
            {
                "message": _x(d.shorten(message, MESSAGE_LIMIT)),
                "type": ",".join(sorted({f.kind for f in gated})),
            },
        )
        failure.text = _x("\n".join(_probes.finding_text(f) for f in gated))
    ET.SubElement(case, "system-out").text = _x("\n".join(_probes.lines(probe)))


def _testcase(suite: ET.Element, ep: Endpoint, shared: list[str]) -> None:
    method = ep.method or ep.endpoint.partition(" ")[0] or "ANY"
    case = ET.SubElement(
        suite,
        "testcase",
        {"name": _x(ep.endpoint), "classname": _x(method), "time": _seconds(_case_time(ep))},
    )
    fs, us = ep.findings, ep.unverified
    verdict = ep.verdict
    if verdict == "regression":
        texts = shared + [d.finding_text(f, 40) for f in fs]
        message = f"{d.plural(len(texts), 'finding')}: " + "; ".join(texts)
        failure = ET.SubElement(
            case,
            "failure",
            {"message": _x(d.shorten(message, MESSAGE_LIMIT)), "type": "regression"},
        )
        failure.text = _x("\n\n".join([*shared, *(_finding_block(f) for f in fs)]))
    elif verdict == "unverified":
        message = "nothing was compared: " + (
            "; ".join(d.unverified_text(u) for u in us) or "no reason given"
        )
        ET.SubElement(case, "skipped", {"message": _x(d.shorten(message, MESSAGE_LIMIT))})
    out = ET.SubElement(case, "system-out")
    out.text = _x(_three_lists(ep))


def _finding_block(f: Finding) -> str:
    lines = [f"{d.kind_label(f.kind)} [{f.kind}] at {f.location or '-'}{d.count_suffix(f)}"]
    if f.message:
        lines.append(f"  {f.message}")
    lines.append(f"  baseline:  {d.finding_value(f, f.baseline, 500)}")
    lines.append(f"  candidate: {d.finding_value(f, f.candidate, 500)}")
    ids = f.exchange_ids
    if ids:
        lines.append(f"  examples:  {', '.join(ids)}")
    return "\n".join(lines)


def _case_time(ep: Endpoint) -> float:
    return (ep.candidate_time_ms or 0.0) / 1000


def _three_lists(ep: Endpoint) -> str:
    ledger = d.ledger_text(ep.ledger) if ep.ledger is not None else d.plural(ep.requests, "request")
    lines = [f"{ep.endpoint}: {ledger}"]
    lines.append(f"checked: {d.checked_text(ep)}")
    fs = ep.findings
    lines.append("flagged:" + ("" if fs else " nothing"))
    lines += [f"  - {d.finding_text(f)}" for f in fs]
    us = ep.unverified
    lines.append("caveats:" + ("" if us else " none"))
    for u in us:
        detail = f": {u.detail}" if u.detail else ""
        lines.append(f"  - {d.unverified_text(u)}{detail}")
    return "\n".join(lines)


def _properties(report: Report) -> list[tuple[str, str]]:
    gate = report.gate
    props = [
        ("shadowtape.report_version", report.report_version),
        ("shadowtape.gate", "passed" if gate.passed else "failed"),
        ("shadowtape.gate.fail_on", ",".join(gate.fail_on)),
    ]
    props += [(f"shadowtape.{label}", value) for label, value in d.run_targets(report)]
    props.append(("shadowtape.runs", ",".join(str(r.raw.get("run_id")) for r in report.runs)))
    if report.ledger is not None:
        props.append(("shadowtape.ledger", d.ledger_text(report.ledger)))
    for i, r in enumerate(report.redactions):
        props.append((f"shadowtape.redacted.{i + 1}", d.unverified_text(r)))
    for i, u in enumerate(_sidefx.caveats(report)):
        props.append((f"shadowtape.unverified.dependencies.{i + 1}", d.unverified_text(u)))
    for i, reason in enumerate(gate.reasons):
        props.append((f"shadowtape.gate.reason.{i + 1}", reason))
    for i, problem in enumerate(report.incomplete or ()):
        props.append((f"shadowtape.incomplete.{i + 1}", problem))
    return props


def _duration(report: Report) -> float:
    total = 0.0
    for run in report.runs:
        start, end = _parse(run.started_at), _parse(run.finished_at)
        if start and end:
            total += max((end - start).total_seconds(), 0.0)
    return total


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _timestamp(value: str) -> str:
    """ISO 8601 without a zone, as the Ant schema wants (the report's times are UTC)."""
    parsed = _parse(value) or datetime.now(UTC)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.replace(tzinfo=None, microsecond=0).isoformat()


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _hostname(report: Report) -> str:
    for label, value in d.run_targets(report):
        if label == "candidate":
            host = urlsplit(value.split(",")[0].strip()).hostname
            if host:
                return _x(host)
    return "localhost"


def _x(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))
