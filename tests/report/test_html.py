"""report.html, rendered in a real headless Chromium (Debian's /usr/bin/chromium).

The page must load without console errors, make no request but for itself, show the
summary and every endpoint, keep planted <script>s inert, and stay usable at 500
endpoints (filter box, collapsed sections). Screenshots land in the test's tmp path.
"""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadowtape.report import html
from shadowtape.report.load import load_report
from tests.report import chromium
from tests.report.sample import NON_ASCII, XSS, many_endpoints, passing_report, sample_report

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return html.render(load_report(sample_report()), tmp_path_factory.mktemp("html"))


@pytest.fixture(scope="module")
def big_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return html.render(load_report(many_endpoints(500)), tmp_path_factory.mktemp("html500"))


def _text(page: chromium.Page) -> str:
    return str(page.evaluate("document.body.innerText"))


def test_page_loads_without_console_errors_or_network(
    browser: chromium.Page, page_path: Path
) -> None:
    log = browser.goto(page_path.as_uri())
    assert log.errors() == []
    assert log.requests == [page_path.as_uri()]
    assert browser.evaluate("document.title") == "shadowtape: FAILED"


def test_summary_comes_first_then_every_endpoint(browser: chromium.Page, page_path: Path) -> None:
    browser.goto(page_path.as_uri())
    text = _text(browser)
    gate = text.index(
        "Gate failed: 3 of 8 endpoints with regressions; 1,236 exchanges: 130 regressed, "
        "1,009 equal, 90 noise only, 3 unverified (baseline failed 3), 4 skipped (mutating 4)"
    )
    assert gate < text.index("Checked") < text.index("Flagged") < text.index("Caveats")
    for ep in sample_report()["endpoints"]:
        assert text.count(ep["endpoint"]) >= 2, ep["endpoint"]  # table row and section
    assert text.index("Caveats") < text.index("Endpoints")
    for words in ("1,236", "exchanges", "mutating requests not sent", "not exercised"):
        assert words in text
    sections = browser.evaluate(
        "[...document.querySelectorAll('details.endpoint')].map(d => [d.id, d.open])"
    )
    assert [s[0] for s in sections] == [f"ep-{i}" for i in range(8)]
    assert [s[1] for s in sections] == [True, True, True, False, False, False, False, False]


def test_open_endpoint_shows_findings_diff_and_latency(
    browser: chromium.Page, page_path: Path
) -> None:
    browser.goto(page_path.as_uri())
    text = str(browser.evaluate("document.getElementById('ep-0').innerText"))
    for expected in (
        "value changed",
        "$.greeting",
        "The greeting text changed.",
        f'"{NON_ASCII}"',
        '"Hello <b>friend</b> & co"',
        "header:content-type",
        "noise",
        "$.request_id",
        "baseline body",
        "candidate body",
        "p95",
        "ratio (95% CI)",
    ):
        assert expected in text, expected
    # The lines the findings point at are marked, on both sides of the diff.
    hits = browser.evaluate(
        "[...document.querySelectorAll('#ep-0-ex-0 tr.hit')].map(r => r.innerText)"
    )
    joined = "\n".join(hits)
    assert '"greeting": "Hello <b>friend</b> & co"' in joined
    assert f'"greeting": "{NON_ASCII}"' in joined
    assert '"price": "13.50"' in joined and '"price": 13.5,' in joined
    assert "content-type" in joined
    assert '"qty"' not in joined and "date" not in joined
    # The histogram shows every paired request: trimming empty bins lost none.
    tips = browser.evaluate(
        "[...document.querySelectorAll('#ep-0 svg.hist g title')].map(t => t.textContent)"
    )
    assert len(tips) == browser.evaluate("document.querySelectorAll('#ep-0 rect.bar').length") / 2
    for side in ("baseline", "candidate"):
        assert sum(int(m) for t in tips for m in re.findall(side + r" (\d+)", t)) == 120


def test_planted_script_stays_text(browser: chromium.Page, page_path: Path) -> None:
    log = browser.goto(page_path.as_uri())
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    browser.settle()
    assert browser.evaluate("typeof window.__xss") == "undefined"
    assert browser.evaluate("document.scripts.length") == 1
    assert browser.evaluate("document.querySelectorAll('img, iframe, object').length") == 0
    assert XSS in _text(browser)
    assert log.errors() == [] and log.requests == [page_path.as_uri()]


