"""The terminal summary: three lists per endpoint, plain text when not on a terminal."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from shadowtape.report import terminal
from shadowtape.report.load import load_report
from tests.report.sample import NON_ASCII, many_endpoints, passing_report

X = "\u00d7"  # the multiplication sign in counts


def _plain(report: dict[str, Any], width: int = 100) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width)  # a StringIO is not a terminal
    assert not console.is_terminal
    terminal.render(load_report(report), console)
    return out.getvalue()


def test_three_lists_per_endpoint(report: dict[str, Any]) -> None:
    text = _plain(report, width=160)
    assert "\x1b" not in text
    lines = text.splitlines()
    assert lines[0].startswith("shadowtape · candidate http://127.0.0.1:8081")
    start = lines.index("GET /api/users/{id}/greeting  regression · 120 requests")
    block = "\n".join(lines[start : start + 12])
    assert "    checked           status, headers, body, latency" in block
    assert "    flagged           value changed at $.greeting:" in block
    assert f'type changed at $.items[3].price: 13.5 → "13.50" (12{X}, 10%)' in block
    assert (
        "    caveats           noise at $.request_id (varies in 100% of A/A pairs, 120 "
        "candidate differences set aside)"
    ) in block
    assert NON_ASCII in text
    assert "POST /api/orders  unverified · 4 requests" in lines
    i = lines.index("POST /api/orders  unverified · 4 requests")
    ledger = "0 regressed, 0 equal, 0 noise only, 0 unverified, 4 skipped (mutating 4)"
    assert lines[i + 1] == f"    exchanges         {ledger}"
    assert lines[i + 4] == f"    caveats           mutating requests not sent (4{X}, 100%)"
    assert "GET /healthz  ok · 84 requests · checked status, headers, body, latency" in lines
    # The gate is the last thing printed, with its reasons.
    gate = lines.index("Gate failed: 3 of 8 endpoints with regressions")
    assert lines[gate - 1] == (
        "1,236 exchanges: 130 regressed, 1,009 equal, 90 noise only, 3 unverified (baseline "
        "failed 3), 4 skipped (mutating 4)"
    )
    assert lines[gate + 1 :] == [f"  - {r}" for r in report["gate"]["reasons"]]


def test_plain_output_has_no_padding_and_wraps_with_a_hanging_indent(
    report: dict[str, Any],
) -> None:
    text = _plain(report, width=60)
    lines = text.splitlines()
    assert all(len(line) <= 60 for line in lines)
    assert not [line for line in lines if line != line.rstrip()]
    i = next(n for n, line in enumerate(lines) if "header changed at header:content-type" in line)
    assert lines[i + 1].startswith(" " * 22) and lines[i + 1].strip()


def test_markup_in_traffic_prints_literally(report: dict[str, Any]) -> None:
    report["endpoints"][0]["endpoint"] = "GET /[bold]x[/bold]/[red]"
    report["endpoints"][0]["findings"][0]["location"] = "$.a[0][/]"
    text = _plain(report)
    assert "GET /[bold]x[/bold]/[red]  regression" in text
    assert "value changed at $.a[0][/]:" in text


def test_on_a_terminal_it_has_colour_and_symbols(report: dict[str, Any]) -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=True, color_system="standard")
    terminal.render(load_report(report), console)
    text = out.getvalue()
    assert "\x1b[" in text and "✗ " in text and "✓ " in text


def test_passing_and_long_reports_stay_compact() -> None:
    text = _plain(passing_report())
    assert text.splitlines()[-1] == "Gate passed: 0 of 5 endpoints with regressions"
    assert " ".join(text.split()).endswith(
        "691 exchanges: 0 regressed, 594 equal, 90 noise only, 3 unverified (baseline failed 3), "
        "4 skipped (mutating 4) Gate passed: 0 of 5 endpoints with regressions"
    )
    big = many_endpoints(500)
    ok = sum(e["verdict"] == "ok" for e in big["endpoints"])
    text = _plain(big)
    assert f"  and {ok - terminal.MAX_OK:,} more endpoints that passed every check" in text
    assert text.count(" ok · ") == terminal.MAX_OK
    assert text.count(" regression · ") + text.count(" unverified · ") == terminal.MAX_DETAILED
    not_ok = [e["verdict"] for e in big["endpoints"] if e["verdict"] != "ok"]
    rest = not_ok[terminal.MAX_DETAILED :]
    assert (
        f"  and {len(rest)} more endpoints ({rest.count('regression')} regression, "
        f"{rest.count('unverified')} unverified): see report.html"
    ) in text
    assert "  and 179 more" in text  # gate reasons beyond the first ten


def test_many_findings_are_capped(report: dict[str, Any]) -> None:
    finding = report["endpoints"][0]["findings"][0]
    report["endpoints"][0]["findings"] = [dict(finding, location=f"$.f{i}") for i in range(30)]
    text = _plain(report)
    assert "$.f7:" in text and "$.f8:" not in text
    assert "and 22 more (see report.html)" in text


def test_latency_figures_carry_their_unit(report: dict[str, Any]) -> None:
    text = _plain(report, width=160)
    assert f"slower at latency:p95: 9.20 ms → 15.1 ms (400 pairs, {X}1.64)" in text
