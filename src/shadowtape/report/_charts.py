"""Latency histograms as inline SVG: no script, no fonts, no network, colours from CSS.

Bins are drawn at equal width whatever their edges (the analysis spaces them
logarithmically); ticks name the edges, and dashed (p50) and dotted (p95) lines mark
each side's percentiles. Counts may hold one bin per pair of edges, or also an
underflow and an overflow bin (len(edges) + 1); empty bins at either end are trimmed
so that a histogram spanning 0.1 ms to 100 s still shows where the requests are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from shadowtape.report._describe import DASH, ms
from shadowtape.report.model import Latency

WIDTH, HEIGHT = 640, 190
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 22, 34
Bin = tuple[float, float]  # (low, high) in ms; high may be inf
INFINITY = "\u221e"


def histogram_svg(latency: Latency, label: str) -> str:
    """The SVG for one endpoint's latency histogram, or '' when there is none to draw."""
    hist = latency.histogram
    if hist is None:
        return ""
    edges = _numbers(hist.edges_ms)
    counts = {"baseline": _numbers(hist.baseline), "candidate": _numbers(hist.candidate)}
    names = [n for n in ("baseline", "candidate") if counts[n]]
    series = [counts[n] for n in names]
    if len(edges) < 2 or not series or len({len(c) for c in series}) != 1:
        return ""
    bins = _bins(edges, len(series[0]))
    if bins is None:
        return ""
    used = [i for i in range(len(bins)) if any(c[i] for c in series)]
    if not used:
        return ""
    first, last = max(used[0] - 1, 0), min(used[-1] + 1, len(bins) - 1)
    bins = bins[first : last + 1]
    series = [c[first : last + 1] for c in series]
    return _draw(latency, label, bins, list(zip(names, series, strict=True)))


def _bins(edges: Sequence[float], n: int) -> list[Bin] | None:
    inner = [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]
    if n == len(edges) - 1:
        return inner
    if n == len(edges) + 1:
        return [(0.0, edges[0]), *inner, (edges[-1], math.inf)]
    return None


def _draw(
    latency: Latency, label: str, bins: list[Bin], series: list[tuple[str, list[float]]]
) -> str:
    peak = max(max(counts) for _, counts in series) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(bins)
    bar = slot * 0.84 / len(series)
    out = [
        f'<svg class="hist" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label, quote=True)}" xmlns="http://www.w3.org/2000/svg">',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" '
        f'y2="{TOP + plot_h}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{peak:,.0f}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for i, (lo, hi) in enumerate(bins):
        x0 = LEFT + i * slot + slot * 0.08
        tip = f"{_edge(lo)} {DASH} {_edge(hi)}: " + ", ".join(
            f"{name} {int(counts[i]):,}" for name, counts in series
        )
        out.append(f"<g><title>{escape(tip)}</title>")
        out.append(
            f'<rect class="slot" x="{LEFT + i * slot:.1f}" y="{TOP}" width="{slot:.1f}" '
            f'height="{plot_h}"/>'
        )
        for k, (name, counts) in enumerate(series):
            h = plot_h * counts[i] / peak
            out.append(
                f'<rect class="bar {name}" x="{x0 + k * bar:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{max(bar - 1, 1):.1f}" height="{h:.1f}"/>'
            )
        out.append("</g>")
    n = len(bins)
    for i in sorted({0, n // 4, n // 2, 3 * n // 4, n}):
        value = bins[i][0] if i < n else bins[-1][1]
        anchor = "start" if i == 0 else "end" if i == n else "middle"
        out.append(
            f'<text class="tick" x="{LEFT + i * slot:.1f}" y="{TOP + plot_h + 14}" '
            f'text-anchor="{anchor}">{escape(_edge(value))}</text>'
        )
    for name, _ in series:
        side = latency.baseline if name == "baseline" else latency.candidate
        for pct in ("p50", "p95"):
            x = _position(side.get(pct), bins)
            if x is None:
                continue
            px = LEFT + x * slot
            out.append(
                f'<line class="mark {name} {pct}" x1="{px:.1f}" y1="{TOP - 6}" x2="{px:.1f}" '
                f'y2="{TOP + plot_h}"><title>{name} {pct} {escape(ms(side.get(pct)))}</title>'
                "</line>"
            )
    out.append(
        f'<text class="axis-label" x="{LEFT + plot_w}" y="{HEIGHT - 4}" text-anchor="end">'
        "latency · dashed: p50 · dotted: p95</text></svg>"
    )
    return "".join(out)


def _edge(value: float) -> str:
    return INFINITY if math.isinf(value) else ms(value)


def _numbers(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values]


def _position(value: float | None, bins: Sequence[Bin]) -> float | None:
    """Where `value` falls, in bin units, or None when outside the drawn bins."""
    if not isinstance(value, int | float) or not bins[0][0] <= value:
        return None
    for i, (lo, hi) in enumerate(bins):
        if value <= hi:
            return i + ((value - lo) / (hi - lo) if math.isfinite(hi) and hi > lo else 0.0)
    return None