def test_filter_box_and_verdict_toggles_narrow_500_endpoints(
    browser: chromium.Page, big_path: Path
) -> None:
    assert big_path.stat().st_size < 12_000_000
    started = time.monotonic()
    log = browser.goto(big_path.as_uri())
    assert time.monotonic() - started < 20
    assert log.errors() == []
    assert browser.evaluate("document.getElementById('shown').textContent") == "all 500 endpoints"
    regressions = sum(e["verdict"] == "regression" for e in many_endpoints(500)["endpoints"])
    assert browser.evaluate("document.querySelectorAll('details.endpoint[open]').length") == 50
    assert browser.evaluate("document.getElementById('collapsed').textContent").startswith(
        f"{regressions - 50} more regressions, collapsed"
    )
    visible = (
        "[...document.querySelectorAll('[data-ep]')]"
        ".filter(e => !e.hidden && e.tagName === 'TR').map(e => e.dataset.verdict)"
    )

    def type_filter(text: str) -> None:
        browser.evaluate(
            f"(() => {{ const f = document.getElementById('filter'); f.value = {json.dumps(text)};"
            " f.dispatchEvent(new Event('input')); })()"
        )

    type_filter("svc007/")
    assert len(browser.evaluate(visible)) == 1
    assert browser.evaluate("document.getElementById('shown').textContent") == "1 of 500 endpoints"
    type_filter("request_id")  # a finding location, not in any endpoint name
    assert set(browser.evaluate(visible)) == {"regression"}
    type_filter("")
    browser.evaluate("document.querySelector('input[data-verdict=ok]').click()")
    shown = browser.evaluate(visible)
    not_ok = sum(e["verdict"] != "ok" for e in many_endpoints(500)["endpoints"])
    assert "ok" not in shown and len(shown) == not_ok
    sections = browser.evaluate(
        "[...document.querySelectorAll('details.endpoint')].filter(d => !d.hidden).length"
    )
    assert sections == not_ok


def test_links_open_collapsed_sections_and_folds_unfold(
    browser: chromium.Page, page_path: Path
) -> None:
    browser.goto(page_path.as_uri())
    assert browser.evaluate("document.getElementById('ep-6').open") is False
    browser.evaluate("document.querySelector('a[href=\"#ep-6\"]').click()")
    browser.settle()
    assert browser.evaluate("document.getElementById('ep-6').open") is True
    folded = "document.querySelectorAll('#ep-0-ex-0 tbody.folded[hidden]').length"
    before = browser.evaluate(folded)
    assert before >= 1
    browser.evaluate("document.querySelector('#ep-0-ex-0 button.unfold').click()")
    assert browser.evaluate(folded) == before - 1
    assert browser.log.errors() == []


def test_screenshots(browser: chromium.Page, page_path: Path, tmp_path: Path) -> None:
    browser.goto(page_path.as_uri())
    top = browser.screenshot(tmp_path / "report-top.png")
    browser.evaluate("document.querySelector('#ep-0-ex-0').scrollIntoView()")
    diff = browser.screenshot(tmp_path / "report-diff.png")
    for shot in (top, diff):
        data = shot.read_bytes()
        assert data.startswith(PNG) and len(data) > 20_000


