"""The report's "Side effects" section: the launched builds' outbound calls, per endpoint.

Built from the differ's attribution and per-endpoint call counts (``diff.attribution``,
``diff.sidefx``); the ``side_effect`` findings themselves are the endpoints' (the
builder writes their message). What could not be verified is listed here and under
every format's could-not-verify list: calls no request could be given to
(``unattributed``, per build), calls a mock had no recording for
(``unmatched_dependency_call``, per host:port and route), and a run where the baseline's
and the candidate's calls could not be compared at all.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from string import punctuation

from shadowtape.diff.analyze import Analysis
from shadowtape.diff.attribution import Attribution
from shadowtape.report._describe import plural
from shadowtape.report._unverified import entry
from shadowtape.report.model import (
    DependencyCalls,
    DependencyLog,
    Report,
    SideEffects,
    Unverified,
)

MAX_SHOWN = 50
_ROLES = ("baseline", "candidate", "secondary")


def side_effects(analysis: Analysis) -> SideEffects | None:
    """The section of `analysis`; None when no build was launched with a deps proxy."""
    found = analysis.attribution
    if found is None:
        return None
    ledger: list[DependencyCalls] = []
    for ep in analysis.endpoints.values():
        rows: dict[tuple[str, int | None], dict[str, int]] = {}
        for (call, status, target), n in ep.calls.items():
            rows.setdefault((call, status), {})[target] = n
        for (call, status), per in rows.items():
            calls = {t: per.get(t, 0) for t in _ROLES if t in found.roles}
            ledger.append(DependencyCalls(f"{ep.method} {ep.route}", call, status, calls))
    ledger.sort(key=lambda r: (r.endpoint, r.call, r.status if r.status is not None else -1))
    compared = sum(ep.side_effects_compared for ep in analysis.endpoints.values())
    logs = tuple(
        DependencyLog(
            role=r.role,
            mode=r.mode,
            log=r.log,
            calls=r.calls,
            by_trace=r.by_trace,
            by_time=r.by_time,
            unattributed=sum(r.unattributed.values()),
            outside=r.outside,
        )
        for r in found.roles.values()
    )
    return SideEffects(
        logs=logs, compared=compared, ledger=tuple(ledger), unverified=_unverified(found)
    )


def _unverified(found: Attribution) -> tuple[Unverified, ...]:
    out: list[Unverified] = []
    logged = {role for role, r in found.roles.items() if not r.missing}
    if not {"baseline", "candidate"} <= logged:
        have = " and ".join(sorted(logged)) or "no"
        detail = (
            f"only {have} build(s) had a deps proxy with a calls log, so no request's "
            "outbound calls were compared between baseline and candidate: launch both "
            "(--baseline-cmd and --candidate-cmd)"
        )
        out.append(entry("side_effects_not_compared", "dependencies", 0, detail))
    for role, r in found.roles.items():
        if r.missing:
            detail = f"run.json names the calls log {r.log or '(none)'}, which cannot be read"
            out.append(entry("no_calls_log", role, 0, detail))
        n = sum(r.unattributed.values())
        if n:
            why = ", ".join(f"{why} ({k:,})" for why, k in r.unattributed.most_common())
            detail = (
                f"{plural(n, 'outbound call')} of the {role}'s build could not be given to a "
                f"request ({why}), so their side effects were not compared; services that "
                "propagate W3C trace context are attributed by trace id"
            )
            out.append(entry("unattributed", role, n, detail, of=r.calls))
    per_call: dict[str, Counter[str]] = {}
    for (call, role), n in found.unmatched.items():
        per_call.setdefault(call, Counter())[role] += n
    for call, roles in sorted(per_call.items()):
        on = ", ".join(f"{n:,} on the {role}" for role, n in roles.most_common())
        detail = (
            f"the mock had no recorded call to match ({on}) and answered 502 with "
            "X-Shadowtape-Unmatched: what the build did with a real answer is not known; "
            "record the dependency's calls for these requests"
        )
        out.append(entry("unmatched_dependency_call", call, sum(roles.values()), detail))
    return tuple(out)


def caveats(report: Report) -> tuple[Unverified, ...]:
    """The section's could-not-verify entries (none without the section)."""
    return report.side_effects.unverified if report.side_effects is not None else ()


