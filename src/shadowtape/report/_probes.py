"""The probes' section of the report: read from the run folder, gated, rendered.

``shadowtape replay --probe`` writes ``probes/probes.json`` into the run folder
(shadowtape.probe); this module reads it into the report's ``ProbeRun`` types (shards
merged), adds the probes' findings to the gate (their kinds join the default ``--fail-on``
when a probe ran), and gives each renderer its section: plain lines for the terminal,
JUnit and Markdown, and an HTML block. A race the live baseline shows too is listed as
the baseline's and does not fail the gate. A ``duplicate_delivery`` is gated with the
replay's retries (the default ``--fail-on`` has it already).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from html import escape
from pathlib import Path

import orjson

from shadowtape.report import _describe as d
from shadowtape.report.gate import DEFAULT_FAIL_ON, PROBE_FAIL_ON, probe_reasons
from shadowtape.report.load import load_probe
from shadowtape.report.model import GateOutcome, ProbeFinding, ProbeRound, ProbeRun, Report

#: Where a run folder holds the probes' summary.
SUMMARY = Path("probes") / "probes.json"
MAX_SHOWN = 20


def read_probes(run_dirs: Sequence[Path]) -> tuple[ProbeRun, ...] | None:
    """The probes that ran in ``run_dirs`` (a probe in several shards merged), or None."""
    merged: dict[str, ProbeRun] = {}
    found = False
    for run_dir in run_dirs:
        path = run_dir / SUMMARY
        if not path.is_file():
            continue
        found = True
        data = orjson.loads(path.read_bytes())
        for item in data.get("probes", []) if isinstance(data, dict) else []:
            probe = load_probe(item)
            known = merged.get(probe.name)
            merged[probe.name] = probe if known is None else _merge(known, probe)
    return tuple(merged.values()) if found else None


def _merge(a: ProbeRun, b: ProbeRun) -> ProbeRun:
    sent = dict(a.sent)
    for role, n in b.sent.items():
        sent[role] = sent.get(role, 0) + n
    return dataclasses.replace(
        a,
        targets=tuple(dict.fromkeys((*a.targets, *b.targets))),
        endpoints=a.endpoints + b.endpoints,
        sent=sent,
        findings=a.findings + b.findings,
        unverified=a.unverified + b.unverified,
        stopped=a.stopped + b.stopped,
        rounds=a.rounds + b.rounds,
    )


def with_probes(report: Report, run_dirs: Sequence[Path]) -> Report:
    """``report`` with the probes of ``run_dirs`` and their findings in the gate: a gate
    on the default kinds gains the probes' kinds (``race``) when a probe ran."""
    probes = read_probes(run_dirs)
    if probes is None:
        return report
    words = report.gate.fail_on
    if tuple(words) == DEFAULT_FAIL_ON:
        words = (*words, *PROBE_FAIL_ON)
    reasons = probe_reasons(probes, words)
    gate = GateOutcome(
        passed=report.gate.passed and not reasons,
        fail_on=tuple(words),
        reasons=(*report.gate.reasons, *reasons),
    )
    return dataclasses.replace(report, probes=probes, gate=gate)


#: What a finding's two example answers (``alone``, ``concurrent``) are, by probe.
_ANSWERS = {
    "concurrency": ("alone", "at once"),
    "duplicates": ("candidate, first delivery", "candidate, second delivery"),
    "shapes": ("baseline", "candidate"),
    "scale": ("at the reference size", "at the largest size"),
    "faults": ("baseline under the fault", "candidate under the fault"),
}


def answers(f: ProbeFinding) -> tuple[str, str]:
    """The names of a finding's two example answers (the concurrency probe's by default)."""
    return _ANSWERS.get(f.probe, _ANSWERS["concurrency"])


def finding_text(f: ProbeFinding) -> str:
    where = f"{f.endpoint} on the {f.target}"
    ids = ", ".join(f.exchange_ids)
    labels = ", ".join(f.exchange_labels or answers(f))
    return f"{f.kind} · {where}: {f.message}" + (f" [{labels}: {ids}]" if ids else "")


def sent_text(probe: ProbeRun) -> str:
    sent = ", ".join(f"{n:,} to the {role}" for role, n in probe.sent.items()) or "nothing"
    settings = ", ".join(f"{k} {v}" for k, v in probe.settings.items())
    return (
        f"probe {probe.name} ({settings}): {d.plural(probe.endpoints, 'endpoint')} probed, {sent}"
    )


