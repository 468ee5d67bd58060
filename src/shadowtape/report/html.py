"""report.html: one self-contained page a reviewer can open from CI artifacts or e-mail.

Summary first (gate, totals, the three lists), then an endpoint table with a filter box,
then one collapsible section per endpoint: findings, what could not be verified,
latency with a histogram, and side-by-side diffs of example exchanges.

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
from typing import Any

from shadowtape.report import _describe as d
from shadowtape.report._charts import histogram_svg
from shadowtape.report._html_diff import example_html

FILENAME = "report.html"
MAX_EXAMPLES = 3
SHOWN = 10
OPEN_REGRESSIONS = 5


def e(value: Any) -> str:
    return escape(str(value), quote=True)


def render(report: Mapping[str, Any], out_dir: Path) -> Path:
    """Write report.html into out_dir and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILENAME
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page(report), encoding="utf-8", errors="replace")
    tmp.replace(path)
    return path


def page(report: Mapping[str, Any]) -> str:
    css, js = _asset("_report.css"), _asset("_report.js")
    csp = (
        "default-src 'none'; "
        f"style-src {_hash(css)}; script-src {_hash(js)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    eps = d.endpoints(report)
    title = f"shadowtape: {'passed' if d.gate_passed(report) else 'FAILED'}"
    body = [
        _header(report),
        _gate(report),
        _totals(report),
        *(f'<p class="warn">{e(w)}</p>' for w in d.run_warnings(report)),
        _three_lists(report, eps),
        _settings(report),
        _overview(eps),
        '<h2 id="endpoints">Endpoints</h2>',
        *(
            _endpoint(ep, i, open_=_opens(ep, i), ci=_confidence(report))
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


def _opens(ep: Mapping[str, Any], i: int) -> bool:
    return ep.get("verdict") == "regression" and i < OPEN_REGRESSIONS


def _header(report: Mapping[str, Any]) -> str:
    runs = [r for r in report.get("runs") or () if isinstance(r, Mapping)]
    ids = list(dict.fromkeys(str(r.get("run_id")) for r in runs if r.get("run_id")))
    targets = " · ".join(f"{label} <code>{e(v)}</code>" for label, v in d.run_targets(report))
    meta = f"generated {e(report.get('generated_at') or '')}"
    if ids:
        meta += f" · {'runs' if len(ids) > 1 else 'run'} <code>{e(', '.join(ids))}</code>"
    shards = sum(1 for r in runs if r.get("shard"))
    if shards:
        meta += f" ({d.plural(shards, 'shard')})"
    return (
        '<div class="top"><h1>shadowtape replay report</h1>'
        f'<span class="muted">{meta}</span></div>'
        + (f'<p class="targets">{targets}</p>' if targets else "")
    )


def _gate(report: Mapping[str, Any]) -> str:
    gate = report.get("gate") or {}
    passed = d.gate_passed(report)
    reasons = [f"<li>{e(r)}</li>" for r in gate.get("reasons") or ()]
    fail_on = ", ".join(str(x) for x in gate.get("fail_on") or ())
    return (
        f'<section class="gate {"passed" if passed else "failed"}" id="gate">'
        f"<strong>{e(d.gate_line(report))}</strong>"
        + _list_with_more(reasons, SHOWN)
        + (f'<div class="fail-on">fails on: {e(fail_on)}</div>' if fail_on else "")
        + "</section>"
    )


def _totals(report: Mapping[str, Any]) -> str:
    totals = report.get("totals") or {}
    cards = [
        ("exchanges", "exchanges", ""),
        ("replayed", "replayed", ""),
        ("skipped", "skipped", ""),
        ("endpoints", "endpoints", ""),
        ("regression", "with regressions", "tone-bad"),
        ("unverified", "unverified", "tone-warn"),
        ("ok", "ok", "tone-good"),
        ("findings", "findings", "tone-bad"),
    ]
    html = ['<section class="cards">']
    for key, label, tone in cards:
        value = totals.get(key)
        tone_cls = tone if tone and value else ""
        n = f"{value:,}" if isinstance(value, int) else d.DASH
        html.append(
            f'<div class="card {tone_cls}"><div class="n">{n}</div>'
            f'<div class="l">{label}</div></div>'
        )
    html.append("</section>")
    skipped = report.get("skipped") or {}
    if skipped:
        text = ", ".join(f"{d.plural(int(n), 'request')} {k}" for k, n in skipped.items())
        html.append(f'<p class="muted">Not replayed: {e(text)}.</p>')
    return "".join(html)


def _three_lists(report: Mapping[str, Any], eps: Sequence[Mapping[str, Any]]) -> str:
    checked: dict[str, int] = {}
    for ep in eps:
        for aspect in ep.get("checked") or ():
            checked[str(aspect)] = checked.get(str(aspect), 0) + 1
    checked_items = [
        f"<li><b>{e(k)}</b> on {d.plural(n, 'endpoint')}</li>" for k, n in checked.items()
    ]
    ok = [i for i, ep in enumerate(eps) if ep.get("verdict") == "ok"]
    checked_items.append(f"<li>{d.plural(len(ok), 'endpoint')} passed every check</li>")

    flagged = []
    for i, ep in enumerate(eps):
        fs = d.findings(ep)
        if not fs:
            continue
        kinds: dict[str, int] = {}
        for f in fs:
            kinds[str(f.get("kind"))] = kinds.get(str(f.get("kind")), 0) + 1
        chips = "".join(
            f'<span class="chip">{e(d.kind_label(k))}{f" {d.TIMES}{n}" if n > 1 else ""}</span>'
            for k, n in kinds.items()
        )
        flagged.append(
            f'<li><a href="#{_anchor(i)}"><code>{e(ep.get("endpoint"))}</code></a> {chips}</li>'
        )

    by_reason: dict[str, list[str]] = {}
    for i, ep in enumerate(eps):
        for u in d.unverified(ep):
            loc = d.shown_location(u)
            link = f'<a href="#{_anchor(i)}"><code>{e(ep.get("endpoint"))}</code></a>'
            by_reason.setdefault(str(u.get("reason")), []).append(
                link + (f" <code>{e(loc)}</code>" if loc else "")
            )
    unverified = []
    for reason, where in by_reason.items():
        inner = _list_with_more([f"<li>{w}</li>" for w in where], 5)
        unverified.append(f"<li><b>{e(d.reason_label(reason))}</b> ({len(where):,}){inner}</li>")
    n_unverified = sum(len(w) for w in by_reason.values())
    return (
        '<h2>Summary</h2><section class="lists">'
        '<div class="panel"><h3>Checked</h3><ul>' + "".join(checked_items) + "</ul></div>"
        f'<div class="panel"><h3>Flagged ({len(flagged):,} endpoints)</h3>'
        + (_list_with_more(flagged, SHOWN) if flagged else '<p class="empty-note">Nothing.</p>')
        + "</div>"
        f'<div class="panel"><h3>Could not verify ({n_unverified:,})</h3>'
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


def _search_text(ep: Mapping[str, Any]) -> str:
    bits = [str(ep.get("endpoint") or ""), str(ep.get("verdict") or "")]
    for f in d.findings(ep):
        bits += [str(f.get("kind") or ""), str(f.get("location") or "")]
    for u in d.unverified(ep):
        bits += [str(u.get("reason") or ""), str(u.get("location") or "")]
    return " ".join(bits).lower()


def _overview(eps: Sequence[Mapping[str, Any]]) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" data-verdict="{v}" checked> {v}</label>' for v in d.VERDICTS
    )
    rows = []
    for i, ep in enumerate(eps):
        verdict = str(ep.get("verdict") or "")
        lat = ep.get("latency") or {}
        ratio = lat.get("ratio") or {} if lat.get("comparable") else {}
        rows.append(
            f'<tr data-ep data-verdict="{e(verdict)}" data-text="{e(_search_text(ep))}">'
            f'<td><span class="badge {e(verdict)}">{e(verdict)}</span></td>'
            f'<td class="ep"><a href="#{_anchor(i)}"><code>{e(ep.get("endpoint"))}</code></a></td>'
            f'<td class="num">{_int(ep.get("requests"))}</td>'
            f'<td class="num">{len(d.findings(ep)):,}</td>'
            f'<td class="num">{len(d.unverified(ep)):,}</td>'
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


def _requests(ep: Mapping[str, Any]) -> str:
    text = d.plural(int(ep.get("requests") or 0), "request")
    compared = ep.get("compared")
    if isinstance(compared, int) and compared != ep.get("requests"):
        text += f", {compared:,} compared"
    return text


def _ratio_cell(ep: Mapping[str, Any], ratio: Mapping[str, Any], pct: str) -> str:
    flagged = any(
        f.get("kind") == "latency" and f.get("location") == f"latency:{pct}" for f in d.findings(ep)
    )
    text = d.ratio_text(ratio.get(pct)) if ratio else d.DASH
    return f'<td class="num{" bad" if flagged else ""}">{e(text)}</td>'


def _int(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else d.DASH


def _endpoint(ep: Mapping[str, Any], i: int, *, open_: bool, ci: str) -> str:
    verdict = str(ep.get("verdict") or "")
    fs, us = d.findings(ep), d.unverified(ep)
    counts = []
    if fs:
        counts.append(d.plural(len(fs), "finding"))
    if us:
        counts.append(f"{len(us):,} unverified")
    summary = (
        f'<summary><span class="badge {e(verdict)}">{e(verdict)}</span>'
        f"<code>{e(ep.get('endpoint'))}</code>"
        f'<span class="muted">{_requests(ep)}'
        f"{' · ' + ', '.join(counts) if counts else ''}</span></summary>"
    )
    flagged = ", ".join(d.kind_label(str(f.get("kind"))) for f in fs) or "nothing"
    could_not = ", ".join(d.unverified_text(u) for u in us) or "nothing"
    three = (
        '<dl class="three">'
        f"<dt>checked</dt><dd>{e(d.checked_text(ep))}</dd>"
        f"<dt>flagged</dt><dd>{e(flagged)}</dd>"
        f"<dt>could not verify</dt><dd>{e(could_not)}</dd></dl>"
    )
    examples = [x for x in ep.get("examples") or () if isinstance(x, Mapping)][:MAX_EXAMPLES]
    ex_anchor = {str(x.get("exchange_id")): f"{_anchor(i)}-ex-{k}" for k, x in enumerate(examples)}
    parts = [three, _findings_table(fs, ex_anchor), _unverified_table(us), _latency(ep, ci)]
    if examples:
        parts.append(f"<h3>Example exchanges ({len(examples)})</h3>")
        parts += [example_html(x, fs, ex_anchor[str(x.get("exchange_id"))]) for x in examples]
    return (
        f'<details class="endpoint {e(verdict)}" id="{_anchor(i)}" data-ep '
        f'data-verdict="{e(verdict)}" data-text="{e(_search_text(ep))}"{" open" if open_ else ""}>'
        f'{summary}<div class="body">{"".join(parts)}</div></details>'
    )


def _findings_table(fs: Sequence[Mapping[str, Any]], ex_anchor: Mapping[str, str]) -> str:
    if not fs:
        return ""
    rows = []
    for f in fs:
        ids = [str(x) for x in f.get("exchange_ids") or ()]
        links = ", ".join(
            f'<a href="#{ex_anchor[x]}"><code>{e(x)}</code></a>'
            if x in ex_anchor
            else f"<code>{e(x)}</code>"
            for x in ids[:3]
        ) + (f" +{len(ids) - 3}" if len(ids) > 3 else "")
        rows.append(
            f"<tr><td>{e(d.kind_label(str(f.get('kind'))))}</td>"
            f'<td class="loc"><code>{e(f.get("location") or "")}</code></td>'
            f"<td>{e(f.get('message') or '')}</td>"
            f'<td class="val"><code>{e(d.value_text(f.get("baseline"), 200))}</code></td>'
            f'<td class="val"><code>{e(d.value_text(f.get("candidate"), 200))}</code></td>'
            f'<td class="num">{_int(f.get("count"))}</td>'
            f'<td class="num">{e(d.rate_text(f))}</td><td>{links}</td></tr>'
        )
    return (
        '<h3>Flagged</h3><table class="findings"><thead><tr><th>kind</th><th>location</th>'
        '<th>what</th><th>baseline</th><th>candidate</th><th class="num">count</th>'
        '<th class="num">rate</th><th>examples</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )


def _unverified_table(us: Sequence[Mapping[str, Any]]) -> str:
    if not us:
        return ""
    rows = "".join(
        f"<tr><td>{e(d.reason_label(str(u.get('reason'))))}</td>"
        f'<td class="loc"><code>{e(u.get("location") or "")}</code></td>'
        f'<td class="num">{_int(u.get("count"))}</td>'
        f'<td class="num">{e(d.percent(u.get("rate")))}</td>'
        f"<td>{e(u.get('detail') or '')}</td></tr>"
        for u in us
    )
    return (
        '<h3>Could not verify</h3><table class="unv"><thead><tr><th>reason</th><th>location</th>'
        '<th class="num">count</th><th class="num">rate</th><th>why</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _latency(ep: Mapping[str, Any], ci: str) -> str:
    lat = ep.get("latency")
    if not isinstance(lat, Mapping):
        return ""
    comparable = bool(lat.get("comparable"))
    base, cand = lat.get("baseline") or {}, lat.get("candidate") or {}
    ratio = lat.get("ratio") or {}
    if not base and not cand and not lat.get("histogram"):
        return '<h3>Latency</h3><p class="muted">Not measured.</p>'
    rows = "".join(
        f'<tr><th>{p}</th><td class="num">{e(d.ms(base.get(p)))}</td>'
        f'<td class="num">{e(d.ms(cand.get(p)))}</td>'
        + (f'<td class="num">{e(d.ratio_text(ratio.get(p)))}</td>' if comparable else "")
        + "</tr>"
        for p in ("p50", "p95", "p99")
    )
    ratio_head = f'<th class="num">ratio ({e(ci)})</th>' if comparable else ""
    pairs = lat.get("pairs")
    table = (
        '<div><table class="pct"><thead><tr><th></th><th class="num">baseline</th>'
        f'<th class="num">candidate</th>{ratio_head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        + (
            f'<p class="muted">{d.plural(pairs, "paired request")}.</p>'
            if isinstance(pairs, int)
            else ""
        )
        + (
            ""
            if comparable
            else '<p class="muted">Shown, not compared: these latencies were not measured '
            "under the same conditions (see could not verify).</p>"
        )
        + "</div>"
    )
    svg = histogram_svg(lat, f"Latency histogram for {ep.get('endpoint')}")
    legend = (
        '<div class="legend"><span class="sw baseline"></span>baseline'
        '<span class="sw candidate"></span>candidate</div>'
    )
    chart = f"<div>{legend}{svg}</div>" if svg else "<div></div>"
    return f'<h3>Latency</h3><div class="lat">{table}{chart}</div>'


def _settings(report: Mapping[str, Any]) -> str:
    """What the analysis was told to ignore or tolerate: part of being honest."""
    settings = report.get("settings")
    if not isinstance(settings, Mapping) or not settings:
        return ""
    rows = "".join(
        f"<tr><th>{e(k)}</th><td><code>{e(_json(v))}</code></td></tr>" for k, v in settings.items()
    )
    return (
        '<details class="settings"><summary>Analysis settings (ignored headers, tolerances, '
        f'thresholds)</summary><table class="meta"><tbody>{rows}</tbody></table></details>'
    )


def _json(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return d.value_text(value, 10_000)


def _confidence(report: Mapping[str, Any]) -> str:
    latency = (report.get("settings") or {}).get("latency") or {}
    level = latency.get("confidence") if isinstance(latency, Mapping) else None
    return f"{level:.0%} CI" if isinstance(level, int | float) and 0 < level < 1 else "CI"


def _footer(report: Mapping[str, Any]) -> str:
    version = e(report.get("report_version") or "?")
    return (
        f"<footer>report format {version} · the full data is in report.json beside this file"
        "</footer>"
    )
