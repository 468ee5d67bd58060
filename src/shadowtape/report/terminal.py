"""The terminal summary: the ledger, and per endpoint what was checked, flagged and the
caveats (what was set aside or only partly checked, and why).

Regressed and unverified endpoints are listed with their three lists (findings capped
per endpoint, endpoints capped at MAX_DETAILED, each cut said with "and N more");
endpoints that passed get one line each, capped too, because their detail adds nothing.
The gate line comes last, where a terminal user's eye lands.

All text from traffic is passed as `rich.text.Text`, never as markup, so a location like
`$.items[3]` or a body holding `[bold]` prints as it is. On a console that is not a
terminal rich emits no ANSI codes; symbols are then left out too. Lines are wrapped
here with a hanging indent and no trailing padding, so CI logs stay clean.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from shadowtape.report import _describe as d
from shadowtape.report import _probes, _sidefx
from shadowtape.report.model import Endpoint, Finding, Report, Unverified

MAX_FINDINGS = 8
MAX_OK = 20
MAX_DETAILED = 60
LABEL = 18
STYLES = {"regression": "bold red", "unverified": "yellow", "ok": "green"}
SYMBOLS = {"regression": "✗ ", "unverified": "? ", "ok": "✓ "}


def render(report: Report, console: Console) -> None:
    """Print the summary of `report` to `console`."""
    console.print(_hang(console, Text(), _header(report), 2))
    for shared in report.service_findings:
        head = Text(f"service-wide ({shared.id}) ", "bold red")
        body = Text(d.service_text(shared), "red")
        body.append(": " + ", ".join(shared.endpoints), "dim")
        console.print(_hang(console, head, body, 4))
    eps = [ep for ep in report.endpoints if ep.verdict != "ok"]
    for ep in eps[:MAX_DETAILED]:
        console.print(_endpoint(report, ep, console))
    rest = eps[MAX_DETAILED:]
    if rest:
        counts = ", ".join(
            f"{sum(e.verdict == v for e in rest):,} {v}"
            for v in ("regression", "unverified")
            if any(e.verdict == v for e in rest)
        )
        more = Text(f"and {d.plural(len(rest), 'more endpoint')} ({counts}): see report.html")
        console.print(_hang(console, Text("  "), more, 2))
    ok = report.by_verdict("ok")
    for ep in ok[:MAX_OK]:
        console.print(_endpoint(report, ep, console))
    if len(ok) > MAX_OK:
        console.print(
            Text(f"  and {len(ok) - MAX_OK:,} more endpoints that passed every check", "dim")
        )
    if report.redactions:
        redacted = ", ".join(
            f"{r.location} ({d.percent(r.rate) or f'{r.count:,}'})" for r in report.redactions
        )
        line = Text("redacted in requests: ", "yellow") + Text(redacted)
        console.print(_hang(console, Text(), line, 4))
    for probe in report.probes or ():
        for said in _probes.lines(probe):
            console.print(_hang(console, Text(), Text(said), 4))
    for said in _sidefx.lines(report):
        console.print(_hang(console, Text(), Text(said), 4))
    for warning in d.run_warnings(report):
        console.print(_hang(console, Text("warning: ", "yellow"), Text(warning, "yellow"), 9))
    console.print(_gate(report, console))


def _header(report: Report) -> Text:
    totals = report.totals
    text = Text("shadowtape", "bold")
    for label, value in d.run_targets(report):
        text.append(f" · {label} ", "dim").append(value)
    text.append(" · ", "dim")
    bits = [
        d.plural(totals.exchanges, "exchange"),
        f"{totals.replayed:,} replayed",
        f"{totals.skipped:,} skipped",
    ]
    skipped = report.skipped
    if skipped:
        bits[-1] += " (" + ", ".join(f"{k} {n:,}" for k, n in skipped.items()) + ")"
    bits.append(d.plural(totals.endpoints or len(report.endpoints), "endpoint"))
    text.append(", ".join(bits), "dim")
    return text


def _endpoint(report: Report, ep: Endpoint, console: Console) -> Text:
    verdict = ep.verdict
    style = STYLES.get(verdict, "")
    head = Text()
    if console.is_terminal:
        head.append(SYMBOLS.get(verdict, "  "), style)
    head.append(ep.endpoint, "bold")
    head.append(f"  {verdict}", style)
    head.append(f" · {d.plural(ep.requests, 'request')}", "dim")
    fs, us = ep.findings, ep.unverified
    rows: list[tuple[str, list[Text]]] = []
    shared = [Text(line, "red") for line in d.service_refs(report, ep)]
    if verdict == "ok" and not fs:
        head.append(f" · checked {d.checked_text(ep)}", "dim")
    else:
        flagged = shared + [_finding(f) for f in fs[:MAX_FINDINGS]]
        if len(fs) > MAX_FINDINGS:
            flagged.append(Text(f"and {len(fs) - MAX_FINDINGS:,} more (see report.html)", "dim"))
        if ep.ledger is not None:
            rows.append(("exchanges", [Text(d.ledger_text(ep.ledger).split(": ", 1)[1])]))
        rows += [("checked", [Text(d.checked_text(ep))]), ("flagged", flagged or [Text("nothing")])]
    if us or rows:
        rows.append(("caveats", _unverified(us) or [Text("none")]))
    lines = [_hang(console, Text(), head, 4)]
    for label, items in rows:
        for i, item in enumerate(items):
            prefix = Text(f"    {label if i == 0 else '':<{LABEL}}", "dim")
            lines.append(_hang(console, prefix, item, 4 + LABEL))
    return Text("\n").join(lines)


def _unverified(items: tuple[Unverified, ...]) -> list[Text]:
    """One line per reason, its locations listed: noise on ten fields stays one line."""
    by_reason: dict[str, list[Unverified]] = {}
    for u in items:
        by_reason.setdefault(u.reason, []).append(u)
    out = []
    for reason, group in by_reason.items():
        text = Text(d.reason_label(reason), "yellow")
        locations = [loc for loc in (d.shown_location(u) for u in group) if loc]
        if len(group) == 1:
            text = Text(d.unverified_text(group[0]), "yellow")
        elif locations:
            text.append(": ").append(", ".join(dict.fromkeys(locations)))
        out.append(text)
    return out


def _hang(console: Console, prefix: Text, body: Text, indent: int) -> Text:
    """prefix + body wrapped to the console, continuation lines indented: no padding."""
    wrapped = body.wrap(console, max(console.width - indent, 20)) if body else [Text()]
    out = []
    for i, line in enumerate(wrapped):
        line.rstrip()
        out.append((prefix if i == 0 else Text(" " * indent)) + line)
    return Text("\n").join(out)


def _finding(f: Finding) -> Text:
    text = Text(d.kind_label(f.kind), "red")
    location = d.finding_location(f)
    if location:
        text.append(" at ").append(location, "bold")
    text.append(": ").append(d.finding_value(f, f.baseline, 40), "dim")
    text.append(" → ").append(d.finding_value(f, f.candidate, 40))
    text.append(d.count_suffix(f), "dim")
    ids = f.exchange_ids
    if ids:
        text.append(f" e.g. {ids[0]}", "dim")
    return text


def _gate(report: Report, console: Console) -> Text:
    passed = report.gate.passed
    line = _hang(
        console,
        Text(),
        Text(d.gate_line(report, ledger=False), "bold green" if passed else "bold red"),
        2,
    )
    if report.ledger is not None:
        line = _hang(console, Text(), Text(d.ledger_text(report.ledger)), 2) + Text("\n") + line
    reasons = report.gate.reasons
    if passed or not reasons:
        return line
    shown = [_hang(console, Text("  - "), Text(r), 4) for r in reasons[:10]]
    if len(reasons) > 10:
        shown.append(Text(f"  and {len(reasons) - 10:,} more", "dim"))
    return Text("\n").join([line, *shown])
