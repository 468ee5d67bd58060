"""One cause, one finding: a change on most endpoints is one service-wide finding, which
every renderer shows once and every endpoint it covers points to."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from shadowtape.report import html, json_report, junit, markdown, terminal
from shadowtape.report._service import service_wide
from shadowtape.report.gate import DEFAULT_FAIL_ON, evaluate
from shadowtape.report.load import read_report
from shadowtape.report.model import Endpoint, Finding, Report, Totals

POWERED = Finding(
    kind="header",
    location="header:x-powered-by",
    message="header x-powered-by changed from 'Express' to 'Fastify' in 10 of 10 requests",
    baseline="Express",
    candidate="Fastify",
    count=10,
    rate=1.0,
    exchange_ids=("01A",),
)
PRICE = Finding(kind="body_type", location="$.price", baseline=1.5, candidate="1.5", count=3)


def _endpoint(name: str, *findings: Finding) -> Endpoint:
    return Endpoint(
        endpoint=f"GET {name}",
        method="GET",
        route=name,
        requests=10,
        replayed=10,
        compared=10,
        verdict="regression" if findings else "ok",
        checked=("status", "headers", "body"),
        findings=findings,
    )


def endpoints() -> list[Endpoint]:
    return [
        _endpoint("/a", POWERED, PRICE),
        _endpoint("/b", POWERED),
        _endpoint("/c", POWERED),
        _endpoint("/d", POWERED),
        _endpoint("/e"),
    ]


def report() -> Report:
    eps, shared = service_wide(endpoints())
    return Report(
        report_version="1.1",
        totals=Totals(endpoints=5, regression=4, ok=1, findings=2),
        gate=evaluate(eps, DEFAULT_FAIL_ON, compared=50, service=shared),
        service_findings=tuple(shared),
        endpoints=tuple(eps),
    )


def test_a_change_on_most_endpoints_is_one_finding_the_endpoints_point_to() -> None:
    r = report()
    (shared,) = r.service_findings
    assert (shared.id, shared.kind, shared.location) == ("service-1", "header", POWERED.location)
    assert shared.endpoints == ("GET /a", "GET /b", "GET /c", "GET /d")
    assert shared.count == 40 and shared.rate == 1.0
    assert shared.message.endswith("on 4 of 5 endpoints (40 of 40 requests)")
    by_name = {e.endpoint: e for e in r.endpoints}
    assert by_name["GET /a"].findings == (PRICE,)
    assert by_name["GET /a"].service_findings == ("service-1",)
    assert by_name["GET /b"].findings == () and by_name["GET /b"].verdict == "regression"
    assert by_name["GET /e"].service_findings == ()
    # The gate counts it once, and the endpoints' own findings as before.
    assert r.gate.reasons == (
        "service-wide on 4 endpoints (service-1): 40 header differences (header:x-powered-by)",
        "GET /a: 3 body differences ($.price)",
    )


def test_a_change_on_a_few_endpoints_stays_with_them() -> None:
    eps = [_endpoint("/a", POWERED), _endpoint("/b", POWERED), *map(_endpoint, "cdef")]
    out, shared = service_wide(eps)
    assert shared == [] and out == eps


def test_every_renderer_shows_it(tmp_path: Path) -> None:
    r = report()
    out = io.StringIO()
    terminal.render(r, Console(file=out, width=120))
    text = out.getvalue()
    assert text.count("service-wide (service-1) header changed at header:x-powered-by") == 1
    assert "service-wide (service-1): header changed at header:x-powered-by" in text
    summary = markdown.summary(r)
    assert "#### Service-wide: 1 change on most endpoints" in summary
    assert "<code>service-1</code>" in summary
    page = html.page(r)
    assert "<h2>Service-wide (1)</h2>" in page and 'id="service-1"' in page
    root = ET.parse(junit.render(r, tmp_path)).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["service-wide (service-1)"].find("failure") is not None
    assert "service-1" in (cases["GET /b"].find("failure").get("message") or "")  # type: ignore[union-attr]
    back = read_report(json_report.render(r, tmp_path))
    assert back.service_findings == r.service_findings
    assert back.endpoints[1].service_findings == ("service-1",)
