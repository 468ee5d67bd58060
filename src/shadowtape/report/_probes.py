"""The probes' section of the report: read from the run folder, gated, rendered.

``shadowtape replay --probe`` writes ``probes/probes.json`` into the run folder
(shadowtape.probe); this module reads it into the report's ``ProbeRun`` types (shards
merged), adds the probes' findings to the gate (``race`` is in the default ``--fail-on``
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
from shadowtape.report.model import GateOutcome, ProbeFinding, ProbeRun, Report

#: Where a run folder holds the probes' summary.
SUMMARY = Path("probes") / "probes.json"
MAX_SHOWN = 20
#: What a finding's two answers (``alone``, ``concurrent``) are, per kind.
_HEADINGS = {
    "race": ("alone", "at once"),
    "duplicate_delivery": ("candidate, first delivery", "candidate, second delivery"),
    "shape": ("baseline", "candidate"),
}


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


def finding_text(f: ProbeFinding) -> str:
    where = f"{f.endpoint} on the {f.target}"
    ids = ", ".join(f.exchange_ids)
    labels = ", ".join(f.exchange_labels or _HEADINGS.get(f.kind, _HEADINGS["race"]))
    return f"{f.kind} · {where}: {f.message}" + (f" [{labels}: {ids}]" if ids else "")


def sent_text(probe: ProbeRun) -> str:
    sent = ", ".join(f"{n:,} to the {role}" for role, n in probe.sent.items()) or "nothing"
    settings = ", ".join(f"{k} {v}" for k, v in probe.settings.items())
    return (
        f"probe {probe.name} ({settings}): {d.plural(probe.endpoints, 'endpoint')} probed, {sent}"
    )


def lines(probe: ProbeRun) -> list[str]:
    """The probe's section as plain lines: what it sent, found, and could not verify."""
    out = [sent_text(probe)]
    out += [f"  {s}" for s in probe.stopped]
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
        if not probe.findings:
            out.append("<p>found nothing</p>")
        for f in probe.findings[:MAX_SHOWN]:
            first, second = _HEADINGS.get(f.kind, _HEADINGS["race"])
            out.append(
                f"<details><summary>{e(finding_text(f))}</summary>"
                f"<p>request <code>{e(f.request.method)} {e(f.request.url)}</code>"
                f" (seed <code>{e(f.seed)}</code>)</p>"
                f"<h4>{first}</h4><pre>{e(_answer(f.alone))}</pre>"
                f"<h4>{second}</h4><pre>{e(_answer(f.concurrent))}</pre></details>"
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


def _answer(response: object) -> str:
    status = getattr(response, "status", None)
    error = getattr(response, "error", None)
    body = getattr(response, "body", None) or ""
    head = error or f"HTTP {status}"
    return f"{head}\n{body[:2000]}"
