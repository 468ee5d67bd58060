"""Every renderer on real reports: the analysis run on the trio's real responses.

The sample reports are written by hand from docs/report-format.md; these come from
`shadowtape.report.analyze` over results of real HTTP calls (tests/trio), in live and
recorded-baseline modes, so a drift between what the analysis writes and what the
renderers read shows up here.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from shadowtape.report import Report, analyze, html, junit, markdown, terminal
from tests.report import chromium
from tests.trio.results import run_live, run_recorded
from tests.trio.service import traffic, trio

MODES = ("live", "recorded")
HIGHLIGHTABLE = ("$", "line:", "header:", "status")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Report]]:
    root = tmp_path_factory.mktemp("runs")
    with trio() as t:
        live = run_live(t, root / "live", traffic(), shards=2)
        recorded = run_recorded(t, root / "recorded", traffic())
    yield {"live": analyze(live), "recorded": analyze(recorded)}


@pytest.mark.parametrize("mode", MODES)
def test_files_and_terminal(reports: dict[str, Report], mode: str, tmp_path: Path) -> None:
    report = reports[mode]
    eps = report.endpoints
    regressions = [e for e in eps if e.verdict == "regression"]
    assert regressions, "the trio plants differences: some endpoint must regress"
    root = ET.parse(junit.render(report, tmp_path)).getroot()
    assert root.attrib["tests"] == str(len(eps))
    assert root.attrib["failures"] == str(len(regressions))
    text = markdown.render(report, tmp_path).read_text(encoding="utf-8")
    assert len(text.encode()) <= markdown.GITHUB_STEP_SUMMARY_LIMIT
    for ep in regressions:
        assert f"**`{ep.endpoint}`**" in text
    out = io.StringIO()
    terminal.render(report, Console(file=out, width=120))
    plain = out.getvalue()
    assert "\x1b" not in plain
    for ep in regressions:
        assert f"{ep.endpoint}  regression" in plain


@pytest.mark.parametrize("mode", MODES)
def test_html_in_chromium(
    reports: dict[str, Report], mode: str, tmp_path: Path, chromium_ready: None
) -> None:
    report = reports[mode]
    path = html.render(report, tmp_path)
    with chromium.browser() as page:
        log = page.goto(path.as_uri())
        assert log.errors() == []
        assert log.requests == [path.as_uri()]
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        for i, ep in enumerate(report.endpoints):
            section = str(page.evaluate(f"document.getElementById('ep-{i}').innerText"))
            assert ep.endpoint in section
            for f in ep.findings:
                assert f.location in section
            for k, example in enumerate(ep.examples[: html.MAX_EXAMPLES]):
                pointed = [
                    f
                    for f in ep.findings
                    if example.exchange_id in f.exchange_ids
                    and f.location.startswith(HIGHLIGHTABLE)
                ]
                if pointed:
                    hits = page.evaluate(
                        f"document.querySelectorAll('#ep-{i}-ex-{k} tr.hit').length"
                    )
                    assert hits >= 1, (ep.endpoint, [f.location for f in pointed])
        page.screenshot(tmp_path / f"{mode}.png")
