"""summary.md: gate line first, totals, regressions, collapsed details; bounded in size."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.report import markdown
from shadowtape.report.load import load_report
from tests.report.sample import NON_ASCII, many_endpoints, passing_report

ALLOWED_HTML = re.compile(r"</?(details|summary|sub)>")
CODE = re.compile(r"<code>(.*?)</code>")


def _cells(row: str) -> list[str]:
    """GitHub's cell scanner: a backslash escapes the next character, a bare pipe splits."""
    cells, current, escaped = [], "", False
    for c in row.strip():
        if escaped:
            current, escaped = current + c, False
        elif c == "\\":
            current, escaped = current + c, True
        elif c == "|":
            cells.append(current)
            current = ""
        else:
            current += c
    return cells[1:]


def _check_markup(text: str) -> None:
    """Traffic text never becomes HTML, and table code cells hold only entities."""
    for inner in CODE.findall(text):
        assert not set(inner) & set("<>|\\`$@*_[]"), inner
    rest = re.sub(r"(`+).*?\1", "", CODE.sub("", text))
    assert "<" not in ALLOWED_HTML.sub("", rest)


def _tables(text: str) -> list[list[str]]:
    tables: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables + ([current] if current else [])


def _check_tables(text: str) -> None:
    for table in _tables(text):
        width = len(_cells(table[0]))
        assert all(len(_cells(row)) == width for row in table), table


def test_layout(report: dict[str, Any], tmp_path: Path) -> None:
    path = markdown.render(load_report(report), tmp_path)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == (
        "### :x: shadowtape: Gate failed: 3 of 8 endpoints with regressions; 1,236 exchanges: "
        "130 regressed, 1,009 equal, 90 noise only, 3 unverified (baseline failed 3), 4 skipped "
        "(mutating 4)"
    )
    assert "| 1,236 | 130 | 1,009 | 90 | 3 | 4 | 8 | 3 | 8 |" in lines
    assert text.index("#### Regressions on 3 endpoints") < text.index("<details><summary>Cave")
    decoded = html.unescape(text)
    for ep in report["endpoints"][:3]:
        assert f"**`{ep['endpoint']}`**" in text
        for f in ep["findings"]:
            assert f"<code>{f['location']}</code>" in decoded
    assert f'<code>"{NON_ASCII}"</code>' in decoded
    assert (
        "<details><summary>Caveats: 10 items on 7 endpoints (2 noise), redacted request fields "
        "once for the run</summary>"
    ) in text
    assert "<details><summary>Passed: 2 endpoints</summary>" in text
    _check_tables(text)
    _check_markup(text)


def test_passing(tmp_path: Path) -> None:
    text = markdown.render(load_report(passing_report()), tmp_path).read_text(encoding="utf-8")
    assert text.startswith("### :white_check_mark: shadowtape: Gate passed")
    assert "Regressions" not in text


def test_large_reports_are_cut_to_fit_github_limits() -> None:
    report = many_endpoints(3000)
    for ep in report["endpoints"]:
        for f in ep["findings"]:
            f["candidate"] = "x" * 5000
    model = load_report(report)  # frozen: one for the three cuts
    full = markdown.summary(model)
    assert len(full.encode()) <= markdown.GITHUB_STEP_SUMMARY_LIMIT
    assert "more endpoints with regressions." in full
    assert re.search(r"\| and [\d,]+ more \|", full)
    _check_tables(full)
    comment = markdown.summary(model, max_bytes=markdown.GITHUB_COMMENT_LIMIT)
    assert len(comment.encode()) <= markdown.GITHUB_COMMENT_LIMIT
    assert comment.splitlines()[0].startswith("### :x: shadowtape: Gate failed")
    tiny = markdown.summary(model, max_bytes=300)
    assert len(tiny.encode()) <= 300 and tiny.startswith("### :x:")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40), st.text(max_size=80))
def test_any_text_keeps_tables_intact(name: str, value: str) -> None:
    report = passing_report()
    report["endpoints"].insert(
        0,
        {
            "endpoint": name,
            "verdict": "regression",
            "findings": [
                {"kind": "body_value", "location": value, "baseline": value, "candidate": name}
            ],
            "unverified": [{"reason": "noise", "location": name, "detail": value}],
        },
    )
    report["gate"] = {"passed": False, "reasons": [value]}
    text = markdown.summary(load_report(report))
    _check_tables(text)
    assert text.splitlines()[0].startswith("### :x: shadowtape: Gate failed")
    _check_markup(text)


def test_latency_figures_carry_their_unit(report: dict[str, Any], tmp_path: Path) -> None:
    text = html.unescape(markdown.render(load_report(report), tmp_path).read_text("utf-8"))
    row = next(line for line in text.splitlines() if "<code>latency:p95</code>" in line)
    assert "<code>9.20 ms</code>" in row and "<code>15.1 ms</code>" in row


def test_the_ledger_per_endpoint_adds_up(report: dict[str, Any], tmp_path: Path) -> None:
    text = markdown.render(load_report(report), tmp_path).read_text(encoding="utf-8")
    assert "<details><summary>Ledger: where each of 1,236 exchanges went" in text
    head = "| endpoint | exchanges | regressed | equal | noise only | unverified | skipped |"
    assert head in text