def test_headless_cli_dump_dom_and_screenshot(
    chromium_ready: None, tmp_path: Path, page_path: Path
) -> None:
    """The plain `chromium --headless --dump-dom / --screenshot` route works as well."""
    done = chromium.run_cli(page_path.as_uri(), "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Gate failed: 3 of 8 endpoints with regressions" in done.stdout
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in done.stdout
    shot = tmp_path / "cli.png"
    done = chromium.run_cli(page_path.as_uri(), f"--screenshot={shot}", "--window-size=1280,2000")
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes().startswith(PNG)


def test_passing_report_says_so(tmp_path: Path) -> None:
    text = html.render(load_report(passing_report()), tmp_path).read_text(encoding="utf-8")
    assert '<section class="gate passed"' in text
    assert (
        "Gate passed: 0 of 5 endpoints with regressions; 691 exchanges: 0 regressed, 594 equal, "
        "90 noise only, 3 unverified (baseline failed 3), 4 skipped (mutating 4)"
    ) in text
    assert "<title>shadowtape: passed</title>" in text


def test_minimal_report_renders(tmp_path: Path) -> None:
    """Optional parts missing (no runs, latency, examples): still a page, no crash."""
    report = {
        "report_version": "1.0",
        "gate": {"passed": True},
        "endpoints": [{"endpoint": "GET /x", "verdict": "ok"}],
    }
    text = html.render(load_report(report), tmp_path).read_text(encoding="utf-8")
    assert "GET /x" in text and "Gate passed" in text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.update(name for name, _ in attrs)


ALLOWED_TAGS = set(
    [
        "html",
        "head",
        "meta",
        "link",
        "title",
        "style",
        "body",
        "main",
        "script",
        "div",
        "span",
        "h1",
        "h2",
        "h3",
        "p",
        "ul",
        "li",
        "a",
        "code",
        "b",
        "strong",
        "section",
        "details",
        "summary",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "colgroup",
        "col",
        "dl",
        "dt",
        "dd",
        "article",
        "header",
        "footer",
        "pre",
        "button",
        "input",
        "label",
        "svg",
        "line",
        "text",
        "g",
        "title",
        "rect",
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60), st.text(max_size=200))
def test_no_text_from_the_report_becomes_markup(name: str, body: str) -> None:
    """Whatever an endpoint, value or body holds, the page has only our own tags."""
    report = sample_report()
    ep = report["endpoints"][0]
    ep["endpoint"] = name
    ep["findings"][0]["location"] = name
    ep["findings"][0]["candidate"] = body
    ep["unverified"][0]["detail"] = body
    ep["examples"][0]["exchange_id"] = name
    ep["examples"][0]["candidate"]["body"] = body
    ep["examples"][0]["candidate"]["headers"] = [[name, body]]
    parser = _Tags()
    parser.feed(html.page(load_report(report)))
    assert set(parser.tags) <= ALLOWED_TAGS
    assert parser.tags.count("script") == 1
    assert not {a for a in parser.attrs if a.startswith("on")}


def test_each_renderer_leaves_no_temporary_file(tmp_path: Path, report: dict[str, Any]) -> None:
    html.render(load_report(report), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "runs" / "demo"


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shadowtape.report import analyze

    return html.render(analyze([DEMO]), tmp_path_factory.mktemp("demo"))


def test_demo_banner_cards_and_caveats_agree(browser: chromium.Page, demo_path: Path) -> None:
    from shadowtape.report import analyze

    report = analyze([DEMO])
    assert report.ledger is not None
    log = browser.goto(demo_path.as_uri())
    assert log.errors() == []
    gate = browser.evaluate("document.getElementById('gate').innerText")
    assert f"{report.ledger.unverified_total} unverified" in gate
    cards = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#ledger .card')]"
        ".map(c => [c.dataset.bucket, c.querySelector('.n').textContent]))"
    )
    assert cards["unverified"] == str(report.ledger.unverified_total)
    buckets = ("regressed", "equal", "noise only", "unverified", "skipped")
    assert sum(int(cards[b].replace(",", "")) for b in buckets) == int(cards["exchanges"])
    text = _text(browser)
    assert "could not verify" not in text.lower()
    # Redacted request fields: listed once for the run, none at or over 100% twice over.
    assert text.count("redacted at request.cookie.session") == 1
    assert all(int(p) <= 100 for p in re.findall(r"(\d+)%", text))


def test_demo_every_regression_is_open_with_an_example_inline(
    browser: chromium.Page, demo_path: Path
) -> None:
    browser.goto(demo_path.as_uri())
    state = browser.evaluate(
        "[...document.querySelectorAll('details.endpoint')].map(d => [d.dataset.verdict, d.open])"
    )
    assert [open_ for verdict, open_ in state if verdict == "regression"] == [True] * 7
    assert browser.evaluate("document.getElementById('collapsed')") is None
    first = browser.evaluate(
        "document.querySelector('details.endpoint tr.inline-example').innerText"
    )
    assert "GET /api/inventory/" in first
    assert "baseline 503 · candidate 200" in first
    assert "status: 503 → 200" in first
    assert re.search(r"shadowtape show \w{26} RUN_DIR", first)
    latency = browser.evaluate(
        "[...document.querySelectorAll('tr.inline-example')].map(r => r.innerText)"
        ".find(t => t.includes(' ms → '))"
    )
    assert latency and "shadowtape show" in latency