def round_text(r: ProbeRound) -> str:
    """``GET /items/{id} · 127.0.0.1:8081 503 (GET /stock/1): baseline 503 x3, candidate
    200 x3: swallowed_error``"""
    calls = f" ({r.calls})" if r.calls else ""
    return (
        f"{r.endpoint} · {r.dependency} {r.fault}{calls}: baseline {r.baseline}, "
        f"candidate {r.candidate}: {r.verdict}"
    )


def lines(probe: ProbeRun) -> list[str]:
    """The probe's section as plain lines: what it sent, found, and could not verify."""
    out = [sent_text(probe)]
    out += [f"  {s}" for s in probe.stopped]
    out += [f"  sent: {round_text(r)}" for r in probe.rounds[:MAX_SHOWN]]
    if len(probe.rounds) > MAX_SHOWN:
        out.append(f"  and {len(probe.rounds) - MAX_SHOWN:,} more rounds: see report.json")
    if not probe.findings:
        out.append("  found nothing")
    for f in probe.findings[:MAX_SHOWN]:
        out.append(f"  {finding_text(f)}")
    if len(probe.findings) > MAX_SHOWN:
        out.append(f"  and {len(probe.findings) - MAX_SHOWN:,} more findings: see report.json")
    for u in probe.unverified[:MAX_SHOWN]:
        out.append(f"  could not verify {u.location}: {u.reason.replace('_', ' ')} ({u.detail})")
    if len(probe.unverified) > MAX_SHOWN:
        out.append(f"  and {len(probe.unverified) - MAX_SHOWN:,} more not verified")
    return out


def markdown(report: Report) -> str:
    if not report.probes:
        return ""
    parts = ["### Probes\n"]
    for probe in report.probes:
        head, *rest = lines(probe)
        parts.append(f"**{_md(head)}**\n")
        parts.extend(f"- {_md(line.strip())}" for line in rest)
        parts.append("")
    return "\n".join(parts)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def html(report: Report) -> str:
    if not report.probes:
        return ""
    e = escape
    out = ['<h2 id="probes">Probes</h2>']
    for probe in report.probes:
        out.append(f'<section class="probe"><h3>{e(sent_text(probe))}</h3>')
        out += [f'<p class="warn">{e(s)}</p>' for s in probe.stopped]
        out += _rounds_table(probe)
        if not probe.findings:
            out.append("<p>found nothing</p>")
        for f in probe.findings[:MAX_SHOWN]:
            first, second = answers(f)
            out.append(
                f"<details><summary>{e(finding_text(f))}</summary>"
                f"<p>request <code>{e(f.request.method)} {e(f.request.url)}</code>"
                f" (seed <code>{e(f.seed)}</code>)</p>"
                f"<h4>{e(first)}</h4><pre>{e(_answer(f.alone))}</pre>"
                f"<h4>{e(second)}</h4><pre>{e(_answer(f.concurrent))}</pre></details>"
            )
        if probe.unverified:
            out.append("<h4>could not verify</h4><ul>")
            out += [
                f"<li><code>{e(u.location)}</code>: {e(u.reason.replace('_', ' '))}"
                f" ({e(u.detail)})</li>"
                for u in probe.unverified[:MAX_SHOWN]
            ]
            out.append("</ul>")
        out.append("</section>")
    return "".join(out)


def _rounds_table(probe: ProbeRun) -> list[str]:
    if not probe.rounds:
        return []
    head = "".join(
        f"<th>{h}</th>" for h in ("endpoint", "dependency", "fault", "baseline", "candidate", "")
    )
    rows = [
        f"<tr><td><code>{escape(r.endpoint)}</code></td><td><code>{escape(r.dependency)}"
        f"</code> {escape(r.calls)}</td><td>{escape(r.fault)}</td><td>{escape(r.baseline)}</td>"
        f"<td>{escape(r.candidate)}</td><td>{escape(r.verdict)}</td></tr>"
        for r in probe.rounds
    ]
    return ["<table><thead><tr>", head, "</tr></thead><tbody>", *rows, "</tbody></table>"]


def _answer(response: object) -> str:
    status = getattr(response, "status", None)
    error = getattr(response, "error", None)
    body = getattr(response, "body", None) or ""
    head = error or f"HTTP {status}"
    return f"{head}\n{body[:2000]}"
