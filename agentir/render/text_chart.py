"""A compact text chart of cumulative cost and context size per step, for Markdown reviews.

Two rows of block characters (one column per bucket of steps) and a row of numbered marks for
findings, all plain text meant for a fenced code block. Deterministic for the same input.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentir.render.svg_chart import ChartMark, ChartPoint

BLOCKS = "▁▂▃▄▅▆▇█"
COLUMNS = 60
_KEYS = "123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def mark_key(number: int) -> str:
    """The one-character key of mark `number` (1-based): 1-9, then letters, then `*`."""
    return _KEYS[number - 1] if 1 <= number <= len(_KEYS) else "*"


def _level(value: float, top: float) -> str:
    if top <= 0:
        return BLOCKS[0]
    index = round(value / top * (len(BLOCKS) - 1))
    return BLOCKS[max(0, min(len(BLOCKS) - 1, index))]


def render_text(
    points: Sequence[ChartPoint], marks: Sequence[ChartMark] = (), columns: int = COLUMNS
) -> str:
    """Rows `cost`, `context`, `marks` and the step range; a note when nothing to chart."""
    if not points:
        return "no model calls recorded: nothing to chart"
    seqs = [p.seq for p in points] + [m.seq for m in marks]
    lo, hi = min(seqs), max(seqs)
    width = max(1, min(columns, hi - lo + 1))
    span = hi - lo + 1

    def column(seq: int) -> int:
        return min(width - 1, (seq - lo) * width // span)

    cost: list[float | None] = [None] * width
    context = [0] * width
    for p in points:  # points are in step order: the last cost of a bucket is its cumulative
        c = column(p.seq)
        if p.cost is not None:
            cost[c] = p.cost
        context[c] = max(context[c], p.context)
    last = 0.0
    filled: list[float] = []
    for value in cost:  # carry the cumulative cost over buckets without a model call
        last = value if value is not None else last
        filled.append(last)
    peak = 0
    ctx_filled: list[int] = []
    for value in context:
        peak = value or peak
        ctx_filled.append(peak if value == 0 else value)
    top_cost = max(filled, default=0.0)
    top_ctx = max(ctx_filled, default=0)
    priced = any(p.cost is not None for p in points)
    row_marks = [" "] * width
    for mark in marks:
        c = column(mark.seq)
        row_marks[c] = "*" if row_marks[c] != " " else mark_key(mark.number)
    cost_row = "".join(_level(v, top_cost) for v in filled) if priced else "·" * width
    ctx_row = "".join(_level(v, top_ctx) for v in ctx_filled)
    cost_label = f"${top_cost:,.2f}" if priced else "unpriced"
    lines = [
        f"cost     {cost_row}  {cost_label}",
        f"context  {ctx_row}  {top_ctx:,} tokens",
    ]
    if marks:
        lines.append(f"marks    {''.join(row_marks).rstrip()}")
    steps = f"step {lo}"
    end = f"step {hi}"
    gap = max(1, width - len(steps) - len(end))
    lines.append(f"         {steps}{' ' * gap}{end}")
    return "\n".join(lines)
