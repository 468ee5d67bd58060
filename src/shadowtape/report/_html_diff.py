"""Side-by-side HTML diff of one example exchange: baseline left, candidate right.

Changed lines are tinted; lines that a finding points at (by JSON location, header name,
status or error) are marked and carry the finding's message. Long unchanged runs fold
away so a 16 KiB body with one changed price stays one screen tall. Every piece of
text from the exchange goes through `html.escape`: bodies are untrusted.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from html import escape

from shadowtape.report._body_lines import Line, body_lines, covers
from shadowtape.report._describe import kind_label
from shadowtape.report.model import Example, ExampleRequest, ExampleResponse, Finding

CONTEXT = 3
MAX_FOLDED = 400


def e(value: object) -> str:
    return escape(str(value), quote=True)


def example_html(example: Example, findings: Sequence[Finding], anchor: str) -> str:
    exchange_id = example.exchange_id
    mine = [f for f in findings if exchange_id in f.exchange_ids] or list(findings)
    request, base, cand = example.request, example.baseline, example.candidate
    parts = [
        f'<article class="example" id="{e(anchor)}">',
        '<header class="ex-head">',
        f'<code class="req">{e(request.method)} {e(request.url)}</code>',
        f'<span class="muted">exchange <code>{e(exchange_id)}</code></span>',
        "</header>",
        _meta_table(base, cand, mine),
        _headers_block(base, cand, mine),
        _request_block(request),
        _body_table(base.body, cand.body, mine),
        "</article>",
    ]
    return "".join(parts)


def _locations(findings: Sequence[Finding]) -> list[tuple[str, str]]:
    out = []
    for f in findings:
        message = f.message or kind_label(f.kind)
        out.append((f.location, f"{kind_label(f.kind)}: {message}"))
    return out


def _meta_table(base: ExampleResponse, cand: ExampleResponse, findings: Sequence[Finding]) -> str:
    locs = _locations(findings)
    status_hit = [m for loc, m in locs if loc in ("status", "error")]
    rows = [
        _pair_row(
            "status",
            _status(base),
            _status(cand),
            status_hit,
            base.status != cand.status,
        )
    ]
    if base.error or cand.error:
        rows.append(
            _pair_row(
                "error",
                base.error or "",
                cand.error or "",
                status_hit,
                True,
            )
        )
    return (
        '<table class="sbs meta"><thead><tr><th></th><th>baseline</th><th>candidate</th>'
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _status(side: ExampleResponse) -> str:
    return "no response" if side.status is None else str(side.status)


def _pair_row(label: str, left: str, right: str, hits: Sequence[str], differs: bool) -> str:
    cls = "hit" if hits else ("chg" if differs else "")
    title = f' title="{e("; ".join(hits))}"' if hits else ""
    return (
        f'<tr class="{cls}"{title}><th>{e(label)}</th>'
        f"<td><code>{e(left)}</code></td><td><code>{e(right)}</code></td></tr>"
    )


def _headers_block(
    base: ExampleResponse, cand: ExampleResponse, findings: Sequence[Finding]
) -> str:
    left = _header_map(base.headers)
    right = _header_map(cand.headers)
    if not left and not right:
        return ""
    hits: dict[str, list[str]] = {}
    for loc, message in _locations(findings):
        if loc.lower().startswith("header:"):
            hits.setdefault(loc[7:].strip().lower(), []).append(message)
    names = list(dict.fromkeys([*left, *right]))
    rows = [
        _pair_row(
            name,
            left.get(name, "—"),
            right.get(name, "—"),
            hits.get(name, ()),
            left.get(name) != right.get(name),
        )
        for name in names
    ]
    changed = sum(left.get(n) != right.get(n) for n in names)
    summary = f"Response headers ({len(names)}, {changed} differ)"
    return (
        f'<details class="headers"{" open" if hits else ""}><summary>{e(summary)}</summary>'
        '<table class="sbs meta"><tbody>' + "".join(rows) + "</tbody></table></details>"
    )


def _header_map(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, value in headers:
        name = raw_name.lower()
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _request_block(request: ExampleRequest) -> str:
    headers = _header_map(request.headers)
    body = request.body
    if not headers and not body:
        return ""
    rows = "".join(
        f"<tr><th>{e(n)}</th><td><code>{e(v)}</code></td></tr>" for n, v in headers.items()
    )
    body_html = f'<pre class="body">{e(body)}</pre>' if body else ""
    return (
        '<details class="request"><summary>Request headers and body</summary>'
        f'<table class="meta"><tbody>{rows}</tbody></table>{body_html}</details>'
    )


def _body_table(base_body: str | None, cand_body: str | None, findings: Sequence[Finding]) -> str:
    left, right = body_lines(base_body), body_lines(cand_body)
    if not left and not right:
        return '<p class="muted">No body on either side.</p>'
    locs = [(loc, m) for loc, m in _locations(findings) if loc.startswith(("$", "line:"))]
    rows: list[tuple[str, str, Line | None, int, Line | None, int]] = []
    matcher = difflib.SequenceMatcher(
        None, [x.text for x in left], [x.text for x in right], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                rows.append(("", "", left[i1 + k], i1 + k, right[j1 + k], j1 + k))
            continue
        cls = {"replace": "chg", "delete": "del", "insert": "ins"}[tag]
        for k in range(max(i2 - i1, j2 - j1)):
            lo = left[i1 + k] if i1 + k < i2 else None
            ro = right[j1 + k] if j1 + k < j2 else None
            rows.append((cls, cls, lo, i1 + k, ro, j1 + k))
    # Text findings (line:N) number the baseline's lines: match them on the left only.
    right_locs = [(loc, m) for loc, m in locs if not loc.startswith("line:")]
    marks = [_hits(r[2], locs) + _hits(r[4], right_locs) for r in rows]
    keep = [bool(r[0]) or bool(m) for r, m in zip(rows, marks, strict=True)]
    visible = _with_context(keep)
    out = [
        '<table class="sbs diff"><colgroup><col class="ln"><col><col class="ln"><col></colgroup>'
        "<thead><tr><th></th><th>baseline body</th><th></th><th>candidate body</th></tr></thead>"
    ]
    i = 0
    while i < len(rows):
        if visible[i]:
            out.append("<tbody>" if i == 0 or not visible[i - 1] else "")
            out.append(_diff_row(rows[i], marks[i]))
            if i + 1 == len(rows) or not visible[i + 1]:
                out.append("</tbody>")
            i += 1
            continue
        j = i
        while j < len(rows) and not visible[j]:
            j += 1
        out.append(_fold(rows[i:j], marks[i:j]))
        i = j
    if not any(keep):
        out.append(
            '<tbody><tr class="same"><td colspan="4">Bodies are identical.</td></tr></tbody>'
        )
    out.append("</table>")
    return "".join(out)


def _hits(line: Line | None, locs: Sequence[tuple[str, str]]) -> list[str]:
    if line is None:
        return []
    return [m for loc, m in locs if covers(loc, line.location)]


def _with_context(keep: Sequence[bool]) -> list[bool]:
    visible = [False] * len(keep)
    for i, k in enumerate(keep):
        if k:
            for j in range(max(0, i - CONTEXT), min(len(keep), i + CONTEXT + 1)):
                visible[j] = True
    return visible


def _fold(
    rows: Sequence[tuple[str, str, Line | None, int, Line | None, int]], marks: Sequence[list[str]]
) -> str:
    n = len(rows)
    label = f"{n:,} unchanged line{'s' if n != 1 else ''}"
    shown = rows[:MAX_FOLDED]
    body = "".join(_diff_row(r, m) for r, m in zip(shown, marks, strict=False))
    if n > MAX_FOLDED:
        body += (
            f'<tr class="same"><td colspan="4">{n - MAX_FOLDED:,} more unchanged lines '
            "not shown (see report.json)</td></tr>"
        )
    return (
        f'<tbody class="fold-toggle"><tr><td colspan="4"><button type="button" class="unfold">'
        f"⋯ show {e(label)}</button></td></tr></tbody>"
        f'<tbody class="folded" hidden>{body}</tbody>'
    )


def _diff_row(row: tuple[str, str, Line | None, int, Line | None, int], marks: list[str]) -> str:
    lcls, rcls, lo, li, ro, ri = row
    title = f' title="{e("; ".join(dict.fromkeys(marks)))}"' if marks else ""
    hit = " hit" if marks else ""
    return f'<tr class="{lcls}{hit}"{title}>{_cell(lo, li, lcls)}{_cell(ro, ri, rcls)}</tr>'


def _cell(line: Line | None, index: int, cls: str) -> str:
    if line is None:
        return '<td class="ln"></td><td class="code empty"></td>'
    side = f" {cls}" if cls else ""
    return f'<td class="ln">{index + 1}</td><td class="code{side}">{e(line.text)}</td>'
