"""An inline SVG chart of cumulative cost and context size per step, with findings marked.

Pure string building, deterministic (fixed number formatting, input order), no JavaScript and
no external references: the review's HTML page embeds it as is. Every piece of text in it is
XML-escaped here, since labels come from findings and findings quote traces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH = 960
HEIGHT = 320
LEFT, RIGHT, TOP, BOTTOM = 78, 86, 28, 52
COST_AREA = "#cfe3f5"  # a known fill: the browser test looks for it in the screenshot
COST_LINE = "#1f5f99"
CONTEXT_LINE = "#d9822b"
MARK_COLOURS = {"critical": "#b0182b", "high": "#d62839", "warning": "#c99a00", "info": "#6c757d"}


@dataclass(frozen=True)
class ChartPoint:
    """Cumulative cost (None when unpriced) and context size after the model call at `seq`."""

    seq: int
    cost: float | None
    context: int


@dataclass(frozen=True)
class ChartMark:
    """A step to mark: a finding or the first harmful action (`number` is its legend key)."""

    seq: int
    number: int
    label: str
    severity: str


def _n(value: float) -> str:
    return f"{value:.1f}"


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def _tokens(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:.0f}"


def render_svg(
    points: Sequence[ChartPoint], marks: Sequence[ChartMark] = (), *, title: str = ""
) -> str:
    """The chart as one `<svg>` element (empty-state text when there is no model call)."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f"aria-label={quoteattr(title or 'cumulative cost and context size per step')}>"
    )
    out = [head, f"<title>{escape(title or 'cumulative cost and context per step')}</title>"]
    out.append(
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff" stroke="#d0d7de"/>'
    )
    if not points:
        out.append(
            f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle" '
            'font-family="sans-serif" font-size="14" fill="#555">'
            "no model calls recorded: nothing to chart</text></svg>"
        )
        return "".join(out)
    seqs = [p.seq for p in points] + [m.seq for m in marks]
    lo, hi = min(seqs), max(seqs)
    span = max(hi - lo, 1)
    costs = [p.cost for p in points if p.cost is not None]
    max_cost = max(costs, default=0.0) or 1.0
    max_ctx = max((p.context for p in points), default=0) or 1

    def x(seq: int) -> float:
        return LEFT + (seq - lo) / span * plot_w

    def y_cost(value: float) -> float:
        return TOP + plot_h - value / max_cost * plot_h

    def y_ctx(value: float) -> float:
        return TOP + plot_h - value / max_ctx * plot_h

    base = TOP + plot_h
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#f8fafc"/>')
    for i in range(1, 4):  # light grid
        gy = _n(TOP + plot_h * i / 4)
        out.append(f'<line x1="{LEFT}" y1="{gy}" x2="{LEFT + plot_w}" y2="{gy}" stroke="#e5e9ef"/>')
    priced = [p for p in points if p.cost is not None]
    if priced:
        line = " ".join(f"{_n(x(p.seq))},{_n(y_cost(p.cost or 0.0))}" for p in priced)
        area = f"{_n(x(priced[0].seq))},{_n(base)} {line} {_n(x(priced[-1].seq))},{_n(base)}"
        out.append(f'<polygon class="cost-area" points="{area}" fill="{COST_AREA}"/>')
        out.append(
            f'<polyline class="cost" points="{line}" fill="none" stroke="{COST_LINE}" '
            'stroke-width="2"/>'
        )
    ctx_line = " ".join(f"{_n(x(p.seq))},{_n(y_ctx(p.context))}" for p in points)
    out.append(
        f'<polyline class="context" points="{ctx_line}" fill="none" stroke="{CONTEXT_LINE}" '
        'stroke-width="2" stroke-dasharray="6 3"/>'
    )
    for mark in marks:
        mx = _n(x(mark.seq))
        colour = MARK_COLOURS.get(mark.severity, MARK_COLOURS["high"])
        label = f"{mark.number}: step {mark.seq}: {mark.label}"
        out.append(
            f'<g class="mark"><title>{escape(label)}</title>'
            f'<line x1="{mx}" y1="{TOP}" x2="{mx}" y2="{_n(base)}" stroke="{colour}" '
            'stroke-width="1.5"/>'
            f'<circle cx="{mx}" cy="{TOP - 10}" r="8" fill="{colour}"/>'
            f'<text x="{mx}" y="{TOP - 6}" text-anchor="middle" font-family="sans-serif" '
            f'font-size="10" fill="#ffffff">{mark.number}</text></g>'
        )
    font = 'font-family="sans-serif" font-size="11"'
    out.append(
        f'<line x1="{LEFT}" y1="{_n(base)}" x2="{LEFT + plot_w}" y2="{_n(base)}" stroke="#57606a"/>'
    )
    out.append(f'<text x="{LEFT}" y="{_n(base + 14)}" {font} fill="#333">step {lo}</text>')
    out.append(
        f'<text x="{LEFT + plot_w}" y="{_n(base + 14)}" text-anchor="end" {font} '
        f'fill="#333">step {hi}</text>'
    )
    out.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 22}" text-anchor="middle" {font} '
        'fill="#333">step (event sequence number in the trace)</text>'
    )
    cost_top = _money(max(costs)) if costs else "unpriced"
    out.append(
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" {font} fill="{COST_LINE}">'
        f"{escape(cost_top)}</text>"
        f'<text x="{LEFT - 6}" y="{_n(base)}" text-anchor="end" {font} fill="{COST_LINE}">'
        "$0</text>"
        f'<text x="{LEFT + plot_w + 6}" y="{TOP + 4}" {font} fill="{CONTEXT_LINE}">'
        f"{_tokens(max_ctx)} tok</text>"
        f'<text x="{LEFT + plot_w + 6}" y="{_n(base)}" {font} fill="{CONTEXT_LINE}">0</text>'
    )
    out.append(
        f'<text x="{LEFT}" y="{HEIGHT - 6}" {font} fill="{COST_LINE}">'
        "━ cumulative cost (left axis)</text>"
        f'<text x="{LEFT + 220}" y="{HEIGHT - 6}" {font} fill="{CONTEXT_LINE}">'
        "┅ context size per call (right axis)</text>"
        f'<text x="{LEFT + 480}" y="{HEIGHT - 6}" {font} fill="{MARK_COLOURS["high"]}">'
        "● numbered marks: findings and the first harmful step</text>"
    )
    out.append("</svg>")
    return "".join(out)