def _log_text(log: DependencyLog) -> str:
    parts = [f"{log.by_trace:,} by trace id", f"{log.by_time:,} by time"]
    if log.unattributed:
        parts.append(f"{log.unattributed:,} unattributed")
    if log.outside:
        parts.append(f"{log.outside:,} outside the replay")
    return f"{log.role} ({log.mode}): {plural(log.calls, 'call')}, " + ", ".join(parts)


def _row_text(row: DependencyCalls) -> str:
    status = row.status if row.status is not None else "no answer"
    counts = ", ".join(f"{n:,} on the {t}" for t, n in row.calls.items())
    return f"{row.endpoint} → {row.call} ({status}): {counts}"


def lines(report: Report) -> list[str]:
    """The section as plain lines (terminal, JUnit, Markdown)."""
    s = report.side_effects
    if s is None:
        return []
    out = [f"side effects: {plural(s.compared, 'request')} compared baseline vs candidate"]
    out += [f"  {_log_text(log)}" for log in s.logs]
    out += [f"  {_row_text(row)}" for row in s.ledger[:MAX_SHOWN]]
    if len(s.ledger) > MAX_SHOWN:
        out.append(f"  and {len(s.ledger) - MAX_SHOWN:,} more calls: see report.json")
    for u in s.unverified:
        out.append(f"  could not verify {u.location}: {u.reason.replace('_', ' ')} ({u.detail})")
    return out


def markdown(report: Report) -> str:
    s = report.side_effects
    if s is None:
        return ""
    head, *logs = lines(report)[: 1 + len(s.logs)]
    parts = [f"### Side effects\n\n{_md(head)}\n"]
    parts += [f"- {_md(line.strip())}" for line in logs]
    roles = [t for t in _ROLES if any(t in r.calls for r in s.ledger)]
    if s.ledger:
        parts += ["", "| endpoint | call | status | " + " | ".join(roles) + " |"]
        parts.append("|---|---|---:|" + "---:|" * len(roles))
        for row in s.ledger[:MAX_SHOWN]:
            cells = " | ".join(f"{row.calls.get(t, 0):,}" for t in roles)
            status = row.status if row.status is not None else "-"
            parts.append(f"| {_cell(row.endpoint)} | {_cell(row.call)} | {status} | {cells} |")
        if len(s.ledger) > MAX_SHOWN:
            parts.append(f"\nand {len(s.ledger) - MAX_SHOWN:,} more calls: see report.json")
    parts.append("")
    return "\n".join(parts)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _cell(text: str) -> str:
    """Traffic's text in a table cell: code, every punctuation mark an entity (no pipe,
    markup or mention survives)."""
    return "<code>" + "".join(f"&#{ord(c)};" if c in punctuation else c for c in text) + "</code>"


def html(report: Report) -> str:
    s = report.side_effects
    if s is None:
        return ""
    e = escape
    out = [
        '<h2 id="side-effects">Side effects</h2><section class="side-effects">',
        f"<p>{e(lines(report)[0])}</p><ul>",
        *(f"<li>{e(_log_text(log))}</li>" for log in s.logs),
        "</ul>",
    ]
    roles = [t for t in _ROLES if any(t in r.calls for r in s.ledger)]
    if s.ledger:
        out.append(
            "<table><tr><th>endpoint</th><th>call</th><th>status</th>"
            + "".join(f"<th>{e(t)}</th>" for t in roles)
            + "</tr>"
        )
        for row in s.ledger[:MAX_SHOWN]:
            status = str(row.status) if row.status is not None else "no answer"
            out.append(
                f"<tr><td><code>{e(row.endpoint)}</code></td><td><code>{e(row.call)}</code>"
                f"</td><td>{e(status)}</td>"
                + "".join(f"<td>{row.calls.get(t, 0):,}</td>" for t in roles)
                + "</tr>"
            )
        out.append("</table>")
        if len(s.ledger) > MAX_SHOWN:
            out.append(f"<p>and {len(s.ledger) - MAX_SHOWN:,} more calls: see report.json</p>")
    if s.unverified:
        out.append("<h4>could not verify</h4><ul>")
        out += [
            f"<li><code>{e(u.location)}</code>: {e(u.reason.replace('_', ' '))} ({e(u.detail)})"
            "</li>"
            for u in s.unverified
        ]
        out.append("</ul>")
    out.append("</section>")
    return "".join(out)
