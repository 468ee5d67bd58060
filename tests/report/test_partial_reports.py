"""Reports with optional parts missing or null still render in every format."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from shadowtape.report import html, junit, markdown, terminal
from shadowtape.report.load import load_report

EMPTY: dict[str, Any] = {"report_version": "1.0", "gate": {"passed": True}, "endpoints": []}
SPARSE: dict[str, Any] = {
    "report_version": "1.0",
    # A --pace asap run has no schedule: run.json's is null.
    "runs": [
        {"run_id": "r1", "candidate": "http://127.0.0.1:1", "interrupted": True, "schedule": None}
    ],
    "totals": None,
    "gate": {"passed": False, "reasons": ["the run was interrupted"]},
    "endpoints": [
        {"endpoint": "GET /x", "verdict": "regression", "findings": [{"kind": "status"}]},
        {"endpoint": "GET /y", "verdict": "unverified", "unverified": [{"reason": "noise"}]},
        {
            "endpoint": "GET /z",
            "verdict": "ok",
            "latency": {"comparable": True, "ratio": {"p50": {"value": None}}, "histogram": {}},
            "examples": [{"exchange_id": None, "baseline": None, "candidate": {"body": "x"}}],
        },
    ],
}


@pytest.mark.parametrize("report", [EMPTY, SPARSE], ids=["empty", "sparse"])
def test_every_format_renders(report: dict[str, Any], tmp_path: Path) -> None:
    page = html.render(load_report(report), tmp_path).read_text(encoding="utf-8")
    root = ET.parse(junit.render(load_report(report), tmp_path)).getroot()
    summary = markdown.render(load_report(report), tmp_path).read_text(encoding="utf-8")
    out = io.StringIO()
    terminal.render(load_report(report), Console(file=out, width=100))
    n = len(report["endpoints"])
    assert root.attrib["tests"] == str(n)
    for ep in report["endpoints"]:
        assert ep["endpoint"] in page and ep["endpoint"] in out.getvalue()
    head = "Gate passed" if report["gate"]["passed"] else "Gate failed"
    assert head in page and head in summary and head in out.getvalue()
    if report is SPARSE:
        assert "r1 was interrupted" in page and "r1 was interrupted" in out.getvalue()
        assert "r1 was interrupted" in summary
