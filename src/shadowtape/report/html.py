"""report.html: one self-contained page a reviewer can open from CI artifacts or e-mail.

Summary first (gate, the ledger, the three lists), then an endpoint table with a filter
box, then one collapsible section per endpoint (every regression open): its ledger,
findings each with an example inline and the ``shadowtape show`` command for the rest,
the caveats (what was set aside and why), latency with a histogram, and side-by-side
diffs of example exchanges.

Nothing is fetched: CSS, script and charts are inline, and a Content-Security-Policy
allows only this page's own style and script (by hash), so even a body that slipped
past escaping could neither run code nor reach the network.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path

from shadowtape.report import _describe as d
from shadowtape.report import _probes, _sidefx
from shadowtape.report._charts import histogram_svg
from shadowtape.report._html_diff import example_html
from shadowtape.report._inline_example import inline_example
from shadowtape.report.model import Endpoint, Example, Finding, Ratio, Report, Unverified

FILENAME = "report.html"
MAX_EXAMPLES = 3
SHOWN = 10
#: Regressions shown open; beyond this many the page says how many more are collapsed.
OPEN_REGRESSIONS = 50


def e(value: object) -> str:
    return escape(str(value), quote=True)


def render(report: Report, out_dir: Path) -> Path:
    """Write report.html into out_dir and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILENAME
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page(report), encoding="utf-8", errors="replace")
    tmp.replace(path)
    return path


