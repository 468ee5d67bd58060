"""The terminal summary: per endpoint, what was checked, flagged and could not be verified.

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

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.text import Text

from shadowtape.report import _describe as d

MAX_FINDINGS = 8
MAX_OK = 20
MAX_DETAILED = 60
LABEL = 18
STYLES = {"regression": "bold red", "unverified": "yellow", "ok": "green"}
SYMBOLS = {"regression": "✗ ", "unverified": "? ", "ok": "✓ "}


def render(report: Mapping[str, Any], console: Console) -> None:
    """Print the summary of `report` to `console`."""
    console.print(_hang(console, Text(), _header(report), 2))
    eps = [ep for ep in d.endpoints(report) if ep.get("verdict") != "ok"]
    for ep in eps[:MAX_DETAILED]:
        console.print(_endpoint(ep, console))
    rest = eps[MAX_DETAILED:]
    if rest:
        counts = ", ".join(
            f"{sum(e.get('verdict') == v for e in rest):,} {v}"
            for v in ("regression", "unverified")
            if any(e.get("verdict") == v for e in rest)
        )
        more = Text(f"and {d.plural(len(rest), 'more endpoint')} ({counts}): see report.html")
        console.print(_hang(console, Text("  "), more, 2))
    ok = d.by_verdict(report, "ok")
    for ep in ok[:MAX_OK]:
        console.print(_endpoint(ep, console))
    if len(ok) > MAX_OK:
        console.print(
            Text(f"  and {len(ok) - MAX_OK:,} more endpoints that passed every check", "dim")
        )
    for warning in d.run_warnings(report):
        console.print(_hang(console, Text("warning: ", "yellow"), Text(warning, "yellow"), 9))
    console.print(_gate(report, console))


def _header(report: Mapping[str, Any]) -> Text:
    totals = report.get("totals") or {}
    text = Text("shadowtape", "bold")
    for label, value in d.run_targets(report):
        text.append(f" · {label} ", "dim").append(value)
    text.append(" · ", "dim")
    bits = [
        d.plural(int(totals.get("exchanges") or 0), "exchange"),
        f"{int(totals.get('replayed') or 0):,} replayed",
        f"{int(totals.get('skipped') or 0):,} skipped",
    ]
    skipped = report.get("skipped") or {}
    if skipped:
        bits[-1] += " (" + ", ".join(f"{k} {n:,}" for k, n in skipped.items()) + ")"
    bits.append(d.plural(int(totals.get("endpoints") or len(d.endpoints(report))), "endpoint"))
    text.append(", ".join(bits), "dim")
    return text


def _endpoint(ep: Mapping[str, Any], console: Console) -> Text:
    verdict = str(ep.get("verdict") or "")
    style = STYLES.get(verdict, "")
    head = Text()
    if console.is_terminal:
        head.append(SYMBOLS.get(verdict, "  "), style)
    head.append(str(ep.get("endpoint") or ""), "bold")
    head.append(f"  {verdict}", style)
    head.append(f" · {d.plural(int(ep.get('requests') or 0), 'request')}", "dim")
    fs, us = d.findings(ep), d.unverified(ep)
    rows: list[tuple[str, list[Text]]] = []
    if verdict == "ok" and not fs:
        head.append(f" · checked {d.checked_text(ep)}", "dim")
    else:
        flagged = [_finding(f) for f in fs[:MAX_FINDINGS]]
        if len(fs) > MAX_FINDINGS:
            flagged.append(Text(f"and {len(fs) - MAX_FINDINGS:,} more (see report.html)", "dim"))
        rows += [("checked", [Text(d.checked_text(ep))]), ("flagged", flagged or [Text("nothing")])]
    if us or rows:
        rows.append(("could not verify", _unverified(us) or [Text("nothing")]))
    lines = [_hang(console, Text(), head, 4)]
    for label, items in rows:
        for i, item in enumerate(items):
            prefix = Text(f"    {label if i == 0 else '':<{LABEL}}", "dim")
            lines.append(_hang(console, prefix, item, 4 + LABEL))
    return Text("\n").join(lines)


def _unverified(items: list[Mapping[str, Any]]) -> list[Text]:
    """One line per reason, its locations listed: noise on ten fields stays one line."""
    by_reason: dict[str, list[Mapping[str, Any]]] = {}
    for u in items:
        by_reason.setdefault(str(u.get("reason") or ""), []).append(u)
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


def _finding(f: Mapping[str, Any]) -> Text:
    text = Text(d.kind_label(str(f.get("kind"))), "red")
    location = d.finding_location(f)
    if location:
        text.append(" at ").append(location, "bold")
    if "baseline" in f or "candidate" in f:
        text.append(": ").append(d.value_text(f.get("baseline"), 40), "dim")
        text.append(" → ").append(d.value_text(f.get("candidate"), 40))
    text.append(d.count_suffix(f), "dim")
    ids = [str(x) for x in f.get("exchange_ids") or ()]
    if ids:
        text.append(f" e.g. {ids[0]}", "dim")
    return text


def _gate(report: Mapping[str, Any], console: Console) -> Text:
    passed = d.gate_passed(report)
    line = _hang(
        console, Text(), Text(d.gate_line(report), "bold green" if passed else "bold red"), 2
    )
    reasons = [str(r) for r in (report.get("gate") or {}).get("reasons") or ()]
    if passed or not reasons:
        return line
    shown = [_hang(console, Text("  - "), Text(r), 4) for r in reasons[:10]]
    if len(reasons) > 10:
        shown.append(Text(f"  and {len(reasons) - 10:,} more", "dim"))
    return Text("\n").join([line, *shown])