def page(report: Report) -> str:
    css, js = _asset("_report.css"), _asset("_report.js")
    csp = (
        "default-src 'none'; "
        f"style-src {_hash(css)}; script-src {_hash(js)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    eps = report.endpoints
    title = f"shadowtape: {'passed' if report.gate.passed else 'FAILED'}"
    body = [
        _header(report),
        _gate(report),
        _totals(report),
        *(f'<p class="warn">{e(w)}</p>' for w in d.run_warnings(report)),
        _service(report),
        _three_lists(report, eps),
        _probes.html(report),
        _sidefx.html(report),
        _settings(report),
        _overview(eps),
        '<h2 id="endpoints">Endpoints</h2>',
        _collapsed_note(eps),
        *(
            _endpoint(
                ep,
                i,
                open_=_opens(ep, i),
                ci=_confidence(report),
                shared=d.service_refs(report, ep),
            )
            for i, ep in enumerate(eps)
        ),
        _footer(report),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{e(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{e(title)}</title><style>{css}</style></head>"
        f"<body><main>{''.join(body)}</main><script>{js}</script></body></html>\n"
    )


@cache
def _asset(name: str) -> str:
    return resources.files("shadowtape.report").joinpath(name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def _anchor(i: int) -> str:
    return f"ep-{i}"


def _opens(ep: Endpoint, i: int) -> bool:
    return ep.verdict == "regression" and i < OPEN_REGRESSIONS


def _collapsed_note(eps: Sequence[Endpoint]) -> str:
    """Regressions are listed first; say how many of them are not open."""
    more = sum(ep.verdict == "regression" for i, ep in enumerate(eps) if not _opens(ep, i))
    if not more:
        return ""
    return (
        f'<p class="warn" id="collapsed">{d.plural(more, "more regression")}, collapsed: '
        "open them with “expand all”.</p>"
    )


def _header(report: Report) -> str:
    ids = list(dict.fromkeys(r.run_id for r in report.runs if r.run_id))
    targets = " · ".join(f"{label} <code>{e(v)}</code>" for label, v in d.run_targets(report))
    meta = f"generated {e(report.generated_at)}"
    if ids:
        meta += f" · {'runs' if len(ids) > 1 else 'run'} <code>{e(', '.join(ids))}</code>"
    shards = sum(1 for r in report.runs if r.shard)
    if shards:
        meta += f" ({d.plural(shards, 'shard')})"
    return (
        '<div class="top"><h1>shadowtape replay report</h1>'
        f'<span class="muted">{meta}</span></div>'
        + (f'<p class="targets">{targets}</p>' if targets else "")
    )


def _gate(report: Report) -> str:
    passed = report.gate.passed
    reasons = [f"<li>{e(r)}</li>" for r in report.gate.reasons]
    fail_on = ", ".join(report.gate.fail_on)
    return (
        f'<section class="gate {"passed" if passed else "failed"}" id="gate">'
        f"<strong>{e(d.gate_line(report))}</strong>"
        + _list_with_more(reasons, SHOWN)
        + (f'<div class="fail-on">fails on: {e(fail_on)}</div>' if fail_on else "")
        + "</section>"
    )


_TONES = {"regressed": "tone-bad", "equal": "tone-good", "unverified": "tone-warn"}


def _totals(report: Report) -> str:
    t = report.totals
    cards: list[tuple[int, str, str]]
    if report.ledger is not None:
        cards = [(report.ledger.selected, "exchanges", "")]
        cards += [(n, w, _TONES.get(w, "")) for w, n, _ in d.ledger_counts(report.ledger)]
    else:
        cards = [(t.exchanges, "exchanges", ""), (t.replayed, "replayed", "")]
        cards.append((t.skipped, "skipped", ""))
    cards += [
        (t.endpoints, "endpoints", ""),
        (t.regression, "with regressions", "tone-bad"),
        (t.findings, "findings", "tone-bad"),
    ]
    html = ['<section class="cards" id="ledger">']
    for value, label, tone in cards:
        tone_cls = tone if tone and value else ""
        n = f"{value:,}"
        html.append(
            f'<div class="card {tone_cls}" data-bucket="{e(label)}"><div class="n">{n}</div>'
            f'<div class="l">{e(label)}</div></div>'
        )
    html.append("</section>")
    reasons = (
        [f"{w}: {why}" for w, _, why in d.ledger_counts(report.ledger) if why]
        if report.ledger
        else []
    )
    if reasons:
        html.append(f'<p class="muted">{e("; ".join(reasons))}.</p>')
    skipped = report.skipped
    if skipped:
        text = ", ".join(f"{d.plural(n, 'request')} {k}" for k, n in skipped.items())
        html.append(f'<p class="muted">Not replayed: {e(text)}.</p>')
    return "".join(html)


def _three_lists(report: Report, eps: Sequence[Endpoint]) -> str:
    checked: dict[str, int] = {}
    for ep in eps:
        for aspect in ep.checked:
            checked[aspect] = checked.get(aspect, 0) + 1
    checked_items = [
        f"<li><b>{e(k)}</b> on {d.plural(n, 'endpoint')}</li>" for k, n in checked.items()
    ]
    ok = [i for i, ep in enumerate(eps) if ep.verdict == "ok"]
    checked_items.append(f"<li>{d.plural(len(ok), 'endpoint')} passed every check</li>")

    flagged = []
    for i, ep in enumerate(eps):
        fs = ep.findings
        if not fs:
            continue
        kinds: dict[str, int] = {}
        for f in fs:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
        chips = "".join(
            f'<span class="chip">{e(d.kind_label(k))}{f" {d.TIMES}{n}" if n > 1 else ""}</span>'
            for k, n in kinds.items()
        )
        flagged.append(
            f'<li><a href="#{_anchor(i)}"><code>{e(ep.endpoint)}</code></a> {chips}</li>'
        )

    by_reason: dict[str, list[str]] = {}
    for i, ep in enumerate(eps):
        for u in ep.unverified:
            loc = d.shown_location(u)
            link = f'<a href="#{_anchor(i)}"><code>{e(ep.endpoint)}</code></a>'
            by_reason.setdefault(u.reason, []).append(
                link + (f" <code>{e(loc)}</code>" if loc else "")
            )
    unverified = []
    for reason, where in by_reason.items():
        inner = _list_with_more([f"<li>{w}</li>" for w in where], 5)
        unverified.append(f"<li><b>{e(d.reason_label(reason))}</b> ({len(where):,}){inner}</li>")
    if report.redactions:
        where = [f"<li>{e(d.unverified_text(r))}</li>" for r in report.redactions]
        unverified.append(
            f"<li><b>redacted in requests</b>, over the whole run ({len(where):,})"
            f"{_list_with_more(where, 5)}</li>"
        )
    deps = [f"<li>{e(d.unverified_text(u))}: {e(u.detail)}</li>" for u in _sidefx.caveats(report)]
    if deps:
        unverified.append(
            f'<li><b>outbound calls</b> (<a href="#side-effects">side effects</a>, '
            f"{len(deps):,}){_list_with_more(deps, 5)}</li>"
        )
    n_unverified = sum(len(w) for w in by_reason.values()) + len(report.redactions) + len(deps)
    return (
        '<h2>Summary</h2><section class="lists">'
        '<div class="panel"><h3>Checked</h3><ul>' + "".join(checked_items) + "</ul></div>"
        f'<div class="panel"><h3>Flagged ({d.plural(len(flagged), "endpoint")})</h3>'
        + (_list_with_more(flagged, SHOWN) if flagged else '<p class="empty-note">Nothing.</p>')
        + "</div>"
        f'<div class="panel" id="caveats"><h3>Caveats ({n_unverified:,})</h3>'
        + (
            f"<ul>{''.join(unverified)}</ul>"
            if unverified
            else '<p class="empty-note">Nothing.</p>'
        )
        + "</div></section>"
    )


def _list_with_more(items: Sequence[str], shown: int) -> str:
    """The first items as a list, the rest (all of them) in a collapsed list below."""
    if not items:
        return ""
    html = f"<ul>{''.join(items[:shown])}</ul>"
    if len(items) > shown:
        html += (
            f'<details class="more"><summary>and {len(items) - shown:,} more</summary>'
            f"<ul>{''.join(items[shown:])}</ul></details>"
        )
    return html


def _search_text(ep: Endpoint) -> str:
    bits = [ep.endpoint, ep.verdict]
    for f in ep.findings:
        bits += [f.kind, f.location]
    for u in ep.unverified:
        bits += [u.reason, u.location]
    return " ".join(bits).lower()


def _overview(eps: Sequence[Endpoint]) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" data-verdict="{v}" checked> {v}</label>' for v in d.VERDICTS
    )
    rows = []
    for i, ep in enumerate(eps):
        verdict = ep.verdict
        lat = ep.latency
        ratio = (lat.ratio or {}) if lat is not None and lat.comparable else {}
        rows.append(
            f'<tr data-ep data-verdict="{e(verdict)}" data-text="{e(_search_text(ep))}">'
            f'<td><span class="badge {e(verdict)}">{e(verdict)}</span></td>'
            f'<td class="ep"><a href="#{_anchor(i)}"><code>{e(ep.endpoint)}</code></a></td>'
            f'<td class="num">{_int(ep.requests)}</td>'
            f'<td class="num">{len(ep.findings):,}</td>'
            f'<td class="num">{_int(ep.ledger.unverified_total if ep.ledger else None)}</td>'
            f"{_ratio_cell(ep, ratio, 'p50')}{_ratio_cell(ep, ratio, 'p95')}</tr>"
        )
    return (
        '<div class="tools"><input type="search" id="filter" '
        'placeholder="Filter endpoints, finding kinds, locations… (press /)" '
        f'aria-label="Filter endpoints">{boxes}<span class="muted" id="shown"></span>'
        '<button type="button" data-open="1">expand all</button>'
        '<button type="button" data-open="0">collapse all</button></div>'
        '<div class="overview"><table><thead><tr><th>verdict</th><th>endpoint</th>'
        '<th class="num">requests</th><th class="num">findings</th>'
        '<th class="num">unverified</th><th class="num">p50 ratio</th>'
        '<th class="num">p95 ratio</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _requests(ep: Endpoint) -> str:
    text = d.plural(ep.requests, "request")
    if ep.compared is not None and ep.compared != ep.requests:
        text += f", {ep.compared:,} compared"
    return text


def _ratio_cell(ep: Endpoint, ratio: Mapping[str, Ratio], pct: str) -> str:
    flagged = any(f.kind == "latency" and f.location == f"latency:{pct}" for f in ep.findings)
    text = d.ratio_text(ratio.get(pct)) if ratio else d.DASH
    return f'<td class="num{" bad" if flagged else ""}">{e(text)}</td>'


def _int(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else d.DASH


def _service(report: Report) -> str:
    """Changes seen on most endpoints, each once, with the endpoints they cover."""
    shared = report.service_findings
    if not shared:
        return ""
    rows = [
        f'<tr id="{e(f.id)}"><td><code>{e(f.id)}</code></td><td>{e(d.kind_label(f.kind))}</td>'
        f'<td class="loc"><code>{e(f.location)}</code></td><td>{e(f.message)}</td>'
        f'<td class="val"><code>{e(d.value_text(f.baseline, 200))}</code></td>'
        f'<td class="val"><code>{e(d.value_text(f.candidate, 200))}</code></td>'
        f'<td class="num">{_int(f.count)}</td>'
        f"<td>{e(', '.join(f.endpoints))}</td></tr>"
        for f in shared
    ]
    return (
        f"<h2>Service-wide ({len(shared):,})</h2>"
        '<table class="findings"><thead><tr><th>id</th><th>kind</th><th>location</th>'
        '<th>what</th><th>baseline</th><th>candidate</th><th class="num">count</th>'
        "<th>endpoints</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _endpoint(ep: Endpoint, i: int, *, open_: bool, ci: str, shared: Sequence[str] = ()) -> str:
    verdict = ep.verdict
    fs, us = ep.findings, ep.unverified
    counts = []
    if fs:
        counts.append(d.plural(len(fs), "finding"))
    if us:
        counts.append(d.plural(len(us), "caveat"))
    summary = (
        f'<summary><span class="badge {e(verdict)}">{e(verdict)}</span>'
        f"<code>{e(ep.endpoint)}</code>"
        f'<span class="muted">{_requests(ep)}'
        f"{' · ' + ', '.join(counts) if counts else ''}</span></summary>"
    )
    flagged = ", ".join([*shared, *(d.kind_label(f.kind) for f in fs)]) or "nothing"
    could_not = ", ".join(d.unverified_text(u) for u in us) or "none"
    ledger = d.ledger_text(ep.ledger) if ep.ledger is not None else _requests(ep)
    three = (
        '<dl class="three">'
        f'<dt>exchanges</dt><dd class="ledger">{e(ledger)}</dd>'
        f"<dt>checked</dt><dd>{e(d.checked_text(ep))}</dd>"
        f"<dt>flagged</dt><dd>{e(flagged)}</dd>"
        f"<dt>caveats</dt><dd>{e(could_not)}</dd></dl>"
    )
    examples = ep.examples[:MAX_EXAMPLES]
    ex_anchor = {x.exchange_id: f"{_anchor(i)}-ex-{k}" for k, x in enumerate(examples)}
    table = _findings_table(fs, ex_anchor, {x.exchange_id: x for x in ep.examples})
    parts = [three, table, _unverified_table(us), _latency(ep, ci)]
    if examples:
        parts.append(f"<h3>Example exchanges ({len(examples)})</h3>")
        parts += [example_html(x, fs, ex_anchor[x.exchange_id]) for x in examples]
    return (
        f'<details class="endpoint {e(verdict)}" id="{_anchor(i)}" data-ep '
        f'data-verdict="{e(verdict)}" data-text="{e(_search_text(ep))}"{" open" if open_ else ""}>'
        f'{summary}<div class="body">{"".join(parts)}</div></details>'
    )


def _findings_table(
    fs: Sequence[Finding], ex_anchor: Mapping[str, str], examples: Mapping[str, Example]
) -> str:
    if not fs:
        return ""
    rows = []
    for f in fs:
        ids = f.exchange_ids
        links = ", ".join(
            f'<a href="#{ex_anchor[x]}"><code>{e(x)}</code></a>'
            if x in ex_anchor
            else f"<code>{e(x)}</code>"
            for x in ids[:3]
        ) + (f" +{len(ids) - 3}" if len(ids) > 3 else "")
        rows.append(
            f"<tr><td>{e(d.kind_label(f.kind))}</td>"
            f'<td class="loc"><code>{e(f.location)}</code></td>'
            f"<td>{e(f.message)}</td>"
            f'<td class="val"><code>{e(d.finding_value(f, f.baseline, 200))}</code></td>'
            f'<td class="val"><code>{e(d.finding_value(f, f.candidate, 200))}</code></td>'
            f'<td class="num">{_int(f.count)}</td>'
            f'<td class="num">{e(d.rate_text(f))}</td><td>{links}</td></tr>'
            + inline_example(f, examples)
        )
    return (
        '<h3>Flagged</h3><table class="findings"><thead><tr><th>kind</th><th>location</th>'
        '<th>what</th><th>baseline</th><th>candidate</th><th class="num">count</th>'
        '<th class="num">rate</th><th>examples</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )


def _unverified_table(us: Sequence[Unverified]) -> str:
    if not us:
        return ""
    rows = "".join(
        f"<tr><td>{e(d.reason_label(u.reason))}</td>"
        f'<td class="loc"><code>{e(u.location)}</code></td>'
        f'<td class="num">{_int(u.count)}</td>'
        f'<td class="num">{e(d.percent(u.rate))}</td>'
        f"<td>{e(u.detail)}</td></tr>"
        for u in us
    )
    return (
        '<h3>Caveats</h3><table class="unv"><thead><tr><th>reason</th><th>location</th>'
        '<th class="num">count</th><th class="num">rate</th><th>why</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _latency(ep: Endpoint, ci: str) -> str:
    lat = ep.latency
    if lat is None:
        return ""
    comparable = lat.comparable
    base, cand = lat.baseline, lat.candidate
    ratio = lat.ratio or {}
    if not base and not cand and lat.histogram is None:
        return '<h3>Latency</h3><p class="muted">Not measured.</p>'
    rows = "".join(
        f'<tr><th>{p}</th><td class="num">{e(d.ms(base.get(p)))}</td>'
        f'<td class="num">{e(d.ms(cand.get(p)))}</td>'
        + (f'<td class="num">{e(d.ratio_text(ratio.get(p)))}</td>' if comparable else "")
        + "</tr>"
        for p in ("p50", "p95", "p99")
    )
    ratio_head = f'<th class="num">ratio ({e(ci)})</th>' if comparable else ""
    pairs = lat.pairs
    table = (
        '<div><table class="pct"><thead><tr><th></th><th class="num">baseline</th>'
        f'<th class="num">candidate</th>{ratio_head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        + (
            f'<p class="muted">{d.plural(pairs, "paired request")}.</p>'
            if pairs is not None
            else ""
        )
        + (
            ""
            if comparable
            else '<p class="muted">Shown, not compared: these latencies were not measured '
            "under the same conditions (see caveats).</p>"
        )
        + "</div>"
    )
    svg = histogram_svg(lat, f"Latency histogram for {ep.endpoint}")
    legend = (
        '<div class="legend"><span class="sw baseline"></span>baseline'
        '<span class="sw candidate"></span>candidate</div>'
    )
    chart = f"<div>{legend}{svg}</div>" if svg else "<div></div>"
    return f'<h3>Latency</h3><div class="lat">{table}{chart}</div>'


def _settings(report: Report) -> str:
    """What the analysis was told to ignore or tolerate: part of being honest."""
    if report.settings is None:
        return ""
    rows = "".join(
        f"<tr><th>{e(k)}</th><td><code>{e(_json(v))}</code></td></tr>"
        for k, v in report.settings.to_json().items()
    )
    return (
        '<details class="settings"><summary>Analysis settings (ignored headers, tolerances, '
        f'thresholds)</summary><table class="meta"><tbody>{rows}</tbody></table></details>'
    )


def _json(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return d.value_text(value, 10_000)


def _confidence(report: Report) -> str:
    level = None if report.settings is None else report.settings.latency.confidence
    return f"{level:.0%} CI" if level is not None and 0 < level < 1 else "CI"


def _footer(report: Report) -> str:
    version = e(report.report_version or "?")
    return (
        f"<footer>report format {version} · the full data is in report.json beside this file"
        "</footer>"
    )
